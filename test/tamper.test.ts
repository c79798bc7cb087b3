import { expect } from 'chai';
import { generateKeyPairSync, verify as verifySignature, createPublicKey } from 'node:crypto';
import canonicalize from 'canonicalize';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ConfigError, loadConfig } from '../api/config.js';
import { createSystem, deployProcesses } from '../api/system.js';
import type { Db } from '../db/connect.js';
import { eventHash } from '../engine/history.js';
import { freshDb, ON_POSTGRES, type TestDb } from './helpers/db.js';
import { ROOT, testConfig, testSystem, type TestSystem } from './helpers/system.js';
import { createLogger } from '../api/logger.js';
import { join } from 'node:path';

type Key = { Authorization: string; id: string };

/** A fresh Ed25519 key, as an operator makes one (openssl genpkey -algorithm ed25519), in PEM. */
function newKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

const INTAKE = { description: 'Rác thải sinh hoạt không được thu gom nhiều ngày.', field: 'MOI-TRUONG', citizenName: 'Trần Văn Bình', citizenPhone: '0909123456', channel: 'call' };

/** Whether a query is refused, and the database's message. */
async function refused(q: Promise<unknown>): Promise<string> {
  try {
    await q;
  } catch (err: any) {
    return String(err?.message);
  }
  return 'not refused';
}

/**
 * The attacks of issue 16, each made directly on the database (by the
 * application's own role where it can, by the owner with the triggers off
 * where it cannot — someone who holds the database but not the signing key),
 * each reported by verify. On PostgreSQL the node runs as the application's
 * login role (a member of pakn_app); the embedded database has one role.
 */
describe('Tamper evidence that holds: roles, signed checkpoints, task rows (issue 16)', () => {
  let t: TestDb;
  let app: Db;
  let s: TestSystem;
  const keys: Record<string, Key> = {};
  const cases: Record<string, { id: string; code: string }> = {};

  const verify = async (query = '') => {
    const res = await s.http.get(`/v1/history/verify${query}`).set(keys.auditor);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };
  const head = (caseId: string) => t.db('case_events').where({ case_id: caseId }).orderBy('seq', 'desc').first();
  /** A superuser with every trigger off (session_replication_role): what a database administrator without the signing key can do. */
  const asOwnerWithoutTriggers = (fn: (trx: any) => Promise<unknown>) =>
    t.db.transaction(async (trx) => {
      await trx.raw('set local session_replication_role = replica');
      await fn(trx);
    });

  before(async function () {
    // Deploying the shipped processes on a busy machine may take longer than a step.
    this.timeout(120_000);
    t = await freshDb();
    app = t.application() ?? t.db;
    const processesDir = join(ROOT, 'processes');
    s = await testSystem(app, { processesDir, checkpointKeyPem: newKeyPem() });
    await deployProcesses(s, processesDir);
    keys.operator = await s.as('operator', 'TONG-DAI-1022', 'Tổng đài viên');
    keys.auditor = await s.as('auditor', null, 'Kiểm tra viên');
    keys.SNNMT = await s.as('agency', 'SNNMT', 'Cán bộ SNNMT');
    keys['CONG-AN'] = await s.as('agency', 'CONG-AN', 'Cán bộ Công an');
    for (const name of ['forged', 'tail', 'task', 'claimed', 'row']) {
      const res = await s.http.post('/v1/cases').set(keys.operator).send({ variables: { ...INTAKE, title: `Rác thải ùn ứ (${name})` } });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      cases[name] = { id: res.body.id, code: res.body.code };
    }
    const task = (await s.http.get(`/v1/cases/${cases.claimed.code}`).set(keys.SNNMT)).body.tasks[0];
    expect((await s.http.post(`/v1/tasks/${task.id}/claim`).set(keys.SNNMT)).status).to.equal(200);
    // A checkpoint covers what was stamped more than a minute before it.
    s.clock.advance(10 * 60_000);
  });
  after(async () => {
    await s?.close();
    await t?.close();
  });

  describe('The application runs as a role that can only append history', () => {
    (ON_POSTGRES ? it : it.skip)('Given PostgreSQL, the node connects as a login role of pakn_app that owns nothing', async () => {
      const { rows } = await app.raw(`select current_user as me, pg_has_role(current_user, (select relowner from pg_class where oid = 'case_events'::regclass), 'USAGE') as owner`);
      expect(rows[0]).to.deep.equal({ me: 'pakn_test_app', owner: false });
    });

    (ON_POSTGRES ? it : it.skip)('Given the application role, dropping or disabling the append-only triggers, UPDATE, DELETE, TRUNCATE and DDL are refused (PostgreSQL only: the embedded database has one role)', async () => {
      expect(await refused(app.raw('drop trigger case_events_no_update on case_events'))).to.match(/must be owner/);
      expect(await refused(app.raw('alter table case_events disable trigger user'))).to.match(/must be owner/);
      expect(await refused(app.raw('update case_events set type = ? where case_id = ?', ['rewritten', cases.tail.id]))).to.match(/permission denied/);
      expect(await refused(app.raw('delete from case_events where case_id = ?', [cases.tail.id]))).to.match(/permission denied/);
      expect(await refused(app.raw('truncate case_events'))).to.match(/permission denied/);
      expect(await refused(app.raw('delete from history_checkpoints'))).to.match(/permission denied/);
      expect(await refused(app.raw('create table shadow (id int)'))).to.match(/permission denied/);
      const part = (await app.raw(`select tableoid::regclass::text as p from case_events limit 1`)).rows[0].p;
      expect(await refused(app.raw(`delete from ${part}`))).to.match(/permission denied/);
    });

    (ON_POSTGRES ? it : it.skip)('Given the two connection settings, a node migrates as the owner and then serves as the application role (PostgreSQL only: the embedded database has one role)', async () => {
      const appUrl = new URL(t.url!);
      appUrl.username = 'pakn_test_app';
      const node = await createSystem(testConfig({ databaseUrl: appUrl.toString(), migrationDatabaseUrl: t.url }), { log: createLogger('silent') });
      try {
        expect((await node.db.raw('select current_user as me')).rows[0].me).to.equal('pakn_test_app');
        expect(await refused(node.db.raw('alter table case_events disable trigger user'))).to.match(/must be owner/);
      } finally {
        await node.close();
      }
    });

    it('Given the settings, a checkpoint key that is not an Ed25519 private key stops the boot naming the file and how to make one', () => {
      const dir = mkdtempSync(join(tmpdir(), 'pakn-key-'));
      writeFileSync(join(dir, 'rsa.pem'), generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
      expect(() => loadConfig({ PAKN_CHECKPOINT_KEY_FILE: join(dir, 'rsa.pem') })).to.throw(ConfigError, /is not an Ed25519 private key.*openssl genpkey -algorithm ed25519/);
      expect(() => loadConfig({ PAKN_CHECKPOINT_KEY_FILE: join(dir, 'missing.pem') })).to.throw(ConfigError, /cannot be read/);
      expect(() => loadConfig({ PAKN_MIGRATION_DATABASE_URL: 'mysql://x' })).to.throw(ConfigError, /PAKN_MIGRATION_DATABASE_URL must be a postgres/);
      writeFileSync(join(dir, 'ed.pem'), newKeyPem());
      expect(loadConfig({ PAKN_CHECKPOINT_KEY_FILE: join(dir, 'ed.pem') })).to.include({ checkpointIntervalMinutes: 60 });
    });

    it('Given the owner itself, TRUNCATE of the history (or of one month) is refused by a trigger', async () => {
      expect(await refused(t.db.raw('truncate case_events'))).to.match(/append-only \(TRUNCATE refused\)/);
      const part = (await t.db.raw(`select tableoid::regclass::text as p from case_events limit 1`)).rows[0].p;
      expect(await refused(t.db.raw(`truncate ${part}`))).to.match(/append-only \(TRUNCATE refused\)/);
      expect(await refused(t.db.raw('truncate history_checkpoints cascade'))).to.match(/append-only/);
    });
  });

  describe('Signed checkpoints', () => {
    let checkpointId: string;

    it('Given an auditor, POST /v1/history/checkpoints signs the history now; verify then compares with it and finds nothing', async () => {
      const res = await s.http.post('/v1/history/checkpoints').set(keys.auditor).send({});
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.include({ reason: 'on-demand', createdBy: keys.auditor.id });
      expect(res.body.cases).to.equal(5);
      checkpointId = res.body.id;
      const report = await verify();
      expect(report.problems).to.deep.equal([]);
      expect(report).to.include({ ok: true, casesChecked: 5, tasksChecked: 5 });
      expect(report.checkpoint.id).to.equal(checkpointId);
    });

    it('Given the export of a checkpoint, an auditor checks it outside the system with the public key alone', async () => {
      const list = await s.http.get('/v1/history/checkpoints').set(keys.auditor);
      expect(list.body.checkpoints.map((c: any) => c.id)).to.include(checkpointId);
      const res = await s.http.get(`/v1/history/checkpoints/${checkpointId}`).set(keys.auditor);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ holds: true, problem: null });
      expect(res.body.heads).to.have.length(5);
      const valid = verifySignature(null, Buffer.from(canonicalize(res.body.statement)!), createPublicKey(res.body.publicKey), Buffer.from(res.body.signature, 'base64'));
      expect(valid).to.equal(true);
      // The exact bytes signed are exported too, so openssl alone checks them (docs/auditor-guide.md 2.7.2).
      expect(res.body.signedText).to.equal(canonicalize(res.body.statement));
      expect((await s.http.get('/v1/history/checkpoints/999999').set(keys.auditor)).status).to.equal(404);
      expect((await s.http.get('/v1/history/checkpoints').set(keys.operator)).status).to.equal(403);
    });

    it('Given a node without a signing key, a checkpoint cannot be made (409, naming the setting)', async () => {
      const other = await testSystem(app, { processesDir: join(ROOT, 'processes') }, { clock: s.clock });
      try {
        const auditor = await other.as('auditor', null, 'Kiểm tra viên 2');
        const res = await other.http.post('/v1/history/checkpoints').set(auditor).send({});
        expect(res.status).to.equal(409);
        expect(res.body.detail).to.match(/PAKN_CHECKPOINT_KEY_FILE/);
      } finally {
        await other.close();
      }
    });
  });

  describe('Attacks, each reported by verify', () => {
    it('Given a forged event INSERTed with the application’s role and a correctly recomputed hash, dated before the checkpoint, verify reports it inserted at its position', async () => {
      const last = await head(cases.forged.id);
      const forged: any = {
        case_id: cases.forged.id,
        seq: last.seq + 1,
        type: 'task.completed',
        element_id: 'handle',
        element_name: 'Xử lý, trả lời phản ánh',
        element_type: 'bpmn:UserTask',
        actor_id: keys.SNNMT.id,
        actor_roles: ['agency'],
        actor_agency: 'SNNMT',
        request_id: null,
        payload: { output: { outcome: 'answer', answer: 'Đã xử lý đúng hạn.' } },
        at: new Date(new Date(last.at).getTime() + 1000),
      };
      forged.prev_hash = last.hash;
      forged.hash = eventHash(last.hash, forged);
      await app('case_events').insert({ ...forged, payload: JSON.stringify(forged.payload) });
      const report = await verify();
      expect(report.ok).to.equal(false);
      const found = report.problems.filter((p: any) => p.caseCode === cases.forged.code);
      expect(found).to.have.length(1);
      expect(found[0]).to.include({ kind: 'inserted', seq: last.seq + 1 });
      expect(found[0].reason).to.match(/before checkpoint/);
    });

    it('Given a second event at a position the chain already has (same seq, another time), verify reports it inserted', async () => {
      const first = await t.db('case_events').where({ case_id: cases.forged.id, seq: 2 }).first();
      const copy: any = { ...first, at: new Date(new Date(first.at).getTime() + 5) };
      delete copy.id;
      copy.hash = eventHash(copy.prev_hash, copy);
      await app('case_events').insert({ ...copy, payload: JSON.stringify(copy.payload) });
      const report = await verify(`?case=${cases.forged.code}`);
      expect(report.problems.some((p: any) => p.kind === 'inserted' && p.seq === 2)).to.equal(true);
    });

    it('Given the last events of a case deleted (the tail), verify reports them deleted from the end against the checkpoint', async () => {
      const last = await head(cases.tail.id);
      await asOwnerWithoutTriggers((trx) => trx('case_events').where({ case_id: cases.tail.id }).where('seq', '>', last.seq - 3).delete());
      const report = await verify();
      const found = report.problems.filter((p: any) => p.caseCode === cases.tail.code);
      // The tail held the task's creation too: its open row now disagrees with what is left of the history.
      expect(found.map((p: any) => p.kind)).to.deep.equal(['deleted', 'task-row']);
      expect(found[0]).to.include({ kind: 'deleted', seq: last.seq - 2 });
      expect(found[0].reason).to.match(new RegExp(`last 3 event\\(s\\) \\(${last.seq - 2} to ${last.seq}\\)`));
      expect(report.counts.deleted).to.equal(1);
    });

    it('Given a task’s candidate groups changed in SQL, another agency’s completion is refused (409, naming the disagreement) and the case is unchanged; verify reports the row', async () => {
      const before = (await s.http.get(`/v1/cases/${cases.task.code}`).set(keys.auditor)).body;
      const task = before.tasks[0];
      await app('tasks').where({ id: task.id }).update({ candidate_groups: ['CONG-AN'] });
      const res = await s.http.post(`/v1/tasks/${task.id}/complete`).set(keys['CONG-AN']).send({ outcome: 'answer', answer: 'Công an đã xử lý.' });
      expect(res.status, JSON.stringify(res.body)).to.equal(409);
      expect(res.body.detail).to.match(/candidate groups are \["CONG-AN"\] in the row but \["SNNMT"\] in the history/);
      const after = (await s.http.get(`/v1/cases/${cases.task.code}`).set(keys.auditor)).body;
      expect(after.status).to.equal('running');
      expect(after.tasks.map((x: any) => x.id)).to.deep.equal([task.id]);
      expect((await head(cases.task.id)).seq).to.equal(Math.max(...(await t.db('case_events').where({ case_id: cases.task.id }).pluck('seq'))));
      const report = await verify();
      const rows = report.problems.filter((p: any) => p.kind === 'task-row' && p.caseCode === cases.task.code);
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include({ caseCode: cases.task.code, taskId: task.id });
    });

    it('Given a claimed task’s assignee cleared in SQL, claiming it again is refused, naming the assignee the history gives', async () => {
      const task = (await s.http.get(`/v1/cases/${cases.claimed.code}`).set(keys.auditor)).body.tasks[0];
      await app('tasks').where({ id: task.id }).update({ assignee: null });
      const res = await s.http.post(`/v1/tasks/${task.id}/claim`).set(keys['SNNMT']);
      expect(res.status, JSON.stringify(res.body)).to.equal(409);
      expect(res.body.detail).to.contain(`the assignee is null in the row but "${keys.SNNMT.id}" in the history`);
    });

    it('Given a task row deleted in SQL (the task vanishes from every inbox), verify reports the task the history has open', async () => {
      const task = (await s.http.get(`/v1/cases/${cases.row.code}`).set(keys.auditor)).body.tasks[0];
      await app('tasks').where({ id: task.id }).delete();
      const report = await verify(`?case=${cases.row.code}`);
      expect(report.problems).to.have.length(1);
      expect(report.problems[0]).to.include({ kind: 'task-row', caseCode: cases.row.code, taskId: task.id });
      expect(report.problems[0].reason).to.match(/the history has it open \(created at event \d+\) but its row is gone/);
    });

    it('Given the deadline passes and the timers withdraw the agencies’ tasks, the rows and the history agree again (a cancelled task needs no row)', async () => {
      s.clock.advance({ days: 30 });
      await s.executor.drain();
      const report = await verify();
      expect(report.problems.filter((p: any) => p.kind === 'task-row')).to.deep.equal([]);
      expect(report.tasksChecked).to.be.greaterThan(0);
    });

    it('Given a checkpoint forged with another key, verify reports it and compares with the newest one that holds', async () => {
      const genuine = await t.db('history_checkpoints').orderBy('id', 'desc').first();
      const [{ id }] = await app('history_checkpoints')
        .insert({ ...genuine, id: undefined, statement: JSON.stringify(genuine.statement), key_id: 'ffffffffffffffff', as_of: new Date(new Date(genuine.as_of).getTime() + 1000) })
        .returning('id');
      const report = await verify();
      expect(report.problems.filter((p: any) => p.kind === 'checkpoint').map((p: any) => p.checkpointId)).to.deep.equal([String(id)]);
      expect(report.checkpoint.id).to.equal(String(genuine.id));
    });

    it('Given the history TRUNCATEd (triggers off, as the owner), verify reports every case missing instead of "ok with 0 cases"', async () => {
      await asOwnerWithoutTriggers((trx) => trx.raw('truncate case_events'));
      const report = await verify();
      expect(report.ok).to.equal(false);
      expect(report.casesChecked).to.equal(0);
      const missing = report.problems.filter((p: any) => p.kind === 'missing-case');
      expect(missing.filter((p: any) => p.caseId).map((p: any) => p.caseCode)).to.have.members(Object.values(cases).map((c) => c.code));
      expect(missing.filter((p: any) => !p.caseId).map((p: any) => p.reason)).to.deep.equal([missing.find((p: any) => !p.caseId).reason]);
      expect(missing.find((p: any) => !p.caseId).reason).to.match(/the system chain is gone/);
    });
  });
});

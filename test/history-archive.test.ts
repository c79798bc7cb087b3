import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { deployProcesses } from '../api/system.js';
import { CHECKPOINT_JOB } from '../engine/checkpoints.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { ROOT, testSystem, type TestSystem } from './helpers/system.js';

type Key = { Authorization: string; id: string };

/**
 * Issue 16, item 4: archiving the oldest month keeps verify whole. The
 * periodic checkpoint job signs the start of each month; a chain whose first
 * months are archived is verified from it, and an event appended to a case
 * whose whole history is archived continues its chain instead of restarting it.
 */
describe('Archived months: chains continue and verify from the month-start checkpoint', () => {
  let t: TestDb;
  let s: TestSystem;
  const keys: Record<string, Key> = {};
  const cases: Record<string, { id: string; code: string }> = {};

  before(async function () {
    // Deploying the shipped processes on a busy machine may take longer than a step.
    this.timeout(120_000);
    t = await freshDb();
    // The months this test writes in (November and December 2026, the node's clock), whatever today's date is.
    await t.db.raw(`select pakn_ensure_event_partitions('2026-11-01'::date, 2)`);
    const processesDir = join(ROOT, 'processes');
    const keyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    s = await testSystem(t.application() ?? t.db, { processesDir, checkpointKeyPem: keyPem, checkpointIntervalMinutes: 60 });
    await deployProcesses(s, processesDir);
    keys.operator = await s.as('operator', 'TONG-DAI-1022', 'Tổng đài viên');
    keys.auditor = await s.as('auditor', null, 'Kiểm tra viên');
    keys.pii = await s.as(['auditor', 'pii'], null, 'Thanh tra có quyền xem dữ liệu cá nhân');
    keys.SNNMT = await s.as('agency', 'SNNMT', 'Cán bộ SNNMT');
    for (const name of ['continues', 'archived']) {
      const res = await s.http.post('/v1/cases').set(keys.operator).send({ variables: { title: `Nước thải (${name})`, description: 'Nước thải xả ra kênh gây mùi hôi.', field: 'MOI-TRUONG', channel: 'call' } });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      cases[name] = { id: res.body.id, code: res.body.code };
    }
  });
  after(async () => {
    await s?.close();
    await t?.close();
  });

  it('Given a node with a key, the checkpoint is a periodic job; run in December it signs the start of the month, then now, and waits an interval', async () => {
    s.clock.set('2026-12-02T02:00:00.000Z');
    const job = await t.db('jobs').where({ type: CHECKPOINT_JOB, status: 'pending' }).first();
    expect(job, 'the checkpoint job scheduled at start').to.not.equal(undefined);
    await s.jobHandlers[CHECKPOINT_JOB](job);
    const made = await t.db('history_checkpoints').orderBy('id').select('reason', 'as_of', 'cases');
    expect(made.map((c) => [c.reason, new Date(c.as_of).toISOString(), c.cases])).to.deep.equal([
      ['month-start', '2026-11-30T17:00:00.000Z', 2],
      ['scheduled', '2026-12-02T01:59:00.000Z', 2],
    ]);
    const next = await t.db('jobs').where({ id: job.id }).first();
    expect(next).to.include({ status: 'pending', attempts: 0 });
    expect(new Date(next.due_at).toISOString()).to.equal('2026-12-02T03:00:00.000Z');
  });

  it('Given November archived (detached and dropped) after one case went on in December, verify is ok: that chain is verified from the month-start checkpoint, the other is archived whole', async () => {
    const task = (await s.http.get(`/v1/cases/${cases.continues.code}`).set(keys.SNNMT)).body.tasks[0];
    expect((await s.http.post(`/v1/tasks/${task.id}/claim`).set(keys.SNNMT)).status).to.equal(200);
    await t.db.raw('alter table case_events detach partition case_events_y2026m11');
    await t.db.raw('drop table case_events_y2026m11');
    const res = await s.http.get('/v1/history/verify').set(keys.auditor);
    expect(res.body.problems).to.deep.equal([]);
    expect(res.body).to.include({ ok: true });
    expect(res.body.archived).to.deep.equal({ chains: 1, missingCases: 2, liveFrom: '2026-12' }); // the whole case and the system chain
    // The task created in November may still be acted on: its creation is in the archive.
    expect((await s.http.post(`/v1/tasks/${task.id}/unclaim`).set(keys.SNNMT)).status).to.equal(200);
  });

  it('Given a new event on a case whose whole history is archived, its chain continues (seq and link), and verify stays ok', async () => {
    const before = await t.db('history_heads').where({ chain: cases.archived.id }).first();
    expect((await s.http.get(`/v1/cases/${cases.archived.code}/history`).set(keys.pii)).status).to.equal(200);
    const [read] = await t.db('case_events').where({ case_id: cases.archived.id });
    expect(read).to.include({ type: 'pii.read', seq: before.seq + 1, prev_hash: before.hash });
    const res = await s.http.get('/v1/history/verify').set(keys.auditor);
    expect(res.body.problems).to.deep.equal([]);
    expect(res.body.archived.chains).to.equal(2);
  });

  it('Given the first events of a live chain deleted rather than archived, no checkpoint anchors it and verify says so, naming the case', async () => {
    await t.db.transaction(async (trx) => {
      await trx.raw('set local session_replication_role = replica');
      const first = await trx('case_events').where({ case_id: cases.continues.id }).min('seq as seq').first();
      await trx('case_events').where({ case_id: cases.continues.id, seq: first!.seq }).delete();
    });
    const res = await s.http.get('/v1/history/verify').set(keys.auditor);
    expect(res.body.ok).to.equal(false);
    expect(res.body.problems).to.have.length(1);
    expect(res.body.problems[0]).to.include({ kind: 'deleted', caseCode: cases.continues.code, seq: 1 });
    expect(res.body.problems[0].reason).to.match(/no signed checkpoint anchors/);
  });
});

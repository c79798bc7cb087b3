import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { deployProcesses } from '../../api/system.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { ROOT, testSystem, type TestSystem } from '../helpers/system.js';

/**
 * A black-box check of the auditor guide (2026-12-08): with a case's last events deleted by the database's
 * owner (triggers off), verify reported them deleted against the newest checkpoint — until the next checkpoint,
 * hourly by default, signed the shortened chain: verify compares with the newest checkpoint that holds, and the
 * deletion vanished. A checkpoint now signs only a history that still holds every head the previous one signed:
 * otherwise 409 naming the case, nothing signed, and verify keeps reporting the deletion.
 */
describe('Regression: a checkpoint is not signed over a history rewritten since the previous one', () => {
  let t: TestDb;
  let s: TestSystem;
  let auditor: { Authorization: string; id: string };
  let operator: { Authorization: string; id: string };
  before(async function () {
    this.timeout(120_000);
    t = await freshDb();
    const processesDir = join(ROOT, 'processes');
    s = await testSystem(t.application() ?? t.db, { processesDir, checkpointKeyPem: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    await deployProcesses(s, processesDir);
    auditor = await s.as('auditor', null, 'Kiểm tra viên');
    operator = await s.as('operator', 'TONG-DAI-1022', 'Tổng đài viên');
  });
  after(async () => {
    await s?.close();
    await t?.close();
  });

  const intake = async (title: string) => {
    const res = await s.http.post('/v1/cases').set(operator).send({ variables: { title, description: 'Rác thải không được thu gom.', field: 'MOI-TRUONG', channel: 'call' } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string; code: string };
  };
  const checkpoint = () => s.http.post('/v1/history/checkpoints').set(auditor).send({});

  it('Given a checkpoint, when more cases come and a new checkpoint is made, then it is signed (the history only grew)', async () => {
    await intake('Rác thải ùn ứ (1)');
    s.clock.advance(10 * 60_000); // a checkpoint covers what was stamped more than a minute before it
    expect((await checkpoint()).status).to.equal(201);
    await intake('Rác thải ùn ứ (2)');
    s.clock.advance(10 * 60_000);
    expect((await checkpoint()).status).to.equal(201);
  });

  it('Given a case’s last events deleted by the owner with the triggers off, when a checkpoint is asked, then 409 names the case and verify still reports the deletion', async () => {
    const kase = await intake('Rác thải ùn ứ (3)');
    s.clock.advance(10 * 60_000);
    expect((await checkpoint()).status).to.equal(201);
    const last = await t.db('case_events').where({ case_id: kase.id }).max('seq as seq').first();
    await t.db.transaction(async (trx) => {
      await trx.raw('set local session_replication_role = replica');
      await trx('case_events').where({ case_id: kase.id }).where('seq', '>', Number(last!.seq) - 2).delete();
    });
    s.clock.advance(10 * 60_000);
    const refused = await checkpoint();
    expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
    expect(refused.body.detail).to.include(`case ${kase.code} at seq ${last!.seq} (gone)`);
    const verify = await s.http.get(`/v1/history/verify?case=${kase.code}`).set(auditor);
    expect(verify.body.problems.map((p: { kind: string }) => p.kind)).to.include('deleted');
  });
});

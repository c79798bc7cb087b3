import { expect } from 'chai';
import * as engineStateJson from '../../db/migrations/20261207130000_engine_state_json.js';
import { freshDb, ON_POSTGRES, type TestDb } from '../helpers/db.js';
import { fixture, testSystem, type TestSystem } from '../helpers/system.js';

/**
 * Issue 20: every command wrote the case's whole engine state as jsonb, whose
 * conversion parses, sorts and indexes every key of a state with thousands of
 * them: for a shipped case (22.7 KB of JSON) an update took 2.69 ms and a read
 * 1.17 ms on the benchmark machine; as json, 0.69 and 0.40 ms, and 3.9 KB stored
 * instead of 6.6. The state is stored as json now; cases written before the
 * migration go on, whichever way it is applied.
 */
describe('Regression: the engine state is stored as json, and cases go on across the migration both ways', () => {
  let t: TestDb;
  let s: TestSystem;
  const operator = { id: 'test:operator', name: 'Tổng đài viên', roles: ['operator'], agency: null };
  const agency = { id: 'test:agency', name: 'Sở NN&MT', roles: ['agency'], agency: 'SNNMT' };
  const intake = { title: 'Phản ánh thử', description: 'Nội dung phản ánh.', channel: 'call', agency: 'SNNMT' };

  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    await s.definitions.deploy(fixture('simple.bpmn'), { deployedBy: 'test' });
  });
  after(() => t.close());

  const columnType = async () =>
    ((await t.db.raw(`select data_type from information_schema.columns where table_schema = current_schema() and table_name = 'cases' and column_name = 'engine_state'`)).rows[0] as { data_type: string }).data_type;

  it('Given the migrated database, then cases.engine_state is json', async () => {
    expect(await columnType()).to.equal('json');
  });

  it('Given a case written as json, when the migration is undone (jsonb) and applied again (json), then the case is recovered from its stored state each time and completes', async () => {
    const a = await s.runtime.startCase({ processKey: 'simple', variables: intake, actor: operator });
    const b = await s.runtime.startCase({ processKey: 'simple', variables: intake, actor: operator });
    const stored = async (caseId: string) => (await t.db('cases').where({ id: caseId }).first('engine_state')).engine_state;
    const before = await stored(a.caseId);
    // After each step a node started anew (its own connections, no cached engine), as after an upgrade or a rollback.
    const restarted = () => testSystem(ON_POSTGRES ? t.another() : t.db);
    await t.db.transaction((trx) => engineStateJson.down(trx));
    expect(await columnType()).to.equal('jsonb');
    expect(await stored(a.caseId)).to.deep.equal(before);
    const taskA = await t.db('tasks').where({ case_id: a.caseId }).first('id');
    expect((await (await restarted()).runtime.completeTask({ taskId: taskA.id, output: {}, actor: agency })).status).to.equal('completed');
    await t.db.transaction((trx) => engineStateJson.up(trx));
    expect(await columnType()).to.equal('json');
    const taskB = await t.db('tasks').where({ case_id: b.caseId }).first('id');
    expect((await (await restarted()).runtime.completeTask({ taskId: taskB.id, output: {}, actor: agency })).status).to.equal('completed');
  });
});

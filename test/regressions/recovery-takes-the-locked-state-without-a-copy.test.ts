import { expect } from 'chai';
import type { Knex } from 'knex';
import { freshDb, type TestDb } from '../helpers/db.js';
import { fixture, testSystem, type TestSystem } from '../helpers/system.js';

/**
 * Issue 20: every recovery copied the stored state with structuredClone
 * before the engine took it (the engine changes it as it recovers): 0.17 ms
 * for a shipped case's state, twice its JSON.parse, in every timer firing and
 * every command whose engine the node did not keep. A command's lock parses
 * the state for that command alone, so the runtime hands it over uncopied;
 * any other caller still gets a copy.
 */
describe('Regression: a command recovers from the state its lock parsed, without copying it', () => {
  let t: TestDb;
  let s: TestSystem;
  const operator = { id: 'test:operator', name: 'Tổng đài viên', roles: ['operator'], agency: null };
  const agency = { id: 'test:agency', name: 'Sở NN&MT', roles: ['agency'], agency: 'SNNMT' };
  const intake = { title: 'Phản ánh thử', description: 'Nội dung phản ánh.', channel: 'call', agency: 'SNNMT' };

  before(async () => {
    t = await freshDb();
    // No engine kept: every command recovers.
    s = await testSystem(t.db, { engineCacheSize: 0 });
    await s.definitions.deploy(fixture('simple.bpmn'), { deployedBy: 'test' });
  });
  after(() => t.close());

  /** How many times structuredClone ran during `run`. */
  async function clonesDuring(run: () => Promise<unknown>): Promise<number> {
    const original = globalThis.structuredClone;
    let clones = 0;
    globalThis.structuredClone = ((value: unknown, options?: StructuredSerializeOptions) => {
      clones++;
      return original(value, options);
    }) as typeof structuredClone;
    try {
      await run();
    } finally {
      globalThis.structuredClone = original;
    }
    return clones;
  }

  it('Given a case the node does not keep, when its task is completed, then the engine is recovered without a copy of the state and the case completes', async () => {
    const started = await s.runtime.startCase({ processKey: 'simple', variables: intake, actor: operator });
    const task = await t.db('tasks').where({ case_id: started.caseId }).first('id');
    let status = '';
    expect(await clonesDuring(async () => (status = (await s.runtime.completeTask({ taskId: task.id, output: {}, actor: agency })).status))).to.equal(0);
    expect(status).to.equal('completed');
  });

  it('Given a state some other caller holds, when a session recovers from it, then the session works on a copy and the caller’s object is unchanged', async () => {
    const started = await s.runtime.startCase({ processKey: 'simple', variables: intake, actor: operator });
    const { engine_state: state, definition_id: definitionId } = await t.db('cases').where({ id: started.caseId }).first('engine_state', 'definition_id');
    const before = JSON.stringify(state);
    const session = s.runtime.session(t.db as unknown as Knex.Transaction, started.caseId, await s.definitions.context(definitionId));
    try {
      expect(await clonesDuring(() => session.recover(state))).to.equal(1);
      expect(session.waiting().map((w) => w.id)).to.have.length(1);
    } finally {
      session.dispose();
    }
    expect(JSON.stringify(state)).to.equal(before);
  });
});

import { expect } from 'chai';
import { DefinitionStore } from '../../engine/definitions.js';
import { Runtime } from '../../engine/runtime.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { fixture } from '../helpers/system.js';

// Bug: a node whose definition cache was empty loaded the diagram context with
// a query outside the command's transaction. The embedded database has one
// connection, held by that transaction, so the command waited forever (the
// first timer fired after a restart hung the job executor). A hang shows as
// this test's own mocha timeout; no timer of ours races the command.
describe('Regression: loading a diagram context inside a command', () => {
  let t: TestDb;
  before(async () => {
    t = await freshDb();
  });
  after(() => t.close());

  it('Given a fresh node with an empty cache, when it completes a task of an existing case, then the command finishes', async function () {
    this.timeout(20_000);
    const actor = { id: 'test', name: 'test', roles: ['agency'], agency: 'SNNMT' };
    const policy = { assertMay: () => undefined };
    const first = new Runtime(t.db, new DefinitionStore(t.db), { policy });
    await first.definitions.deploy(fixture('simple.bpmn'), { deployedBy: 'test' });
    const started = await first.startCase({ processKey: 'simple', actor });
    const task = await t.db('tasks').where({ case_id: started.caseId }).first('id');

    const restarted = new Runtime(t.db, new DefinitionStore(t.db), { policy });
    const result = await restarted.completeTask({ taskId: task.id, output: {}, actor });
    expect(result).to.include({ status: 'completed' });
  });
});

import { expect } from 'chai';
import { lockCaseOfTask } from '../../db/cases.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { fixture, testSystem, type TestSystem } from '../helpers/system.js';

/**
 * Issue 20: a task command's lock brought the case's engine state, and the driver parsed it (14 KB on the
 * shipped diagram, 0.25–0.3 ms) even when the node kept the case's engine and never recovers it. The lock
 * now reads it as text, parsed on first read of engine_state; but the forms lookup of every task command
 * (FormStore.prepareTask, to find a called process's version) read engine_state, so the parse only moved
 * there (0.06 -> 0.4 ms). It now looks at the text, and parses only when the case has called a process.
 */
describe('Regression: a task command reads the locked engine state as text unless it recovers the engine', () => {
  let t: TestDb;
  let s: TestSystem;
  const operator = { id: 'test:operator', name: 'Tổng đài viên', roles: ['operator'], agency: null };
  const intake = { title: 'Phản ánh thử', description: 'Nội dung phản ánh.', channel: 'call', agency: 'SNNMT' };

  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    await s.definitions.deploy(fixture('simple.bpmn'), { deployedBy: 'test' });
  });
  after(async () => {
    await t.close();
  });

  async function locked() {
    const started = await s.runtime.startCase({ processKey: 'simple', variables: intake, actor: operator });
    const task = await t.db('tasks').where({ case_id: started.caseId }).first();
    const row = await t.db.transaction(async (trx) => lockCaseOfTask(trx, task.id));
    return { task, row: row! };
  }

  it('Given an open task, when its case is locked, then the state comes as the stored text and parses, when read, to the stored state', async () => {
    const { row } = await locked();
    const stored = await t.db('cases').where({ id: row.id }).first('engine_state');
    expect(row.engineStateText).to.be.a('string');
    expect(JSON.parse(row.engineStateText!)).to.deep.equal(stored.engine_state);
    expect(row.engine_state).to.deep.equal(stored.engine_state);
  });

  it('Given a locked case that called no process, when the forms of its task are looked up, then its engine state is not parsed', async () => {
    const { task, row } = await locked();
    Object.defineProperty(row, 'engine_state', {
      get() {
        throw new Error('engine_state was read: the state was parsed');
      },
    });
    await t.db.transaction(async (trx) => s.forms.prepareTask(trx, task, row));
    // Taken by the output check, as a completion would.
    expect(() => s.forms.checkTask(task, {})).to.not.throw();
  });
});

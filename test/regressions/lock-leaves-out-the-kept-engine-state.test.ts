import { expect } from 'chai';
import { lockCaseOfTask } from '../../db/cases.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { fixture, testSystem, type TestSystem } from '../helpers/system.js';

/**
 * Issue 20: every command's lock brought the case's whole engine state (22.6
 * KB of text for a shipped case) even when the node kept the case's engine at
 * the row's version and so never read it: 0.2–0.4 ms of a lock on the
 * benchmark machine. The command now tells the lock the version it keeps
 * (engine/engine-cache.ts peek), and the lock leaves the state out when the
 * row is at that version — unless the case has called a process, whose
 * version a task command reads from the state (its forms). When the kept
 * engine cannot be used after all (a timer fell due, or it was evicted
 * meanwhile), the state is read under the same lock: engine/engine-cache.test.ts,
 * "a kept engine whose boundary timer has fallen due".
 */
describe('Regression: the lock leaves out the engine state of a case whose engine the node keeps', () => {
  let t: TestDb;
  let keeps: TestSystem;
  let keepsNothing: TestSystem;
  let operator: { Authorization: string };
  let agency: { Authorization: string };
  /** The engine state each command's lock brought: null when left out. */
  let lockedStates: Array<string | null>;

  before(async function () {
    this.timeout(60_000);
    t = await freshDb();
    keeps = await testSystem(t.db, { engineCacheSize: 50 });
    keepsNothing = await testSystem(t.db, { engineCacheSize: 0 });
    for (const f of ['simple.bpmn', 'call-quality-check.bpmn', 'call-parent.bpmn']) await keeps.definitions.deploy(fixture(f), { deployedBy: 'test' });
    operator = await keeps.as('operator');
    agency = await keeps.as('agency', 'SNNMT', 'Cán bộ Sở Nông nghiệp và Môi trường');
    t.db.on('query-response', (response: unknown, query: { sql?: string }) => {
      if (lockedStates && /for update of "c"/.test(String(query.sql))) lockedStates.push((response as { engine_state: string | null }).engine_state);
    });
  });
  after(() => t.close());

  async function start(s: TestSystem, process: string, variables: Record<string, unknown> = {}) {
    const res = await s.http.post('/v1/cases').set(operator).send({ process, variables: { title: 'Phản ánh thử', description: 'Nội dung phản ánh thử.', channel: 'call', agency: 'SNNMT', ...variables } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  }
  async function complete(s: TestSystem, taskId: string, body: Record<string, unknown>) {
    lockedStates = [];
    const res = await s.http.post(`/v1/tasks/${taskId}/complete`).set(agency).send(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  }

  it('Given a case the node keeps, when its task is completed, then the lock brings no engine state and the case completes', async () => {
    const kase = await start(keeps, 'simple');
    const hits = keeps.runtime.engines.hits;
    const done = await complete(keeps, kase.tasks[0].id, {});
    expect(lockedStates).to.deep.equal([null]);
    expect(keeps.runtime.engines.hits).to.equal(hits + 1);
    expect(done.caseStatus).to.equal('completed');
  });

  it('Given a node that keeps no engine, when a task is completed, then the lock brings the stored state', async () => {
    const kase = await start(keepsNothing, 'simple');
    const stored = (await t.db('cases').where({ id: kase.id }).first('engine_state')).engine_state;
    await complete(keepsNothing, kase.tasks[0].id, {});
    expect(lockedStates).to.have.length(1);
    expect(JSON.parse(lockedStates[0]!)).to.deep.equal(stored);
  });

  it('Given a case waiting in a called process, when it is locked naming its current version as kept, then the lock still brings the state (a task command reads the called version’s forms from it), and the case goes on', async () => {
    const kase = await start(keeps, 'call-parent');
    await complete(keeps, kase.tasks[0].id, { answerText: 'Đã sửa đường ống.' });
    const [review] = await t.db('tasks').where({ case_id: kase.id, element_id: 'qcReview' });
    expect(review, 'the called process’s task').to.not.equal(undefined);
    // A node keeps no engine running a called process (EngineSession.reusable), but the lock does not count on it.
    const { version } = await t.db('cases').where({ id: kase.id }).first('version');
    const row = await t.db.transaction((trx) => lockCaseOfTask(trx, review.id, { caseId: kase.id, version }));
    expect(row!.stateLeftOut).to.equal(false);
    expect(row!.engineStateText).to.be.a('string').that.includes('"callActivities"');
    await complete(keeps, review.id, { verdict: 'ok' });
    expect(lockedStates).to.have.length(1);
    expect(lockedStates[0]).to.be.a('string');
  });
});

import { expect } from 'chai';
import { ManualClock } from '../engine/clock.js';
import { EngineSession } from '../engine/session.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { fixture, testSystem, TEST_START, type TestSystem } from './helpers/system.js';

/**
 * The engine cache (engine/engine-cache.ts): a node keeps a case's live
 * engine after a command and uses it again only while the locked case row's
 * version proves it current. These tests run with the cache on whatever
 * PAKN_ENGINE_CACHE says (the rest of the suite runs with it on and off).
 */
describe('Engine cache', () => {
  let t: TestDb;
  let a: TestSystem;
  let b: TestSystem;
  let off: TestSystem;
  let operator: { Authorization: string };
  let agency: { Authorization: string };
  const clock = new ManualClock(TEST_START);

  before(async function () {
    this.timeout(120_000); // three nodes on one database
    t = await freshDb();
    a = await testSystem(t.db, { engineCacheSize: 50 }, { clock });
    b = await testSystem(t.another(), { engineCacheSize: 50 }, { clock });
    off = await testSystem(t.db, { engineCacheSize: 0 }, { clock });
    for (const f of ['gateway-no-default.bpmn', 'timer-boundary.bpmn']) await a.definitions.deploy(fixture(f), { deployedBy: 'test' });
    operator = await a.as('operator');
    agency = await a.as('agency', 'SNNMT');
  });
  after(async () => {
    await b.close();
    await t.close();
  });

  async function start(s: TestSystem, process: string, variables: Record<string, unknown> = {}) {
    const res = await s.http.post('/v1/cases').set(operator).send({ process, variables: { title: 'Phản ánh thử', description: 'Nội dung phản ánh thử.', channel: 'call', ...variables } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  }
  const history = async (caseId: string) => (await t.db('case_events').where({ case_id: caseId }).orderBy('seq')).map((e) => `${e.type} ${e.element_id ?? ''} ${e.actor_id}`);
  const taskElements = async (caseId: string) => (await t.db('tasks').where({ case_id: caseId })).map((x) => x.element_id);

  describe('Given one node that ran the case’s last command', () => {
    it('When the next command comes, then it uses the kept engine and writes the same history as a recovery', async () => {
      const hitsBefore = a.runtime.engines.hits;
      const cached = await start(a, 'gateway-no-default', { dueText: 'P2D' });
      const done = await a.http.post(`/v1/tasks/${cached.tasks[0].id}/complete`).set(agency).send({ choice: 'yes' });
      expect(done.status, JSON.stringify(done.body)).to.equal(200);
      expect(a.runtime.engines.hits).to.equal(hitsBefore + 1);

      const recovered = await start(off, 'gateway-no-default', { dueText: 'P2D' });
      const again = await off.http.post(`/v1/tasks/${recovered.tasks[0].id}/complete`).set(agency).send({ choice: 'yes' });
      expect(again.status, JSON.stringify(again.body)).to.equal(200);

      expect(await history(cached.id)).to.deep.equal(await history(recovered.id));
      const state = async (id: string) => (await t.db('cases').where({ id }).first('variables', 'status', 'version'));
      expect(await state(cached.id)).to.deep.equal(await state(recovered.id));
      expect(await taskElements(cached.id)).to.deep.equal(['next']);
    });
  });

  describe('Given two nodes with a cache each', () => {
    it('When the other node moved the case, then this node’s kept engine is not used: it recovers the stored state', async () => {
      const kase = await start(a, 'gateway-no-default', { dueText: 'P2D' }); // node A keeps the engine at "first"
      const moved = await b.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(agency).send({ choice: 'yes' });
      expect(moved.status, JSON.stringify(moved.body)).to.equal(200); // node B: the case waits at "next" now
      const [next] = await t.db('tasks').where({ case_id: kase.id });
      expect(next.element_id).to.equal('next');

      const missesBefore = a.runtime.engines.misses;
      // A stale engine still waits at "first" and would refuse "next" (409) or, worse, act on the old step.
      const done = await a.http.post(`/v1/tasks/${next.id}/complete`).set(agency).send({});
      expect(done.status, JSON.stringify(done.body)).to.equal(200);
      expect(a.runtime.engines.misses).to.equal(missesBefore + 1);
      const events = await history(kase.id);
      expect(events.filter((e) => e.startsWith('task.completed'))).to.have.length(2);
      expect(events.filter((e) => e.startsWith('case.completed'))).to.have.length(1);
    });
  });

  describe('Given a command that fails after its engine moved', () => {
    it('When it rolls back, then the engine it moved is dropped and the next command starts from the stored case', async () => {
      const kase = await start(a, 'gateway-no-default', { dueText: 'not a date' });
      const before = await t.db('cases').where({ id: kase.id }).first('version', 'engine_state');
      const failed = await a.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(agency).send({ choice: 'yes' });
      expect(failed.status).to.equal(422);
      expect(await t.db('cases').where({ id: kase.id }).first('version', 'engine_state')).to.deep.equal(before);

      // The engine went past "first" before the save failed; had it been kept, "first" would no longer be waiting.
      const ok = await a.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(agency).send({ choice: 'yes', dueText: 'P2D' });
      expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
      expect(await taskElements(kase.id)).to.deep.equal(['next']);
      expect((await history(kase.id)).filter((e) => e.startsWith('task.completed'))).to.have.length(1);
    });
  });

  describe('Given a kept engine whose boundary timer has fallen due', () => {
    it('When a command comes, then the case is recovered so the timer fires first, as without the cache', async () => {
      const kase = await start(a, 'timer-boundary', { agency: 'SNNMT', timeout: 'PT1H' });
      clock.advance(2 * 3_600_000);
      const missesBefore = a.runtime.engines.misses;
      const res = await a.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(agency).send({ outcome: 'answer' });
      // Recovered, the timer fires during resume and ends the task: the completion is refused (and rolled back).
      // The kept engine never saw the timer fall due and would have completed the task.
      expect(res.status, JSON.stringify(res.body)).to.equal(409);
      expect(res.body.detail).to.match(/no longer waiting/);
      expect(a.runtime.engines.misses).to.equal(missesBefore + 1);
      expect(await taskElements(kase.id)).to.deep.equal(['answer']);
    });
  });

  describe('Given engines the node does not keep', () => {
    /** Counts how engines are let go of while `run` runs: released (listeners dropped) or stopped. */
    async function lettingGo(run: () => Promise<void>) {
      const calls = { released: 0, stopped: 0 };
      const { release, dispose } = EngineSession.prototype;
      EngineSession.prototype.release = function (this: EngineSession) {
        calls.released++;
        return release.call(this);
      };
      EngineSession.prototype.dispose = function (this: EngineSession) {
        calls.stopped++;
        return dispose.call(this);
      };
      try {
        await run();
      } finally {
        Object.assign(EngineSession.prototype, { release, dispose });
      }
      return calls;
    }

    it('When commands settle with the cache off, then each engine is released, not stopped; when one fails part-way, its engine is stopped', async () => {
      // Stopping a waiting engine publishes a stop through every element: 5-13 ms for the shipped diagram.
      let kase: any;
      const settled = await lettingGo(async () => {
        kase = await start(off, 'gateway-no-default', { dueText: 'P2D' });
        const moved = await off.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(agency).send({ choice: 'yes' });
        expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
      });
      expect(settled).to.deep.equal({ released: 2, stopped: 0 });

      const other = await start(off, 'gateway-no-default', { dueText: 'P2D' });
      const failed = await lettingGo(async () => {
        const res = await off.http.post(`/v1/tasks/${other.tasks[0].id}/complete`).set(agency).send({ choice: 'maybe' });
        expect(res.status).to.equal(422);
      });
      expect(failed).to.deep.equal({ released: 0, stopped: 1 });
      expect(await taskElements(kase.id)).to.deep.equal(['next']);
      expect(await taskElements(other.id)).to.deep.equal(['decide']);
    });
  });
});

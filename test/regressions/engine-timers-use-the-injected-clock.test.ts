import { expect } from 'chai';
import { ManualClock } from '../../engine/clock.js';
import { DefinitionStore } from '../../engine/definitions.js';
import { Runtime } from '../../engine/runtime.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { fixture } from '../helpers/system.js';

// Bug: bpmn-elements computed a timer's expiry with new Date(), so a runtime
// given a clock armed its timers by the system time and found them due by the
// system time: with a test clock moved forward nothing fired, and with the
// system date past a timeDate every such timer fired at once.
// patches/bpmn-elements+17.3.0.patch lets the engine's Timers supply "now".
describe('Regression: engine timers run on the injected clock', () => {
  let t: TestDb;
  before(async () => {
    t = await freshDb();
  });
  after(() => t.close());

  it('Given a runtime on a clock at 2026-12-07, when a case waits at a 10-minute timer, then its job is due at clock + 10 min and it fires when the clock passes it, not before', async () => {
    const clock = new ManualClock('2026-12-07T02:00:00.000Z');
    const runtime = new Runtime(t.db, new DefinitionStore(t.db), { clock, policy: { assertMay: () => undefined } });
    await runtime.definitions.deploy(fixture('timer-catch.bpmn'), { deployedBy: 'test' });
    const actor = { id: 'test:operator', name: 'Operator', roles: ['operator'], agency: null };
    const started = await runtime.startCase({ processKey: 'timer-catch', variables: { delay: 'PT10M' }, actor });

    const [job] = await t.db('jobs').where({ case_id: started.caseId, type: 'timer' });
    expect(new Date(job.due_at).toISOString()).to.equal('2026-12-07T02:10:00.000Z');

    clock.advance({ minutes: 9, seconds: 59 });
    expect(await runtime.fireTimer(job.id), 'not due by the engine clock: the job stays').to.equal('pending');
    expect(await t.db('tasks').where({ case_id: started.caseId }).pluck('element_id')).to.deep.equal([]);
    const still = await t.db('jobs').where({ case_id: started.caseId, type: 'timer', status: 'pending' });
    expect(still.map((j) => new Date(j.due_at).toISOString())).to.deep.equal(['2026-12-07T02:10:00.000Z']);

    clock.advance({ seconds: 1 });
    expect(await runtime.fireTimer(job.id)).to.equal('fired');
    expect(await t.db('tasks').where({ case_id: started.caseId }).pluck('element_id')).to.deep.equal(['after']);
    expect(await t.db('jobs').where({ case_id: started.caseId, type: 'timer' })).to.have.length(0);
    const fired = await t.db('case_events').where({ case_id: started.caseId, type: 'timer.fired' }).first('at');
    expect(new Date(fired.at).toISOString()).to.equal('2026-12-07T02:10:00.000Z');
  });
});

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildContext, parseBpmn } from '../../engine/bpmn.js';
import { EngineSession } from '../../engine/session.js';
import { FIXTURES } from '../helpers/system.js';
import { freshDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Discards are stopped where they cannot reach a parallel join (engine/discard-pruning.ts).
 * A parallel join still has to hear that a branch was not taken, or it waits forever.
 */
describe('Regression: pruned discards still reach parallel joins', () => {
  async function session(file: string) {
    const context = buildContext(await parseBpmn(readFileSync(file, 'utf8')));
    return new EngineSession('test', context, { functions: {}, decide: async () => null });
  }

  it('Given an inclusive split where one branch is not taken, when the other branch completes, then the parallel join goes on', async () => {
    const s = await session(join(FIXTURES, 'inclusive-join.bpmn'));
    await s.start({ needA: true, needB: false });
    expect(s.waitingActivities().map((w) => w.id)).to.deep.equal(['askA']);
    s.waitingActivities()[0].api.signal({});
    await s.settle();
    expect(s.waitingActivities().map((w) => w.id)).to.deep.equal(['summary']);
    s.dispose();
  });

  it('Given both branches taken, then the join waits for both', async () => {
    const s = await session(join(FIXTURES, 'inclusive-join.bpmn'));
    await s.start({ needA: true, needB: true });
    expect(s.waitingActivities().map((w) => w.id).sort()).to.deep.equal(['askA', 'askB']);
    s.waitingActivities().find((w) => w.id === 'askA')!.api.signal({});
    await s.settle();
    expect(s.waitingActivities().map((w) => w.id)).to.deep.equal(['askB']);
    s.waitingActivities()[0].api.signal({});
    await s.settle();
    expect(s.waitingActivities().map((w) => w.id)).to.deep.equal(['summary']);
    s.dispose();
  });

  it('Given a diagram without a parallel join, when an exclusive split does not take a branch, then the pruned discard publishes nothing and the case ends as before', async () => {
    // Issue 20: a pruned discard published the engine's 'looped' event instead (three broker messages each, 80 of a shipped
    // completion's 587); the process only used it to check whether it had ended, which the discarding activity's leave does.
    const s = await session(join(FIXTURES, 'gateway-no-default.bpmn'));
    const flowEvents: string[] = [];
    s.engine.broker.subscribeTmp('event', 'flow.#', (routingKey: string, message: any) => flowEvents.push(`${routingKey} ${message.content.id}`), { noAck: true });
    await s.start({});
    s.waitingActivities()[0].api.signal({ choice: 'no' });
    await s.settle();
    expect(s.ended).to.equal(true);
    expect(flowEvents.filter((e) => e.startsWith('flow.looped'))).to.deep.equal([]);
    expect(flowEvents).to.include('flow.take no');
    expect(flowEvents).to.not.include('flow.discard yes');
    s.dispose();
  });

  it('Given the shipped diagram (no parallel join), when a case reaches the coordinator, then no discarded flow is left queued in its saved state', async () => {
    const t = await freshDb();
    try {
      const h = await Hotline.open(t.db);
      const kase = await h.intake({ title: 'Phản ánh không đúng thẩm quyền', field: 'DAT-DAI', citizenPhone: '0912345678' });
      await h.act(kase.code, 'handle', 'SNNMT', { outcome: 'notCompetent', returnReason: 'Không thuộc thẩm quyền' });
      const row = await t.db('cases').where({ code: kase.code }).first('definition_id', 'engine_state');
      // Recovered on the node's clock, as the runtime would: no timer of the case falls due by the machine's date.
      const s = new EngineSession('test', await h.s.definitions.context(row.definition_id), { functions: {}, decide: async () => null, clock: h.s.clock });
      await s.recover(row.engine_state);
      // Unpruned, the escalation paths not taken (overdue, reopen, limit) pile up here as discards waiting for "coordinate".
      expect(s.waiting().map((w) => w.id)).to.deep.equal(['coordinate']);
      s.dispose();
    } finally {
      await t.close();
    }
  });
});

import * as Elements from 'bpmn-elements';

/**
 * bpmn-elements propagates a "discard" down every path not taken, activity by
 * activity, until it meets a loop: that is how a parallel join learns that a
 * branch will never arrive. On the shipped diagram (≈100 elements, many
 * merges and loop-backs) one start of a case publishes ≈25 000 broker messages
 * this way, and one command costs ≈200 ms of CPU. Only a parallel gateway
 * with more than one incoming flow ever waits for a discard (in bpmn-elements
 * 17 inclusive and exclusive merges run on the first arrival), so a discard
 * whose target cannot reach such a join is stopped where it starts, as the
 * engine stops a discard that loops, but without its 'looped' event (below).
 *
 * Which flows still carry discards is computed once per deployed diagram
 * (per serialized context) and looked up by the flow's behaviour object,
 * which the context hands to every engine built from it. A flow not found
 * keeps the engine's own behaviour.
 */
const discardMatters = new WeakMap<object, boolean>();

export function markDiscardFlows(context: any): void {
  const flows: any[] = context.getSequenceFlows?.() ?? [];
  const activities: any[] = context.getActivities?.() ?? [];
  const outbound = new Map<string, string[]>();
  for (const f of flows) outbound.set(f.sourceId, [...(outbound.get(f.sourceId) ?? []), f.targetId]);
  const inboundCount = new Map<string, number>();
  for (const f of flows) inboundCount.set(f.targetId, (inboundCount.get(f.targetId) ?? 0) + 1);
  const joins = new Set(activities.filter((a) => a.type === 'bpmn:ParallelGateway' && (inboundCount.get(a.id) ?? 0) > 1).map((a) => a.id));
  // Boundary events leave their task through the task's discard too: follow attachments.
  for (const a of activities) {
    const attachedTo = a.behaviour?.attachedTo?.id;
    if (attachedTo) outbound.set(attachedTo, [...(outbound.get(attachedTo) ?? []), a.id]);
  }
  const reachesJoin = new Map<string, boolean>();
  const search = (id: string): boolean => {
    const known = reachesJoin.get(id);
    if (known !== undefined) return known;
    reachesJoin.set(id, false); // a loop back to a node being searched adds nothing
    const result = joins.has(id) || (outbound.get(id) ?? []).some(search);
    reachesJoin.set(id, result);
    return result;
  };
  // Sub-processes: a join inside one is reached through the sub-process itself; keep their discards.
  const subProcesses = new Set(activities.filter((a) => a.type === 'bpmn:SubProcess').map((a) => a.id));
  for (const f of flows) {
    if (!f.behaviour || typeof f.behaviour !== 'object') continue;
    const matters = joins.size > 0 && (search(f.targetId) || subProcesses.has(f.targetId));
    discardMatters.set(f.behaviour, matters);
  }
}

const SequenceFlow = (Elements as any).SequenceFlow;
const engineDiscard = SequenceFlow.prototype.discard;
SequenceFlow.prototype.discard = function discard(this: any, content: any = {}) {
  if (discardMatters.get(this.behaviour) !== false) return engineDiscard.call(this, content);
  // Nothing to publish: the engine's own 'looped' event only makes the process check whether it has ended, which
  // the discarding activity's own leave, right after, checks again.
  return undefined;
};

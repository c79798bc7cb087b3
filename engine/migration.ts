import type { SourceContext } from './bpmn.js';
import type { Problem } from './validate.js';

/** Where each waiting element of a case goes in the target version: old id → new id. */
export type ActivityMapping = Record<string, string>;

export interface WaitingElement {
  id: string;
  type: string;
  name: string | null;
  /** The task a boundary event is attached to. */
  attachedTo?: string | null;
  /** The sub-process (or process) the element runs in. */
  parent?: string | null;
}

export interface MigrationPlan {
  /** One per waiting element that cannot be placed; empty when the case can move. */
  problems: Problem[];
  /** Waiting elements whose id changes (old → new); elements kept under the same id are not listed. */
  moves: Array<{ from: string; to: string; type: string }>;
}

/**
 * Check that every element a case waits at has a counterpart in the target
 * version: the same id, or the id `mapping` names; of the same type (a
 * waiting user task cannot become a timer), in the corresponding parent, and
 * for a boundary event attached to the counterpart of its task. Mapping
 * entries that name no element of the target are refused too.
 */
export function planMigration(waiting: WaitingElement[], target: SourceContext, mapping: ActivityMapping, targetVersion: number): MigrationPlan {
  const problems: Problem[] = [];
  const refuse = (elementId: string | null, message: string) => problems.push({ elementId, rule: 'migration-mapping', severity: 'error', message });
  const counterpart = (id: string) => mapping[id] ?? id;
  const find = (id: string): any => (target as any).getActivityById(id);

  for (const [from, to] of Object.entries(mapping)) {
    if (!find(to)) refuse(from, `The mapping sends "${from}" to "${to}", which is not an element of version ${targetVersion}.`);
  }
  /** Why `w` cannot become element `to` of the target ('' when already reported), or null when it can. */
  const placementProblem = (w: WaitingElement, to: string): string | null => {
    const element = find(to);
    const label = `"${w.name ?? w.id}" (${w.id})`;
    if (!element) {
      return w.id in mapping
        ? '' // the bad mapping entry is already reported
        : `The case waits at ${label}, which version ${targetVersion} does not have: map it to an element of version ${targetVersion}, e.g. "mapping": {"${w.id}": "<new element id>"}.`;
    }
    if (element.type !== w.type) {
      return `The case waits at ${label}, a ${w.type.replace('bpmn:', '')}; "${to}" in version ${targetVersion} is a ${String(element.type).replace('bpmn:', '')}. Map it to an element of the same kind.`;
    }
    const parent = element.parent?.id ?? null;
    if (w.parent && parent && parent !== counterpart(w.parent)) {
      return `${label} runs in "${w.parent}", but "${to}" in version ${targetVersion} is inside "${parent}": map it to an element in the same sub-process.`;
    }
    const attachedTo = element.behaviour?.attachedTo?.id ?? null;
    if (w.attachedTo && attachedTo !== counterpart(w.attachedTo)) {
      return `${label} is attached to "${w.attachedTo}", but "${to}" in version ${targetVersion} is attached to "${attachedTo ?? 'nothing'}". Map it to a boundary event of "${counterpart(w.attachedTo)}".`;
    }
    return null;
  };
  const moves: MigrationPlan['moves'] = [];
  const unplaced = new Set<string>();
  // Tasks before the boundary events attached to them: a boundary event of an unplaced task is not a second problem.
  const ordered = [...waiting].sort((a, b) => Number(Boolean(a.attachedTo)) - Number(Boolean(b.attachedTo)));
  for (const w of ordered) {
    if (w.attachedTo && unplaced.has(w.attachedTo)) continue;
    const problem = placementProblem(w, counterpart(w.id));
    if (problem !== null) {
      if (problem) refuse(w.id, problem);
      unplaced.add(w.id);
    } else if (counterpart(w.id) !== w.id) {
      moves.push({ from: w.id, to: counterpart(w.id), type: w.type });
    }
  }
  return { problems, moves };
}

/** Fields of a saved engine state that name an element; everything else (execution ids, queue names) is opaque. */
const ELEMENT_REFERENCES = new Set(['id', 'attachedTo', 'sourceId', 'targetId']);

/**
 * A saved engine state with element ids renamed per `mapping`, so that it
 * recovers against the target version's diagram. bpmn-elements looks an
 * activity up by the `id` in its state and in the messages queued for it;
 * boundary events by `attachedTo`. Returns a copy.
 */
export function remapState(state: unknown, mapping: ActivityMapping): unknown {
  const rename = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rename);
    if (!value || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = ELEMENT_REFERENCES.has(key) && typeof v === 'string' && Object.hasOwn(mapping, v) ? mapping[v] : rename(v);
    }
    return out;
  };
  return rename(state);
}

import { extensionProperties, type SourceContext } from '../bpmn.js';

/** What a citizen may be told about a case, in the order a case goes through them. */
export const PUBLIC_STATUSES = ['received', 'handling', 'waiting-citizen', 'reviewing', 'answered', 'closed'] as const;
export type PublicStatus = (typeof PUBLIC_STATUSES)[number];

/**
 * Versions deployed before user tasks carried a `publicStatus` property are
 * read by their step ids, as the first shipped diagram named them.
 */
const BY_ELEMENT_ID: Record<string, PublicStatus> = { classify: 'received', handle: 'handling', coordinate: 'handling', review: 'reviewing' };

/** When several tasks are open, the one furthest along speaks for the case. */
const PRECEDENCE: PublicStatus[] = ['reviewing', 'handling', 'received', 'answered'];

/**
 * Where a case stands for the public lookup, read from the same rows the
 * workflow writes. Each user task names its status in the diagram
 * (camunda:property publicStatus), so analysts who add or rename steps say
 * what a citizen sees there, without a code change.
 */
export function publicStatusOf(status: string, openTaskElements: string[], variables: Record<string, unknown>, context: SourceContext | undefined): PublicStatus {
  if (status === 'completed') return 'closed';
  const statuses = new Set<string>();
  for (const id of openTaskElements) {
    const declared = extensionProperties((context as any)?.getActivityById?.(id)?.behaviour).publicStatus;
    const s = declared ?? BY_ELEMENT_ID[id];
    if (s) statuses.add(s);
  }
  const first = PRECEDENCE.find((s) => statuses.has(s));
  if (first) return first;
  if (variables.outcome === 'moreInfo' && !openTaskElements.length) return 'waiting-citizen';
  return variables.answer ? 'answered' : 'handling';
}

/**
 * The access policy: who may see or do what. This is the one file that
 * decides it. Routes name the action they serve (`access: ACCESS.startCase`)
 * and ask the functions below about a case or a task; the runtime's commands
 * receive the caller and ask the same functions on the locked, current row
 * (through RuntimeOptions.policy), so no path — route, CLI, demo, benchmark —
 * bypasses it.
 *
 * Everything here is a pure function of the caller and facts about the
 * case or task (which the caller gathers from the database): no I/O, so the
 * security matrix test can read it as a table.
 */
import { ConflictError, ForbiddenError } from '../errors.js';
import type { Actor } from '../actor.js';
import { PERSONAL_VARIABLES } from './contract.js';

export const ROLES = ['operator', 'agency', 'coordinator', 'reviewer', 'analyst', 'auditor', 'admin', 'pii', 'gateway'] as const;
export type Role = (typeof ROLES)[number];
/** Roles that work on tasks, so a diagram may name them as candidate groups (agencies are named by their codes). */
export const TASK_ROLES: readonly Role[] = ['operator', 'coordinator', 'reviewer'];

/** Who is asking: an API principal or a command's actor (both carry roles and an agency). */
export interface Caller {
  id: string;
  roles: readonly string[];
  agency: string | null;
}

const STAFF: Role[] = ['operator', 'agency', 'coordinator', 'reviewer', 'auditor', 'analyst', 'admin'];

/**
 * Which roles may call each action at all (the route's first gate; 403
 * naming the roles otherwise). What they may do with a particular case or
 * task is decided by the functions below.
 */
export const ACCESS = {
  // Cases
  startCase: ['operator'],
  readCase: STAFF,
  deliverMessage: ['operator', 'coordinator'],
  migrateCase: ['analyst'],
  // Tasks: any staff role may call; the task itself decides (taskAccess)
  tasks: STAFF,
  // History
  readCaseHistory: ['auditor', 'reviewer', 'coordinator', 'agency', 'admin'],
  verifyHistory: ['auditor'],
  exportHistory: ['auditor'],
  // Definitions
  deployDefinition: ['analyst'],
  validateDefinition: ['analyst'],
  readDefinitions: ['analyst', 'auditor'],
  activateDefinition: ['analyst'],
  dryRun: ['analyst'],
  migrateCases: ['analyst'],
  // Runtime incidents (held timers, tasks for nobody): who follows them up and fixes the data
  readIncidents: ['coordinator', 'analyst', 'auditor'],
  resolveIncident: ['coordinator', 'analyst'],
  // Catalogue, reports, keys, system
  readCatalogue: STAFF,
  // Catalogue entries and the working-day calendar: Home Affairs' analysts, and admins
  writeCatalogue: ['analyst', 'admin'],
  readReports: ['coordinator', 'reviewer', 'auditor'],
  manageKeys: ['admin'],
  readMetrics: ['admin', 'auditor'],
  whoAmI: [...STAFF, 'gateway'],
  smsGateway: ['gateway'],
  // Outgoing messages that failed every attempt: read by those who answer for them, sent again by the coordinator
  readJobIncidents: ['coordinator', 'admin', 'auditor'],
  retryJob: ['coordinator', 'admin'],
  // Agencies' systems: webhooks and the event feed (scoped like the inbox: inboxGroups)
  subscribe: ['agency', 'admin'],
  readEvents: STAFF,
  searchCases: ['operator', 'coordinator', 'reviewer', 'auditor', 'agency'],
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof ACCESS;

/** Roles as a mutable list, for a route spec's `access`. */
export function rolesFor(action: Action): Role[] {
  return [...ACCESS[action]];
}

export function mayCall(caller: Caller, action: Action): boolean {
  return (ACCESS[action] as readonly string[]).some((r) => caller.roles.includes(r));
}

/** Task candidate groups a caller belongs to: its agency and its roles. */
export function groupsOf(caller: Caller): string[] {
  return [...(caller.agency ? [caller.agency] : []), ...caller.roles];
}

// ---------------------------------------------------------------- tasks

/** Roles that oversee every inbox: they read any task, and act only where they are a candidate. */
const OVERSEERS = ['coordinator', 'auditor'];

export type TaskAccess = 'none' | 'see' | 'act';

export interface TaskFacts {
  name?: string | null;
  element_id?: string;
  candidate_groups: string[];
  assignee: string | null;
}

/**
 * What a caller may do with a task: act when it is a candidate (its agency
 * or one of its roles is a candidate group) or the task is assigned to it;
 * see when it oversees. Whether someone else has claimed it is a separate,
 * changing fact (409), not access.
 */
export function taskAccess(caller: Caller, t: TaskFacts): TaskAccess {
  const groups = groupsOf(caller);
  if (t.assignee === caller.id || t.candidate_groups.some((g) => groups.includes(g))) return 'act';
  return caller.roles.some((r) => OVERSEERS.includes(r)) ? 'see' : 'none';
}

/** The inbox filter: null lists every open task (overseers), otherwise the caller's groups. */
export function inboxGroups(caller: Caller): string[] | null {
  return caller.roles.some((r) => OVERSEERS.includes(r)) ? null : groupsOf(caller);
}

/** Whether the caller may act now: a candidate, and nobody else holds the claim. */
export function mayActNow(caller: Caller, t: TaskFacts): boolean {
  return taskAccess(caller, t) === 'act' && (!t.assignee || t.assignee === caller.id);
}

const label = (t: TaskFacts) => t.name ?? t.element_id ?? 'task';

/**
 * Throws unless the caller may act on the task: 403 when it may at most see
 * it, 409 when someone else claimed it (unless `allowClaimedByOther`, e.g.
 * a comment). Commands call this on the locked, current row.
 */
export function assertMayAct(caller: Caller, t: TaskFacts, opts: { allowClaimedByOther?: boolean } = {}): void {
  if (taskAccess(caller, t) !== 'act') {
    throw new ForbiddenError(`You may see task "${label(t)}" but not act on it: it is for ${t.candidate_groups.join(', ') || t.assignee}.`);
  }
  if (!opts.allowClaimedByOther && t.assignee && t.assignee !== caller.id) {
    throw new ConflictError(`Task "${label(t)}" is claimed by someone else; ask them or the coordinator to release it.`);
  }
}

/**
 * Release a claim: the claimant, or the coordinator (a clerk on leave),
 * who may release anyone's claim on a task it can see though it cannot act on it.
 */
export function assertMayRelease(caller: Caller, t: TaskFacts): void {
  if (caller.roles.includes('coordinator') && taskAccess(caller, t) !== 'none') return;
  assertMayAct(caller, t);
}

/**
 * The policy as the runtime asks it (RuntimeOptions.policy): complete and
 * claim need a free task or the caller's own claim; a comment may be added
 * while someone else holds the claim; release as above.
 */
export const taskPolicy = {
  assertMay(caller: Caller, t: TaskFacts, action: 'complete' | 'claim' | 'unclaim' | 'comment'): void {
    if (action === 'unclaim') assertMayRelease(caller, t);
    else assertMayAct(caller, t, { allowClaimedByOther: action === 'comment' });
  },
};

// ---------------------------------------------------------------- cases

/** Roles that read every case; agencies read only the cases they hold or held. */
const SEES_ALL_CASES = ['operator', 'coordinator', 'reviewer', 'auditor', 'analyst', 'admin'];
/** Roles that read every case's history. */
const READS_ALL_HISTORY = ['auditor', 'reviewer', 'coordinator', 'admin'];

/** Whether the caller sees every case without asking which agency held it (saves the lookup). */
export function seesAllCases(caller: Caller, what: 'case' | 'history' = 'case'): boolean {
  return caller.roles.some((r) => (what === 'case' ? SEES_ALL_CASES : READS_ALL_HISTORY).includes(r));
}

/**
 * May the caller see this case (or its history)? `heldBy` answers whether
 * the caller's agency holds or held a task of it. 404, not 403, otherwise:
 * case codes cannot be probed.
 */
export async function maySeeCase(caller: Caller, heldBy: (agency: string) => Promise<boolean>, what: 'case' | 'history' = 'case'): Promise<boolean> {
  if (seesAllCases(caller, what)) return true;
  return Boolean(caller.agency && (await heldBy(caller.agency)));
}

// ---------------------------------------------------------------- personal data

/**
 * Roles whose work needs the citizen's contact data: operators take the call,
 * the coordinator answers escalated cases, reviewers check the answer.
 * Auditors and analysts see it only with the explicit `pii` grant. An
 * agency sees it only while it holds the case (one of its open tasks):
 * after a transfer the previous agency still reads the case, masked.
 */
const PII_ROLES = new Set(['operator', 'coordinator', 'reviewer', 'pii']);

/** What the caller's agency has to do with the case now. */
export interface CaseFacts {
  /** The caller may act on one of the case's open tasks (holdsCase). */
  holdsNow?: boolean;
}

/** Whether the caller may act on one of these open tasks: its agency holds the case now. */
export function holdsCase(caller: Caller, openTasks: readonly TaskFacts[]): boolean {
  return openTasks.some((t) => taskAccess(caller, t) === 'act');
}

export function maySeePii(caller: Caller, facts: CaseFacts = {}): boolean {
  if (caller.roles.some((r) => PII_ROLES.has(r))) return true;
  return caller.roles.includes('agency') && facts.holdsNow === true;
}

/** An auditor holding the explicit pii grant reads data others see masked: such reads are recorded in history. */
export function isExceptionalPiiRead(caller: Caller): boolean {
  return caller.roles.includes('auditor') && caller.roles.includes('pii');
}

export function maskValue(name: string, value: unknown): unknown {
  if (typeof value !== 'string') return value === null || value === undefined ? value : '***';
  if (name === 'citizenPhone') return value.length > 3 ? `${'*'.repeat(value.length - 3)}${value.slice(-3)}` : '***';
  if (name === 'citizenEmail') return value.replace(/^(.).*(@.*)$/, '$1***$2');
  return value ? `${value.slice(0, 1)}***` : value;
}

export function maskVariables(vars: Record<string, unknown>, caller: Caller, facts: CaseFacts = {}): Record<string, unknown> {
  if (maySeePii(caller, facts)) return vars;
  const out: Record<string, unknown> = { ...vars };
  for (const k of PERSONAL_VARIABLES) if (k in out) out[k] = maskValue(k, out[k]);
  return out;
}

/** Mask personal data wherever it sits in an event payload (intake variables, form outputs, messages). */
export function maskDeep(value: unknown, caller: Caller, facts: CaseFacts = {}): unknown {
  if (maySeePii(caller, facts)) return value;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const change = v as { name?: string; personal?: boolean; old?: unknown; new?: unknown };
      // A variables.changed entry: {name, old, new, personal: true}
      if (change.personal === true && typeof change.name === 'string') {
        return { ...change, old: maskValue(change.name, change.old), new: maskValue(change.name, change.new) };
      }
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = (PERSONAL_VARIABLES as readonly string[]).includes(k) ? maskValue(k, x) : walk(x);
      return out;
    }
    return v;
  };
  return walk(value);
}

/**
 * Case search: which agencies' cases the caller may find (null: any) and
 * whether by phone number. An agency finds only cases it holds or held, and
 * never by phone: a number would tell it of the citizen's other complaints.
 */
export function caseSearchScope(caller: Caller): { heldBy: string | null; byPhone: boolean } {
  if (seesAllCases(caller)) return { heldBy: null, byPhone: true };
  return { heldBy: caller.agency ?? '', byPhone: false };
}

/** Webhook subscriptions: an agency key subscribes to its own agency's events; an admin to any (null: every event). */
export function subscriptionAgency(caller: Caller, requested: string | null | undefined): string | null {
  if (caller.roles.includes('admin')) return requested ?? null;
  if (requested && requested !== caller.agency) throw new ForbiddenError(`Your key subscribes to the events of ${caller.agency}, not ${requested}.`);
  return caller.agency;
}

/** A subscription is managed by the key that made it, by keys of the same agency, and by admins. */
export function mayManageSubscription(caller: Caller, sub: { created_by: string; agency: string | null }): boolean {
  return caller.roles.includes('admin') || sub.created_by === caller.id || (sub.agency !== null && sub.agency === caller.agency);
}

/** The system actors (timers, the demo seed) are not callers a policy decides about. */
export function isSystem(actor: Actor): boolean {
  return actor.roles.includes('system');
}

import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Knex } from 'knex';
import type { Db } from '../db/connect.js';
import type { DeferredWrites } from '../db/deferred.js';
import { caseCodeById } from '../db/cases.js';
import { chainBatch, chainHead, insertEvents, lockSystemChain, oldestEventMonth, runningCasesBatch, systemChain, taskEvents, taskRowsOf, type ChainedRow, type StoredEvent, type TaskEvent } from '../db/history.js';
import type { TaskRow } from '../db/tasks.js';
import type { Checkpoints } from './checkpoints.js';
import { systemClock, type Clock } from './clock.js';
import { ConflictError } from './errors.js';
import { vietnamDayStart } from './vietnam-time.js';
import type { PendingEvent } from './session.js';

/** The fields an event's hash covers, in the form they are stored and read back. */
export type ChainedEvent = StoredEvent;

/** sha256(prev_hash + canonical JSON of the event): each link covers everything before it. */
export function eventHash(prevHash: string | null, e: ChainedEvent): string {
  const canonical = canonicalize({
    caseId: e.case_id,
    seq: e.seq,
    type: e.type,
    elementId: e.element_id,
    elementName: e.element_name,
    elementType: e.element_type,
    actorId: e.actor_id,
    actorRoles: e.actor_roles,
    actorAgency: e.actor_agency,
    requestId: e.request_id,
    payload: e.payload ?? {},
    at: new Date(e.at).toISOString(),
  });
  return createHash('sha256').update(`${prevHash ?? ''}\n${canonical}`).digest('hex');
}

function toRow(caseId: string | null, seq: number, e: PendingEvent, at: Date): ChainedEvent {
  return {
    case_id: caseId,
    seq,
    type: e.type,
    element_id: e.elementId ?? null,
    element_name: e.elementName ?? null,
    element_type: e.elementType ?? null,
    actor_id: e.actor.id,
    actor_roles: e.actor.roles,
    actor_agency: e.actor.agency,
    request_id: e.actor.requestId ?? null,
    payload: JSON.parse(JSON.stringify(e.payload ?? {})),
    at,
  };
}

/** A chained event linked to `prev`, with its own hash. */
function linked(row: ChainedEvent, prev: string | null): ChainedRow {
  return { ...row, prev_hash: prev, hash: eventHash(prev, row) };
}

/**
 * Append events to a case's history, chained to its last event. Call only
 * inside the command's transaction with the case row locked, so no other
 * writer can take the same seq or fork the chain.
 */
export async function appendEvents(
  trx: Knex.Transaction,
  caseId: string,
  events: PendingEvent[],
  clock: Clock = systemClock,
  opts: { head?: { seq: number; hash: string | null } | null; held?: DeferredWrites } = {},
): Promise<void> {
  if (!events.length) return opts.held?.flush();
  // The head the command read with the case row's lock (db/cases.ts lockCase), or {seq: 0} for a case inserted
  // in this transaction: no round trip. insertEvents refuses rows that do not continue the head in the table.
  const last = opts.head ?? (await chainHead(trx, caseId));
  let seq: number = last?.seq ?? 0;
  let prev: string | null = last?.hash ?? null;
  // Milliseconds: the precision a JS Date carries back from the database, so the hash recomputes.
  const at = clock.now();
  const rows = events.map((e) => {
    const row = linked(toRow(caseId, ++seq, e, at), prev);
    prev = row.hash;
    return row;
  });
  await insertEvents(trx, rows, opts.held);
}

/**
 * Append an event that belongs to no case (a deployment) to the system chain.
 * An advisory lock stands in for the case row lock.
 */
export async function appendSystemEvent(trx: Knex.Transaction, event: PendingEvent, clock: Clock = systemClock): Promise<void> {
  await lockSystemChain(trx);
  const last = await chainHead(trx, null);
  await insertEvents(trx, [linked(toRow(null, (last?.seq ?? 0) + 1, event, clock.now()), last?.hash ?? null)]);
}

/** What verify can find wrong, by kind. */
export type ProblemKind = 'inserted' | 'changed' | 'deleted' | 'missing-case' | 'checkpoint' | 'task-row';

export interface HistoryProblem {
  kind: ProblemKind;
  /** null: the system chain (or a checkpoint). */
  caseId: string | null;
  caseCode: string | null;
  /** The position in the chain (seq) the problem is at, when it has one. */
  seq: number | null;
  reason: string;
  checkpointId?: string;
  taskId?: string;
}

export interface VerifyReport {
  ok: boolean;
  casesChecked: number;
  eventsChecked: number;
  tasksChecked: number;
  /** The checkpoint the chains were compared with (the newest that holds), or null, with why. */
  checkpoint: null | { id: string; asOf: string; keyId: string; reason: string; createdAt: string };
  checkpointNote: string | null;
  /** Chains whose earlier events were archived, verified from the checkpoint that anchors them; and the oldest month still attached. */
  archived: { chains: number; missingCases: number; liveFrom: string | null };
  counts: Record<ProblemKind, number>;
  /** Every problem (the first MAX_PROBLEMS), in chain order: a chain is read to its end whatever it holds. */
  problems: HistoryProblem[];
  /** The first problem, as earlier versions reported it. */
  firstBroken: null | { caseId: string | null; caseCode: string | null; seq: number | null; reason: string };
}

const MAX_PROBLEMS = 500;

/** Collects problems (capped) and counts them all. */
class Findings {
  readonly problems: HistoryProblem[] = [];
  readonly counts: Record<ProblemKind, number> = { inserted: 0, changed: 0, deleted: 0, 'missing-case': 0, checkpoint: 0, 'task-row': 0 };
  add(p: HistoryProblem): void {
    this.counts[p.kind]++;
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(p);
  }
}

/** One chain read event by event: links, content, and what the checkpoint signed about it. */
class ChainCheck {
  private prev: string | null = null;
  private expected = 1;
  private last = 0;
  events = 0;

  constructor(
    private readonly caseId: string | null,
    private readonly found: Findings,
    private readonly cp: { id: string; asOf: Date; head: { seq: number; hash: string | null } | null } | null,
    private readonly checkpoints: Checkpoints | undefined,
    private readonly archivedChain: () => void,
  ) {}

  private problem(kind: ProblemKind, seq: number | null, reason: string, checkpointId?: string): void {
    this.found.add({ kind, caseId: this.caseId, caseCode: null, seq, reason, ...(checkpointId ? { checkpointId } : {}) });
  }

  async row(r: ChainedRow): Promise<void> {
    this.events++;
    const prevHash = r.prev_hash ?? null;
    if (this.events === 1 && r.seq > 1) {
      // The chain's start is not here: archived (a signed checkpoint recorded the event just before it) or deleted.
      const anchor = await this.checkpoints?.anchor(this.caseId, r.seq - 1, prevHash);
      if (anchor) this.archivedChain();
      else this.problem('deleted', 1, `events 1 to ${r.seq - 1} are missing and no signed checkpoint anchors event ${r.seq - 1} (archived months are anchored by the checkpoint at the start of the next month): they were deleted`);
      this.prev = prevHash;
      this.expected = r.seq;
    }
    if (r.seq < this.expected) {
      this.problem('inserted', r.seq, `a second event ${r.seq} (${r.type}) stands beside the one the chain links: it was inserted`);
      return;
    }
    if (r.seq > this.expected) {
      this.problem('deleted', this.expected, `event${r.seq - this.expected > 1 ? `s ${this.expected} to ${r.seq - 1} are` : ` ${this.expected} is`} missing (next stored is ${r.seq}): deleted`);
    } else if (prevHash !== this.prev) {
      this.problem('changed', r.seq, 'its link to the previous event does not match: an event before it was changed or removed');
    }
    if (r.hash !== eventHash(prevHash, r)) this.problem('changed', r.seq, 'its content does not match its hash: the event was changed after it was written');
    else if (this.cp?.head && r.seq === this.cp.head.seq && r.hash !== this.cp.head.hash) {
      this.problem('changed', r.seq, `it is not the event checkpoint ${this.cp.id} signed at this position: the chain was rewritten`, this.cp.id);
    } else if (this.cp && r.seq > (this.cp.head?.seq ?? 0) && new Date(r.at) < this.cp.asOf) {
      this.problem(
        'inserted',
        r.seq,
        `it is dated ${new Date(r.at).toISOString()}, before checkpoint ${this.cp.id} (${this.cp.asOf.toISOString()}), which counted ${this.cp.head?.seq ?? 0} events here: it was inserted afterwards`,
        this.cp.id,
      );
    }
    this.prev = r.hash;
    this.expected = r.seq + 1;
    this.last = r.seq;
  }

  /** The chain ended: nothing the checkpoint counted may be gone from its end. */
  end(): void {
    const head = this.cp?.head;
    if (head && this.events > 0 && this.last < head.seq) {
      this.problem('deleted', this.last + 1, `the last ${head.seq - this.last} event(s) (${this.last + 1} to ${head.seq}) are gone: checkpoint ${this.cp!.id} counted ${head.seq}`, this.cp!.id);
    }
  }
}

/**
 * Recompute every chain (or one case's), reading in keyset batches so a year
 * of history never sits in memory, and compare it with the newest checkpoint
 * that holds: per chain, inserted, changed and deleted events (the tail
 * too), and cases the checkpoint knew that are gone. A chain is read to its
 * end whatever it holds; every problem is reported with its case and position.
 * Then each open task row is compared with what its case's history says.
 */
export async function verifyChains(db: Db, options: { caseId?: string; batch?: number; checkpoints?: Checkpoints } = {}): Promise<VerifyReport> {
  const batch = options.batch ?? 2000;
  const found = new Findings();
  const { trusted, problems: cpProblems } = options.checkpoints ? await options.checkpoints.latestTrusted(options.caseId) : { trusted: null, problems: [] };
  for (const p of cpProblems) found.add({ kind: 'checkpoint', caseId: null, caseCode: null, seq: null, reason: `checkpoint ${p.id}: ${p.reason}`, checkpointId: p.id });
  const cpAsOf = trusted ? new Date(trusted.row.as_of) : null;
  const liveFrom = await oldestEventMonth(db);
  const liveStart = liveStartOf(liveFrom);
  let archivedChains = 0;
  let archivedCases = 0;
  const chainFor = (caseId: string | null) => {
    const head = !trusted ? null : caseId === null ? (trusted.row.system_seq ? { seq: trusted.row.system_seq, hash: trusted.row.system_hash } : null) : (trusted.heads.get(caseId) ?? null);
    return new ChainCheck(caseId, found, trusted ? { id: trusted.row.id, asOf: cpAsOf!, head } : null, options.checkpoints, () => archivedChains++);
  };

  let events = 0;
  if (!options.caseId) {
    const system = chainFor(null);
    for (const r of await systemChain(db)) await system.row(r);
    system.end();
    events += system.events;
    if (trusted?.row.system_seq && !system.events) {
      if (liveStart && trusted.row.system_at && new Date(trusted.row.system_at) < liveStart) archivedCases++;
      else found.add({ kind: 'missing-case', caseId: null, caseCode: null, seq: trusted.row.system_seq, reason: `the system chain is gone: checkpoint ${trusted.row.id} counted ${trusted.row.system_seq} events` });
    }
  }
  const seen = new Set<string>();
  let after: { caseId: string; seq: number } | null = null;
  let chain: ChainCheck | null = null;
  for (;;) {
    const rows = await chainBatch(db, { caseId: options.caseId, after, batch });
    for (const r of rows) {
      if (!chain || !seen.has(r.case_id!)) {
        chain?.end();
        seen.add(r.case_id!);
        chain = chainFor(r.case_id);
      }
      await chain.row(r);
      events++;
    }
    if (rows.length < batch) break;
    const last = rows[rows.length - 1];
    after = { caseId: last.case_id!, seq: last.seq };
  }
  chain?.end();

  // Cases the checkpoint knew with no event left: archived (their head lies before the oldest attached month) or deleted.
  for (const [caseId, head] of trusted?.heads ?? []) {
    if (seen.has(caseId)) continue;
    if (liveStart && new Date(head.at) < liveStart) archivedCases++;
    else found.add({ kind: 'missing-case', caseId, caseCode: null, seq: head.seq, reason: `the case has no events any more: checkpoint ${trusted!.row.id} counted ${head.seq} (the history was deleted or truncated)`, checkpointId: trusted!.row.id });
  }

  const tasksChecked = await verifyTaskRows(db, found, options.caseId, batch, liveStart);

  // Name the cases (a missing case may still have its row).
  const ids = [...new Set(found.problems.map((p) => p.caseId).filter((id): id is string => id !== null))];
  const codes = new Map<string, string | null>();
  for (const id of ids) codes.set(id, (await caseCodeById(db, id)) ?? null);
  for (const p of found.problems) if (p.caseId && !p.caseCode) p.caseCode = codes.get(p.caseId) ?? null;

  const first = found.problems[0];
  return {
    ok: found.problems.length === 0,
    casesChecked: seen.size,
    eventsChecked: events,
    tasksChecked,
    checkpoint: trusted ? { id: trusted.row.id, asOf: cpAsOf!.toISOString(), keyId: trusted.row.key_id, reason: trusted.row.reason, createdAt: new Date(trusted.row.created_at).toISOString() } : null,
    checkpointNote: trusted
      ? null
      : !options.checkpoints?.key
        ? 'No checkpoint signing key is configured: chains are checked for internal consistency only; a deleted tail or a truncated history cannot be detected.'
        : 'No signed checkpoint that holds yet: chains are checked for internal consistency only.',
    archived: { chains: archivedChains, missingCases: archivedCases, liveFrom },
    counts: found.counts,
    problems: found.problems,
    firstBroken: first ? { caseId: first.caseId, caseCode: first.caseCode, seq: first.seq, reason: first.reason } : null,
  };
}

/** When the live history begins (the oldest attached month's first instant), or null. */
export async function liveStart(db: Db | Knex.Transaction): Promise<Date | null> {
  return liveStartOf(await oldestEventMonth(db));
}

function liveStartOf(month: string | null): Date | null {
  return month ? vietnamDayStart(`${month}-01`) : null;
}

// ------------------------------------------------------------ task rows against the history

/** What a task row says that the history also says (engine/projection.ts records task.created with the same values). */
type TaskFacts = Pick<TaskRow, 'id' | 'case_id' | 'candidate_groups' | 'assignee' | 'due_at' | 'created_at'>;

/** A task as the history tells it: created, claimed and released, and whether it ended (completed or cancelled). */
export interface HistoryTask {
  id: string;
  created: TaskEvent;
  /** The element it waits at now (a case migration may have renamed it). */
  elementId: string | null;
  ended: TaskEvent | null;
  assignee: string | null;
  assigneeSeq: number;
}

/**
 * The tasks a case's history created and what became of each, from its task
 * and user-task activity events in seq order: task.created opens one,
 * task.claimed/unclaimed move its assignee, task.completed ends it, and so does
 * the end or cancellation of its user task (a deadline withdrawing it);
 * case.migrated renames the element it waits at.
 */
export function tasksFromHistory(events: TaskEvent[]): Map<string, HistoryTask> {
  const tasks = new Map<string, HistoryTask>();
  for (const e of events) {
    const p = (e.payload ?? {}) as Record<string, any>;
    const task = typeof p.taskId === 'string' ? tasks.get(p.taskId) : undefined;
    if (e.type === 'task.created') {
      tasks.set(p.taskId, { id: p.taskId, created: e, elementId: e.element_id, ended: null, assignee: p.assignee ?? null, assigneeSeq: e.seq });
    } else if (e.type === 'task.completed' && task) {
      task.ended ??= e;
    } else if ((e.type === 'task.claimed' || e.type === 'task.unclaimed') && task) {
      task.assignee = e.type === 'task.claimed' ? e.actor_id : null;
      task.assigneeSeq = e.seq;
    } else if (e.type === 'activity.completed' || e.type === 'activity.cancelled') {
      for (const t of tasks.values()) if (!t.ended && t.elementId === e.element_id) t.ended = e;
    } else if (e.type === 'case.migrated') {
      const mapping = (p.mapping ?? {}) as Record<string, string>;
      for (const t of tasks.values()) if (!t.ended && t.elementId && mapping[t.elementId]) t.elementId = mapping[t.elementId];
    }
  }
  return tasks;
}

/**
 * Why this task row disagrees with its case's history, or null: the history
 * must have created it and not ended it, and give the same candidate groups
 * and due date as task.created and the assignee that claims and releases
 * leave. A row whose creation lies in an archived month (before `liveFrom`)
 * cannot be checked here: its history is in the archive.
 */
export function taskRowDisagreement(row: TaskFacts, history: Map<string, HistoryTask>, liveFrom: Date | null): string | null {
  const task = history.get(row.id);
  if (!task) {
    if (liveFrom && new Date(row.created_at) < liveFrom) return null;
    return 'the history never created this task (no task.created event names it)';
  }
  if (task.ended) return `the history says this task ended (${task.ended.type}, event ${task.ended.seq})`;
  const p = task.created.payload as { candidateGroups?: string[]; due?: string | null };
  const differences: string[] = [];
  const groups = (g: readonly string[] | null | undefined) => JSON.stringify([...(g ?? [])].sort());
  if (groups(row.candidate_groups) !== groups(p.candidateGroups)) {
    differences.push(`candidate groups are ${groups(row.candidate_groups)} in the row but ${groups(p.candidateGroups)} in the history (event ${task.created.seq})`);
  }
  if ((row.assignee ?? null) !== task.assignee) {
    differences.push(`the assignee is ${JSON.stringify(row.assignee ?? null)} in the row but ${JSON.stringify(task.assignee)} in the history (event ${task.assigneeSeq})`);
  }
  const due = row.due_at ? new Date(row.due_at).toISOString() : null;
  if (due !== (p.due ?? null)) differences.push(`the due date is ${JSON.stringify(due)} in the row but ${JSON.stringify(p.due ?? null)} in the history (event ${task.created.seq})`);
  return differences.length ? differences.join('; ') : null;
}

/**
 * The runtime's checkTaskRow: a command about to act on a task whose row
 * disagrees with the history refuses (the row was changed outside the
 * application — e.g. another agency's group written into it).
 */
export async function checkTaskRowAgainstHistory(trx: Knex.Transaction, task: TaskRow, caseCreatedAt?: Date, known?: TaskEvent[]): Promise<void> {
  // `known`: the task events the command's lock read with the case (db/cases.ts lockCaseOfTask).
  const history = tasksFromHistory(known ?? (await taskEvents(trx, [task.case_id], caseCreatedAt)));
  const problem = taskRowDisagreement(task, history, history.has(task.id) ? null : await liveStart(trx));
  if (problem) throw new ConflictError(`Task ${task.id} was not acted on: its row disagrees with the case's history — ${problem}. Ask an auditor to run GET /v1/history/verify.`);
}

/**
 * Every running case's (or one case's) task rows compared with its history,
 * both ways: a row the history disagrees with, and a task the history has
 * open whose row is gone. Returns how many rows were checked.
 */
async function verifyTaskRows(db: Db, found: Findings, caseId: string | undefined, batch: number, liveFrom: Date | null): Promise<number> {
  let checked = 0;
  let after: string | null = null;
  for (;;) {
    const cases = await runningCasesBatch(db, { caseId, after, batch: Math.min(batch, 500) });
    const ids = cases.map((c) => c.id);
    const rows = await taskRowsOf(db, ids);
    const events = await taskEvents(db, ids);
    const eventsOf = new Map<string, ChainedRow[]>();
    for (const e of events) {
      const list = eventsOf.get(e.case_id!);
      if (list) list.push(e);
      else eventsOf.set(e.case_id!, [e]);
    }
    for (const kase of cases) {
      const history = tasksFromHistory(eventsOf.get(kase.id) ?? []);
      const mine = rows.filter((r) => r.case_id === kase.id);
      for (const r of mine) {
        checked++;
        const problem = taskRowDisagreement(r, history, liveFrom);
        if (problem) found.add({ kind: 'task-row', caseId: kase.id, caseCode: kase.code, seq: null, taskId: r.id, reason: `task ${r.id} (${r.name ?? r.element_id}): ${problem}` });
      }
      const present = new Set(mine.map((r) => r.id));
      for (const t of history.values()) {
        if (t.ended || present.has(t.id)) continue;
        found.add({
          kind: 'task-row',
          caseId: kase.id,
          caseCode: kase.code,
          seq: t.created.seq,
          taskId: t.id,
          reason: `task ${t.id} (${t.created.element_name ?? t.elementId}): the history has it open (created at event ${t.created.seq}) but its row is gone: it was deleted`,
        });
      }
    }
    if (cases.length < Math.min(batch, 500)) return checked;
    after = cases[cases.length - 1].id;
  }
}

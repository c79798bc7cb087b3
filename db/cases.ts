import { prepared } from './prepared.js';
import type { Knex } from 'knex';
import type { Db } from './connect.js';
import type { TaskRow } from './tasks.js';
import { TASK_EVENT_FILTER, TASK_EVENT_MARGIN_MS, type TaskEvent } from './history.js';
import { write, type Writes } from './deferred.js';

/** A case: its process version, the engine state as jsonb, and `version` for optimistic concurrency. */
export interface CaseRow {
  id: string;
  code: string;
  definition_id: number;
  status: string;
  engine_state: unknown;
  variables: Record<string, unknown>;
  version: number;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  ended_at: Date | null;
}

/** The columns of CaseRow, as a prepared statement names them. */
const CASE_ROW = ['id', 'code', 'definition_id', 'status', 'engine_state', 'variables', 'version', 'created_by', 'created_at', 'updated_at', 'ended_at'] as const satisfies ReadonlyArray<keyof CaseRow>;

/**
 * A new case, written once with what its first command left (engine state, variables, status, version 1):
 * at once, or held for the command's history statement (db/deferred.ts).
 */
export async function insertCase(
  to: Writes,
  row: { id: string; code: string; definition_id: number; created_by: string; created_at: Date; updated_at: Date; engine_state: unknown; variables: Record<string, unknown>; status: string; version: number; ended_at: Date | null },
): Promise<void> {
  await write(to, (trx) => trx('cases').insert({
    id: row.id,
    code: row.code,
    definition_id: row.definition_id,
    status: row.status,
    engine_state: JSON.stringify(row.engine_state),
    variables: JSON.stringify(row.variables),
    version: row.version,
    created_by: row.created_by,
    created_at: row.created_at,
    updated_at: row.updated_at,
    ended_at: row.ended_at,
  }));
}

/**
 * A case row locked by a command, with what every command reads next under the
 * same lock, in the same round trip: its history chain's head (null when
 * history_heads has none: a chain from before that table, read from its events),
 * whether it has open incidents (almost never: then they are not read), its
 * task rows (oldest first, as tasksOfCase) and its pending timer jobs (as
 * armedTimerJobs). All as they were when the lock was taken.
 */
export interface LockedCase extends CaseRow {
  head: { seq: number; hash: string | null } | null;
  hasOpenIncidents: boolean;
  tasks: TaskRow[];
  timerJobs: Array<{ id: string; execution_id: string }>;
  /**
   * A task command's lock only (lockCaseOfTask): the case's task events in seq order, as taskEvents reads
   * them (db/history.ts), for the task-row check (engine/history.ts checkTaskRowAgainstHistory).
   */
  taskHistory?: TaskEvent[];
  /**
   * The engine state as the lock read it, unparsed (engine_state parses it when first read): for a look
   * that needs no more than the text (engine/call-activity.ts calledDefinitionIn).
   */
  engineStateText: string | null;
  /**
   * The lock left the engine state out: the command said the node keeps the case's engine at the row's
   * version (KeptVersion), and the state calls no other process. Reading engine_state then throws until it
   * is set (the runtime reads it with engineStateOf when it cannot use the kept engine after all).
   */
  stateLeftOut: boolean;
}

/** The case the command's node keeps a live engine of, at this version (engine/engine-cache.ts peek). */
export interface KeptVersion {
  caseId: string;
  version: number;
}

/**
 * One statement instead of five for every command (a round trip costs 0.3–0.6 ms on the benchmark
 * machine, most of it the socket write; docs/performance.md). The subqueries use
 * tasks_case_id_execution_id_unique, jobs_case_idx and incidents_one_open.
 */
function lockedCase(trx: Knex.Transaction, opts: { taskHistory?: boolean; kept?: KeptVersion } = {}) {
  const columns = [
    // Named, not c.*: the statement is prepared (db/prepared.ts). The engine state comes as text, parsed only when
    // read (toLocked): a command whose engine the node kept does not read it (issue 20: JSON.parse of a shipped
    // case's 14 KB state in the driver cost 0.25–0.3 ms of every such command). Nor is it sent when the row is at
    // the version the node keeps (0.2–0.4 ms of a lock on the benchmark machine), unless it calls another process:
    // a task command reads the called version from it (engine/forms.ts prepareTask). Always two bindings: one shape.
    ...CASE_ROW.map((c) =>
      c === 'engine_state'
        ? trx.raw(`case when c.id = ? and c.version = ? and strpos(c.engine_state::text, '"callActivities"') = 0 then null else c.engine_state::text end as engine_state`, [
            opts.kept?.caseId ?? null,
            opts.kept?.version ?? -1,
          ])
        : `c.${c}`,
    ),
    'h.seq as head_seq',
    'h.hash as head_hash',
    // Whether the row locked is the row this statement's snapshot holds (see lockAndRead).
    trx.raw(`c.xmin = (select s.xmin from cases s where s.id = c.id) as snapshot_current`),
    trx.raw(`exists (select 1 from incidents i where i.case_id = c.id and i.status = 'open') as has_open_incidents`),
    trx.raw(`(select coalesce(json_agg(t order by t.created_at), '[]') from tasks t where t.case_id = c.id) as open_tasks`),
    trx.raw(`(select coalesce(json_agg(json_build_object('id', j.id::text, 'execution_id', j.execution_id)), '[]') from jobs j where j.case_id = c.id and j.type = 'timer' and j.status = 'pending') as timer_jobs`),
  ];
  // A task command checks its task row against these (a round trip of its own before: 0.45 ms). The months before the
  // case was created are pruned when the statement runs (the bound comes from the row).
  if (opts.taskHistory) {
    columns.push(
      trx.raw(
        `(select coalesce(json_agg(json_build_object('type', e.type, 'seq', e.seq, 'element_id', e.element_id, 'element_name', e.element_name, 'actor_id', e.actor_id, 'payload', e.payload) order by e.seq), '[]')
            from case_events e
           where e.case_id = c.id and e.at >= c.created_at - interval '${TASK_EVENT_MARGIN_MS / 1000} seconds' and ${TASK_EVENT_FILTER}) as task_history`,
      ),
    );
  }
  return trx('cases as c')
    .leftJoin('history_heads as h', 'h.chain', trx.raw('c.id::text'))
    .select(...columns)
    .forUpdate('c')
    .first();
}

/** json comes back parsed from pg, as text from some drivers; timestamps inside it as ISO text. */
const parsed = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);

function toLocked(row: any): LockedCase | undefined {
  if (!row) return undefined;
  const { head_seq, head_hash, has_open_incidents, open_tasks, timer_jobs, task_history, snapshot_current: _current, engine_state: stateText, ...kase } = row;
  let state: unknown;
  const stateLeftOut = stateText === null;
  return {
    ...kase,
    engineStateText: typeof stateText === 'string' ? stateText : null,
    stateLeftOut,
    get engine_state() {
      if (state === undefined && stateLeftOut) throw new Error(`The lock of case ${kase.id} left its engine state out (the node keeps its engine): read it with engineStateOf.`);
      if (state === undefined) state = parsed(stateText);
      return state;
    },
    set engine_state(value: unknown) {
      state = value;
    },
    ...(task_history === undefined ? {} : { taskHistory: parsed(task_history) }),
    head: head_seq === null || head_seq === undefined ? null : { seq: Number(head_seq), hash: head_hash },
    hasOpenIncidents: Boolean(has_open_incidents),
    tasks: taskRowsFromJson(open_tasks),
    timerJobs: parsed(timer_jobs),
  };
}

/**
 * The lock statement, read again when it waited behind a command that changed the case. In READ
 * COMMITTED, `FOR UPDATE` that waits for another transaction's lock returns the row as that transaction
 * committed it, but everything else in the statement (the tasks, timer jobs, incidents and history head
 * read beside it) is read in the snapshot taken when the statement began, before that commit: two
 * clerks claiming one task at once both saw it unclaimed and the same history head, and the second
 * failed on the history's unique key (500) instead of being refused (409). The row's xmin against the
 * snapshot's says whether that happened; the lock is then held, so a second read sees every commit
 * made under it. Every command that writes under the case lock changes the row (touchCase where
 * nothing else of it changes), or this could not see it.
 */
async function lockAndRead(build: () => Knex.QueryBuilder): Promise<LockedCase | undefined> {
  const row = await prepared(build());
  if (row && !row.snapshot_current) return toLocked(await prepared(build()));
  return toLocked(row);
}

/** The case row, locked until the transaction ends: every command on a case starts here. */
export async function lockCase(trx: Knex.Transaction, id: string, kept?: KeptVersion): Promise<LockedCase | undefined> {
  return lockAndRead(() => lockedCase(trx, { kept }).where('c.id', id));
}

/** The stored engine state of a case this transaction has locked (for a lock that left it out). */
export async function engineStateOf(trx: Knex.Transaction, id: string): Promise<unknown> {
  const row = await trx('cases').where({ id }).first(trx.raw('engine_state::text as engine_state'));
  if (!row) throw new Error(`Case ${id} is gone under its lock.`);
  return parsed(row.engine_state);
}

/**
 * Mark the case row changed without changing any of its data: for a command that writes under the case
 * lock but not to the row (an event of its own in the history), so that a command waiting for the lock
 * reads the case again (lockAndRead). Its version stays: a kept engine is still current.
 */
export async function touchCase(trx: Knex.Transaction, id: string): Promise<void> {
  await trx('cases').where({ id }).update({ version: trx.ref('version') });
}

/**
 * The case row a task belongs to, locked until the transaction ends: a task
 * command finds and locks its case in one round trip (undefined when the task
 * is gone). The command reads the task again under the lock.
 */
export async function lockCaseOfTask(trx: Knex.Transaction, taskId: string, kept?: KeptVersion): Promise<LockedCase | undefined> {
  return lockAndRead(() => lockedCase(trx, { taskHistory: true, kept }).where('c.id', trx('tasks').where({ id: taskId }).select('case_id')));
}

/**
 * Case codes are upper case (hotline codes like PA2612-7K3QX, the engine's
 * default codes too) and are read out on the phone and typed by hand: every
 * lookup by code matches whatever the letter case (the unique index on code
 * still serves it).
 */
export function normalCode(code: string): string {
  return code.toUpperCase();
}

export async function caseIdByCode(db: Db | Knex.Transaction, code: string): Promise<string | undefined> {
  const row = await db('cases').where({ code: normalCode(code) }).first('id');
  return row?.id;
}

/** What a task view shows of its case. */
export async function caseSummary(db: Db, id: string): Promise<{ code: string; status: string; variables: Record<string, unknown> }> {
  return db('cases').where({ id }).first('code', 'status', 'variables');
}

export async function caseCodeById(db: Db | Knex.Transaction, id: string): Promise<string | undefined> {
  const row = await db('cases').where({ id }).first('code');
  return row?.code;
}

/** Write what a command changed on the case row (state, variables, status, version). */
export async function updateCase(
  to: Writes,
  id: string,
  change: Partial<Pick<CaseRow, 'status' | 'version' | 'updated_at' | 'ended_at' | 'definition_id'>> & { engine_state?: unknown; variables?: Record<string, unknown> },
): Promise<void> {
  const row: Record<string, unknown> = { ...change };
  if ('engine_state' in change) row.engine_state = JSON.stringify(change.engine_state);
  if ('variables' in change) row.variables = JSON.stringify(change.variables);
  await write(to, (trx) => trx('cases').where({ id }).update(row));
}

/** Running cases of a process a batch migration may move, oldest first; with their count. */
export async function migrationCandidates(
  db: Db,
  f: { key: string; targetId: number; fromVersion?: number; codes?: string[]; limit: number },
): Promise<{ total: number; rows: Array<{ code: string; version: number }> }> {
  const q = () => {
    const query = db('cases as c').join('definitions as d', 'd.id', 'c.definition_id').where({ 'd.key': f.key, 'c.status': 'running' });
    if (f.fromVersion) query.where('d.version', f.fromVersion);
    if (f.codes) query.whereIn('c.code', f.codes);
    else query.whereNot('d.id', f.targetId);
    return query;
  };
  const total = Number((await q().count('* as n').first())?.n ?? 0);
  const rows = await q().orderBy('c.created_at').limit(f.limit).select('c.code', 'd.version');
  return { total, rows };
}

export async function findCaseByCode(db: Db, code: string) {
  return db('cases as c')
    .join('definitions as d', 'd.id', 'c.definition_id')
    .where('c.code', normalCode(code))
    .first(...CASE_WITH_PROCESS);
}

/** A case row as the API shows it, with its process key and version (from definitions as d). */
const CASE_WITH_PROCESS = ['c.id', 'c.code', 'c.status', 'c.variables', 'c.version', 'c.created_by', 'c.created_at', 'c.updated_at', 'c.ended_at', 'd.key as process_key', 'd.version as process_version'];

/**
 * A case as its view shows it, in one statement: the row with its process,
 * its open tasks (oldest first, as tasksOfCase) and which of `flagTypes` its
 * history holds. Every intake answers with this view.
 */
export interface CaseForView extends Omit<CaseRow, 'definition_id' | 'engine_state'> {
  process_key: string;
  process_version: number;
  tasks: TaskRow[];
  flags: string[];
}

export async function caseForView(db: Db | Knex.Transaction, code: string, flagTypes: string[]): Promise<CaseForView | undefined> {
  const row = await db('cases as c')
    .join('definitions as d', 'd.id', 'c.definition_id')
    .where('c.code', normalCode(code))
    .first(
      ...CASE_WITH_PROCESS,
      db.raw(`(select coalesce(json_agg(t order by t.created_at), '[]') from tasks t where t.case_id = c.id) as open_tasks`),
      db.raw(`array(select distinct e.type from case_events e where e.case_id = c.id and e.type = any(?::text[])) as flags`, [flagTypes]),
    );
  if (!row) return undefined;
  const { open_tasks, flags, ...kase } = row;
  return { ...kase, tasks: taskRowsFromJson(open_tasks), flags: (flags ?? []) as string[] };
}

/** Task rows aggregated as json (json_agg) back to TaskRow: timestamps come as ISO text. */
function taskRowsFromJson(value: unknown): TaskRow[] {
  return (parsed(value) as any[]).map((t) => ({ ...t, due_at: t.due_at === null ? null : new Date(t.due_at), created_at: new Date(t.created_at) }));
}

/** Whether a group (agency code) was ever a candidate for a task of the case: the agency holds or held it. */
export async function caseHeldBy(db: Db, caseId: string, group: string): Promise<boolean> {
  const row = await db('case_events')
    .where({ case_id: caseId, type: 'task.created' })
    .whereRaw(`payload->'candidateGroups' @> ?::jsonb`, [JSON.stringify([group])])
    .first('id');
  return Boolean(row);
}

export async function recentEvents(db: Db, caseId: string, limit = 20) {
  return db('case_events')
    .where({ case_id: caseId })
    .orderBy('seq', 'desc')
    .limit(limit)
    .select('seq', 'type', 'element_id', 'element_name', 'actor_id', 'actor_agency', 'at');
}

/** A task that existed once (it was created in some case's history), for telling "completed" (409) from "unknown" (404). */
export async function pastTask(db: Db, taskId: string): Promise<{ case_id: string; candidate_groups: string[]; assignee: string | null } | null> {
  const row = await db('case_events').where({ type: 'task.created' }).whereRaw(`payload->>'taskId' = ?`, [taskId]).first('case_id', 'payload');
  if (!row) return null;
  return { case_id: row.case_id, candidate_groups: row.payload.candidateGroups ?? [], assignee: row.payload.assignee ?? null };
}

export async function caseComments(db: Db, caseId: string) {
  return db('case_events')
    .where({ case_id: caseId, type: 'comment.added' })
    .orderBy('seq')
    .select('seq', 'actor_id', 'actor_agency', 'payload', 'at');
}

/**
 * Finished cases to replay in a dry run, newest first: the chosen codes, or
 * the last `last` completed cases (of process `processKey` when given).
 */
export async function finishedCases(db: Db, f: { processKey?: string; codes?: string[]; last: number }): Promise<Array<{ id: string; code: string; definition_id: number; key: string; version: number }>> {
  const q = db('cases as c')
    .join('definitions as d', 'd.id', 'c.definition_id')
    .where('c.status', 'completed')
    .orderBy([{ column: 'c.ended_at', order: 'desc' }, { column: 'c.id', order: 'desc' }])
    .select('c.id', 'c.code', 'c.definition_id', 'd.key', 'd.version');
  if (f.processKey) q.where('d.key', f.processKey);
  if (f.codes) q.whereIn('c.code', f.codes);
  else q.limit(f.last);
  return q;
}

/** A case's status and process by code (why a chosen case was not replayed). */
export async function caseStatusByCode(db: Db, code: string): Promise<{ status: string; key: string } | undefined> {
  return db('cases as c').join('definitions as d', 'd.id', 'c.definition_id').where('c.code', normalCode(code)).first('c.status', 'd.key');
}

// --- lookups for public, Open311 and SMS routes

/** A case by code as the citizen lookup needs it (status, variables, process version), or undefined. */
export async function caseForLookup(db: Db, code: string): Promise<{ id: string; code: string; status: string; definition_id: number; variables: Record<string, any>; created_at: Date; ended_at: Date | null } | undefined> {
  return db('cases').where({ code: normalCode(code) }).first('id', 'code', 'status', 'definition_id', 'variables', 'created_at', 'ended_at');
}

/**
 * Codes of running cases holding a pending timer job at `timerElement` whose
 * variable `phoneVariable`, read as digits, is one of `phones`; most recently
 * active first.
 */
export async function runningCasesWithTimerForPhone(db: Db, f: { timerElement: string; phoneVariable: string; phones: string[] }): Promise<string[]> {
  if (!f.phones.length) return [];
  return db('cases as c')
    .join('jobs as j', 'j.case_id', 'c.id')
    .where({ 'c.status': 'running', 'j.type': 'timer', 'j.status': 'pending', 'j.element_id': f.timerElement })
    .whereRaw(`regexp_replace(c.variables->>?, '\\D', '', 'g') in (${f.phones.map(() => '?').join(', ')})`, [f.phoneVariable, ...f.phones])
    .orderBy('c.updated_at', 'desc')
    .pluck('c.code');
}

/** Running cases of a phone number (digits only), most recently active first, with their ids. */
export async function runningCasesForPhone(db: Db, f: { phoneVariable: string; phones: string[] }): Promise<Array<{ id: string; code: string }>> {
  if (!f.phones.length) return [];
  return db('cases')
    .where({ status: 'running' })
    .whereRaw(`regexp_replace(variables->>?, '\\D', '', 'g') in (${f.phones.map(() => '?').join(', ')})`, [f.phoneVariable, ...f.phones])
    .orderBy('updated_at', 'desc')
    .select('id', 'code');
}

/** Completed cases marked for publication (variable publish), newest first, filtered by field, unit and text in title or answer. */
export async function publishedCases(db: Db, f: { field?: string; unit?: string; text?: string; limit: number }): Promise<Array<{ code: string; variables: Record<string, any>; created_at: Date; ended_at: Date | null }>> {
  const query = db('cases')
    .where({ status: 'completed' })
    .whereRaw(`(variables->>'publish')::boolean is true`)
    .orderBy('ended_at', 'desc')
    .limit(f.limit)
    .select('code', 'variables', 'created_at', 'ended_at');
  if (f.field) query.whereRaw(`variables->>'field' = ?`, [f.field]);
  if (f.unit) query.whereRaw(`variables->>'unit' = ?`, [f.unit]);
  if (f.text) query.whereRaw(`(variables->>'title' ilike ? or variables->>'answer' ilike ?)`, [`%${f.text}%`, `%${f.text}%`]);
  return query;
}

export interface CaseSummary {
  code: string;
  status: string;
  variables: Record<string, any>;
  created_at: Date;
  updated_at: Date;
}

/** Cases by codes and/or received in [from, to]; optionally of one field or of several (null: no field yet) and open or completed; newest first. */
export async function caseSummaries(db: Db, f: { codes?: string[]; from?: Date; to?: Date; field?: string; fields?: Array<string | null>; completed?: boolean; limit: number }): Promise<CaseSummary[]> {
  const query = db('cases').orderBy('created_at', 'desc').limit(f.limit).select('code', 'status', 'variables', 'created_at', 'updated_at');
  if (f.codes) query.whereIn('code', f.codes);
  if (f.from) query.where('created_at', '>=', f.from);
  if (f.to) query.where('created_at', '<=', f.to);
  if (f.field) query.whereRaw(`variables->>'field' = ?`, [f.field]);
  if (f.fields) {
    const fields = f.fields;
    query.where((w) => {
      for (const field of fields) {
        if (field === null) w.orWhereRaw(`variables->>'field' is null`);
        else w.orWhereRaw(`variables->>'field' = ?`, [field]);
      }
    });
  }
  if (f.completed === true) query.where({ status: 'completed' });
  if (f.completed === false) query.whereNot({ status: 'completed' });
  return query;
}

// --- case search (GET /v1/cases)

export interface CaseSearch {
  /** Digits of the citizen's phone number (+84 written 0). */
  phone?: string;
  /** Words that must all appear in the title or description, matched without diacritics or case (cases.search_text). */
  words?: string[];
  status?: string;
  /** Cases this agency holds or held (a task of the case was ever for it). */
  heldBy?: string[];
  field?: string;
  unit?: string;
  channel?: string;
  from?: Date;
  to?: Date;
  limit: number;
  /** Keyset: the last (created_at, id) of the previous page. */
  cursor?: { at: string; id: string };
}

export interface CaseSearchRow {
  id: string;
  code: string;
  status: string;
  variables: Record<string, any>;
  created_at: Date;
  updated_at: Date;
  ended_at: Date | null;
}

/**
 * Cases matching every filter given, newest first, keyset-paginated on
 * (created_at, id). Words go through pakn_fold, the function that fills
 * search_text, so "den duong" finds "Đèn đường"; on PostgreSQL with pg_trgm a
 * trigram index serves the LIKE, on PGlite it scans the folded column.
 */
export async function searchCases(db: Db, f: CaseSearch): Promise<CaseSearchRow[]> {
  const q = db('cases as c')
    .orderBy([{ column: 'c.created_at', order: 'desc' }, { column: 'c.id', order: 'desc' }])
    .limit(f.limit)
    .select('c.id', 'c.code', 'c.status', 'c.variables', 'c.created_at', 'c.updated_at', 'c.ended_at');
  if (f.phone) q.where('c.phone_digits', f.phone);
  for (const w of f.words ?? []) q.whereRaw(`c.search_text like '%' || pakn_fold(?) || '%' escape '\\'`, [w.replace(/[\\%_]/g, (m) => `\\${m}`)]);
  if (f.status) q.where('c.status', f.status);
  for (const agency of f.heldBy ?? []) {
    q.whereExists((sub) =>
      sub
        .select(db.raw('1'))
        .from('case_events as e')
        .whereRaw('e.case_id = c.id')
        .where('e.type', 'task.created')
        .whereRaw(`e.payload->'candidateGroups' @> ?::jsonb`, [JSON.stringify([agency])]),
    );
  }
  if (f.field) q.whereRaw(`c.variables->>'field' = ?`, [f.field]);
  if (f.unit) q.whereRaw(`c.variables->>'unit' = ?`, [f.unit]);
  if (f.channel) q.whereRaw(`c.variables->>'channel' = ?`, [f.channel]);
  if (f.from) q.where('c.created_at', '>=', f.from);
  if (f.to) q.where('c.created_at', '<', f.to);
  if (f.cursor) q.whereRaw('(c.created_at, c.id) < (?::timestamptz, ?::uuid)', [f.cursor.at, f.cursor.id]);
  return q;
}

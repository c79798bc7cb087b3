import type { Knex } from 'knex';
import type { Db } from './connect.js';
import type { TaskRow } from './tasks.js';
import type { DeferredWrites } from './deferred.js';
import { writeShapes } from './prepared.js';

export interface EventFilter {
  from?: Date;
  to?: Date;
  agency?: string;
  actor?: string;
  type?: string;
  caseId?: string;
}

/** The fields of a case_events row that its hash covers (engine/history.ts chains them). */
export interface StoredEvent {
  /** null: the system chain (deployments), not a case. */
  case_id: string | null;
  seq: number;
  type: string;
  element_id: string | null;
  element_name: string | null;
  element_type: string | null;
  actor_id: string;
  actor_roles: string[];
  actor_agency: string | null;
  request_id: string | null;
  payload: Record<string, unknown>;
  at: Date;
}

export interface EventRow extends StoredEvent {
  id: string;
  code: string | null;
  hash: string | null;
}

/**
 * Events in the order they were written, fetched in keyset batches on id: the
 * caller holds one batch at a time, however long the period. (Keyset on `at`
 * would need microsecond cursors; a JS Date carries milliseconds.)
 */
export async function* streamEvents(db: Db, f: EventFilter, batch = 1000): AsyncGenerator<EventRow> {
  let after: string | null = null;
  for (;;) {
    const q = db('case_events as e')
      .leftJoin('cases as c', 'c.id', 'e.case_id')
      .select('e.id', 'e.case_id', 'c.code', 'e.seq', 'e.type', 'e.element_id', 'e.element_name', 'e.element_type', 'e.actor_id', 'e.actor_roles', 'e.actor_agency', 'e.request_id', 'e.payload', 'e.at', 'e.hash')
      .orderBy('e.id')
      .limit(batch);
    if (f.from) q.where('e.at', '>=', f.from);
    if (f.to) q.where('e.at', '<', f.to);
    if (f.agency) q.where('e.actor_agency', f.agency);
    if (f.actor) q.where('e.actor_id', f.actor);
    if (f.type) q.where('e.type', f.type);
    if (f.caseId) q.where('e.case_id', f.caseId);
    if (after !== null) q.where('e.id', '>', after);
    const rows: EventRow[] = await q;
    for (const r of rows) yield r;
    if (rows.length < batch) return;
    after = rows[rows.length - 1].id;
  }
}

export async function caseHistory(db: Db, caseId: string): Promise<EventRow[]> {
  const rows: EventRow[] = [];
  for await (const r of streamEvents(db, { caseId })) rows.push(r);
  return rows.sort((a, b) => a.seq - b.seq);
}

/** A stored event with its chain links, as verify reads it. */
export type ChainedRow = StoredEvent & { prev_hash: string | null; hash: string | null };

/** What the task-row check reads of an event (engine/history.ts tasksFromHistory). */
export type TaskEvent = Pick<ChainedRow, 'type' | 'seq' | 'element_id' | 'element_name' | 'actor_id' | 'payload'>;

/**
 * The events that tell a case's tasks (created, claimed, released, completed, a user task ended or
 * cancelled, the case migrated), as SQL over case_events aliased `e`: taskEvents and the task command's
 * lock (db/cases.ts) read the same ones.
 */
export const TASK_EVENT_FILTER = `(e.type in ('task.created', 'task.claimed', 'task.unclaimed', 'task.completed', 'case.migrated') or (e.type in ('activity.completed', 'activity.cancelled') and e.element_type = 'bpmn:UserTask'))`;

/** A day of margin before the case's creation: an event written by a node whose clock is behind (taskEvents). */
export const TASK_EVENT_MARGIN_MS = 86_400_000;

/** Every column of case_events, named. */
const CHAINED_ROW = ['id', 'case_id', 'seq', 'type', 'element_id', 'element_name', 'element_type', 'actor_id', 'actor_roles', 'actor_agency', 'request_id', 'payload', 'at', 'prev_hash', 'hash'];

/**
 * The head of a chain (a case's, or the system chain's when caseId is null):
 * its last seq and hash. history_heads keeps it, so a chain whose earlier
 * months were archived continues where it stopped; a chain written before
 * that table existed falls back to its last stored event.
 */
export async function chainHead(trx: Knex.Transaction, caseId: string | null): Promise<{ seq: number; hash: string | null } | undefined> {
  const kept = await trx('history_heads').where({ chain: caseId ?? SYSTEM_CHAIN }).first('seq', 'hash');
  if (kept) return kept;
  const q = trx('case_events').orderBy('seq', 'desc');
  if (caseId === null) q.whereNull('case_id');
  else q.where({ case_id: caseId });
  return q.first('seq', 'hash');
}

/** history_heads' key for the system chain (a case's chain is keyed by its id). */
const SYSTEM_CHAIN = 'system';

/**
 * Events are only ever inserted: the database refuses UPDATE, DELETE and
 * TRUNCATE on case_events. The rows continue one chain; its head moves to the last.
 */
export async function insertEvents(trx: Knex.Transaction, rows: Array<ChainedRow>, held?: DeferredWrites): Promise<void> {
  if (!rows.length) return held?.flush();
  const first = rows[0];
  const last = rows[rows.length - 1];
  // One statement for the events and the head (a data-modifying WITH): a command's history costs one round trip.
  // The head moves only from the seq these rows continue: a head read earlier in the command (with the case
  // row's lock) that is no longer the head fails here instead of forking the chain (the partitioned table
  // cannot hold (case_id, seq) unique).
  const events = trx('case_events').insert(rows.map((r) => ({ ...r, payload: JSON.stringify(r.payload) }))).toSQL();
  const head = trx('history_heads')
    .insert({ chain: last.case_id ?? SYSTEM_CHAIN, seq: last.seq, hash: last.hash })
    .onConflict('chain')
    .merge(['seq', 'hash'])
    .where('history_heads.seq', first.seq - 1)
    .returning('chain')
    .toSQL();
  // The command's held writes (db/deferred.ts) go in the same statement.
  const writes = held?.take() ?? { items: [], bindings: [] };
  const sql = `with ${[...writes.items, `events as (${events.sql})`].join(', ')} ${head.sql}`;
  const statement = trx.raw(sql, [...writes.bindings, ...events.bindings, ...head.bindings]);
  const name = writeShapes.name(sql);
  const { rows: moved } = await (name ? statement.options({ name }) : statement);
  if (!moved.length) throw new Error(`History chain ${last.case_id ?? SYSTEM_CHAIN}: events at seq ${first.seq} do not continue its head; nothing was written.`);
}

/** The system chain has no case row to lock: an advisory lock serialises its writers instead. */
export async function lockSystemChain(trx: Knex.Transaction): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(hashtext(?))', ['case_events:system-chain']);
}

/** Case events in chain order (case_id, seq), one keyset batch after `after`. */
export async function chainBatch(db: Db, f: { caseId?: string; after: { caseId: string; seq: number } | null; batch: number }): Promise<ChainedRow[]> {
  const q = db('case_events').orderBy([{ column: 'case_id' }, { column: 'seq' }]).limit(f.batch).select('*');
  if (f.caseId) q.where({ case_id: f.caseId });
  else q.whereNotNull('case_id');
  if (f.after) {
    const a = f.after;
    q.where((w) => w.where('case_id', '>', a.caseId).orWhere((x) => x.where('case_id', a.caseId).where('seq', '>', a.seq)));
  }
  return q;
}

/** The system chain (deployments) in order; it is short. */
export async function systemChain(db: Db): Promise<ChainedRow[]> {
  return db('case_events').whereNull('case_id').orderBy('seq').select('*');
}

/** How often each element of a case started and ended: the path the case page draws (a called process's elements apart). */
export async function activityCounts(db: Db, caseId: string): Promise<Array<{ element_id: string; type: string; n: number }>> {
  const rows = await db('case_events')
    .where({ case_id: caseId })
    .whereIn('type', ['activity.started', 'activity.completed', 'activity.cancelled'])
    .whereNotNull('element_id')
    .whereRaw(`not jsonb_exists(payload, 'calledBy')`)
    .groupBy('element_id', 'type')
    .select('element_id', 'type')
    .count('* as n');
  return rows.map((r: any) => ({ element_id: r.element_id, type: r.type, n: Number(r.n) }));
}

/**
 * The same counts for the processes a case's call activities called
 * (engine/call-activity.ts tags their events with process, processVersion, calledBy).
 */
export async function calledActivityCounts(db: Db, caseId: string): Promise<Array<{ process: string; version: number; called_by: string; element_id: string; type: string; n: number }>> {
  const rows = await db('case_events')
    .where({ case_id: caseId })
    .whereIn('type', ['activity.started', 'activity.completed', 'activity.cancelled'])
    .whereNotNull('element_id')
    .whereRaw(`jsonb_exists(payload, 'calledBy')`)
    .groupByRaw(`payload->>'process', payload->>'processVersion', payload->>'calledBy', element_id, type`)
    .select(db.raw(`payload->>'process' as process`), db.raw(`payload->>'processVersion' as version`), db.raw(`payload->>'calledBy' as called_by`), 'element_id', 'type')
    .count('* as n');
  return rows.map((r: any) => ({ process: r.process, version: Number(r.version), called_by: r.called_by, element_id: r.element_id, type: r.type, n: Number(r.n) }));
}

/**
 * A case's events that say what became of its tasks, in seq order: the task
 * events, the end or cancellation of user-task activities, case migrations
 * (engine/history.ts tasksFromHistory reads them).
 *
 * `createdAt`, the case's creation time when the caller has it, bounds the
 * months read: every event of a case is written at or after it, so the
 * monthly partitions before are pruned (planning a read over twelve
 * partitions took 2.6 ms warm at 300 000 cases, bounded 0.8 ms). A day of
 * margin keeps an event written by a node whose clock is behind.
 */
export async function taskEvents(db: Db | Knex.Transaction, caseIds: string[], createdAt?: Date): Promise<ChainedRow[]> {
  if (!caseIds.length) return [];
  const q = db('case_events as e').whereIn('e.case_id', caseIds);
  if (createdAt) q.where('e.at', '>=', new Date(createdAt.getTime() - TASK_EVENT_MARGIN_MS));
  // A task command's check gets these with its lock (db/cases.ts lockCaseOfTask); verify reads them here, in batches.
  return q
    .whereRaw(TASK_EVENT_FILTER)
    .orderBy([{ column: 'e.case_id' }, { column: 'e.seq' }])
    .select(CHAINED_ROW.map((c) => `e.${c}`));
}

/** Running cases (or one case) in keyset batches on id: whose task rows verify compares with their history. */
export async function runningCasesBatch(db: Db, f: { caseId?: string; after: string | null; batch: number }): Promise<Array<{ id: string; code: string }>> {
  const q = db('cases').where({ status: 'running' }).orderBy('id').limit(f.batch).select('id', 'code');
  if (f.caseId) q.where({ id: f.caseId });
  if (f.after) q.where('id', '>', f.after);
  return q;
}

/** The open task rows of these cases. */
export async function taskRowsOf(db: Db, caseIds: string[]): Promise<TaskRow[]> {
  if (!caseIds.length) return [];
  return db('tasks').whereIn('case_id', caseIds).orderBy([{ column: 'case_id' }, { column: 'id' }]);
}

/**
 * Where the live history begins: the month (YYYY-MM, Vietnam time) of the
 * oldest monthly partition still attached (older months were archived), or
 * null when none is attached.
 */
export async function oldestEventMonth(db: Db | Knex.Transaction): Promise<string | null> {
  const { rows } = await db.raw(
    `select min(c.relname) as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'case_events'::regclass and c.relname ~ '^case_events_y[0-9]{4}m[0-9]{2}$'`,
  );
  const name: string | null = rows[0]?.name ?? null;
  const m = name ? /y(\d{4})m(\d{2})$/.exec(name) : null;
  return m ? `${m[1]}-${m[2]}` : null;
}

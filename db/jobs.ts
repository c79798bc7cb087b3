import type { Knex } from 'knex';
import type { Db } from './connect.js';
import { write, type Writes } from './deferred.js';

export interface JobRow {
  id: string;
  type: string;
  case_id: string | null;
  element_id: string | null;
  execution_id: string | null;
  payload: Record<string, unknown>;
  due_at: Date;
  status: string;
  attempts: number;
  max_attempts: number;
  locked_until: Date | null;
  locked_by: string | null;
  last_error: string | null;
  /**
   * The reference data's version (db/catalogue.ts referenceVersion: catalogue and calendar) when the job
   * was claimed, read by the claim: a handler that depends on them makes them current with it instead of
   * reading it per job (issue 20: one statement of nine per timer firing). Null without a version row.
   */
  reference_version?: number | null;
}

// --- the job executor's claim, release and failure, and the outbox deliveries' updates

/**
 * Claim up to `limit` due jobs for `workerId` until `lockedUntil`: one
 * statement (SKIP LOCKED, then UPDATE … RETURNING), so two nodes never claim
 * the same row. A claim counts an attempt.
 */
export async function claimDueJobs(db: Db, c: { now: Date; limit: number; lockedUntil: Date; workerId: string }): Promise<JobRow[]> {
  const { rows } = await db.raw(
    `with due as (
       select id from jobs
        where status = 'pending' and due_at <= :now
          and (locked_until is null or locked_until < :now)
        order by due_at
        limit :limit
        for update skip locked
     )
     update jobs j
        set locked_until = :lockedUntil, locked_by = :workerId, attempts = j.attempts + 1, updated_at = :now
       from due
      where j.id = due.id
     returning j.*, (select version from reference_version where id = 1) as reference_version`,
    { now: c.now, limit: c.limit, lockedUntil: c.lockedUntil, workerId: c.workerId },
  );
  return rows;
}

/** Give the lease back on a job still pending and ours, without counting the attempt. */
export async function releaseJob(db: Db, id: string, workerId: string): Promise<void> {
  await db('jobs')
    .where({ id, locked_by: workerId, status: 'pending' })
    .update({ locked_until: null, locked_by: null, attempts: db.raw('greatest(attempts - 1, 0)') });
}

/** A run failed: retry at `dueAt`, or give up as an incident; only while the lease is still ours. */
export async function failJob(db: Db, id: string, workerId: string, f: { incident: boolean; dueAt: Date; error: string; at: Date }): Promise<void> {
  await db('jobs')
    .where({ id, locked_by: workerId })
    .update({ status: f.incident ? 'incident' : 'pending', due_at: f.dueAt, locked_until: null, locked_by: null, last_error: f.error, updated_at: f.at });
}

/** A handler finished its job: mark it (done, skipped), optionally with a new payload, and free the lease. */
export async function finishJob(db: Db, id: string, f: { status: string; payload?: Record<string, unknown>; at: Date }): Promise<void> {
  await db('jobs')
    .where({ id })
    .update({ status: f.status, ...(f.payload ? { payload: JSON.stringify(f.payload) } : {}), locked_until: null, locked_by: null, updated_at: f.at });
}

/** A job of a given type by id (e.g. the SMS a provider's callback names). */
export async function jobOfType(db: Db, id: string, type: string): Promise<Pick<JobRow, 'id' | 'case_id' | 'payload' | 'element_id'> | undefined> {
  return db('jobs').where({ id, type }).first('id', 'case_id', 'payload', 'element_id');
}

/** Replace a job's payload (what became of a sent message), leaving its status alone. */
export async function updateJobPayload(db: Db, id: string, payload: Record<string, unknown>, at: Date): Promise<void> {
  await db('jobs').where({ id }).update({ payload: JSON.stringify(payload), updated_at: at });
}

// --- end of the executor's and deliveries' functions

// --- timers and outbox rows written by a command (engine/projection.ts, engine/outbox.ts, engine/runtime.ts)

/** The case's pending timer jobs: what the engine had armed after the last command. */
export async function armedTimerJobs(trx: Knex.Transaction, caseId: string): Promise<Array<{ id: string; execution_id: string }>> {
  return trx('jobs').where({ case_id: caseId, type: 'timer', status: 'pending' }).select('id', 'execution_id');
}

export async function deleteJobs(to: Writes, ids: string[]): Promise<void> {
  if (ids.length) await write(to, (trx) => trx('jobs').whereIn('id', ids).delete());
}

export async function insertTimerJobs(to: Writes, caseId: string, timers: Array<{ elementId: string; executionId: string; expireAt: Date }>): Promise<void> {
  if (!timers.length) return;
  await write(to, (trx) =>
    trx('jobs').insert(
      timers.map((t) => ({
        type: 'timer',
        case_id: caseId,
        element_id: t.elementId,
        execution_id: t.executionId,
        due_at: t.expireAt,
        payload: JSON.stringify({ elementId: t.elementId }),
      })),
    ),
  );
}

/** Outbox rows, due now; returns their ids in order. */
export async function insertOutboxJobs(
  trx: Knex.Transaction,
  jobs: Array<{ type: string; case_id: string | null; element_id: string | null; due_at: Date; payload: Record<string, unknown>; max_attempts?: number }>,
): Promise<string[]> {
  if (!jobs.length) return [];
  const rows = await trx('jobs')
    .insert(jobs.map((j) => ({ ...j, payload: JSON.stringify(j.payload) })))
    .returning('id');
  return rows.map((r: any) => String(r.id ?? r));
}

/** The case a timer job belongs to, while the job exists. */
export async function timerJob(db: Db | Knex.Transaction, id: string | number, opts: { pendingOnly?: boolean } = {}): Promise<{ id: string; case_id: string; element_id: string | null; execution_id: string | null } | undefined> {
  const q = db('jobs').where({ id, type: 'timer' });
  if (opts.pendingOnly) q.where({ status: 'pending' });
  return q.first('id', 'case_id', 'element_id', 'execution_id');
}

/** A migration renamed the element a timer waits at: its pending job follows. */
export async function renameTimerElement(trx: Knex.Transaction, caseId: string, from: string, to: string): Promise<void> {
  await trx('jobs').where({ case_id: caseId, element_id: from, status: 'pending' }).update({ element_id: to });
}

/** Cases whose timer at one of `elementIds` is armed (the simulator's citizens answer those). */
export async function casesWaitingAtTimers(db: Db, elementIds: string[]): Promise<Array<{ code: string; element_id: string }>> {
  return db('jobs')
    .join('cases', 'cases.id', 'jobs.case_id')
    .where({ 'jobs.type': 'timer', 'jobs.status': 'pending' })
    .whereIn('jobs.element_id', elementIds)
    .select('cases.code', 'jobs.element_id');
}

// --- periodic jobs (one pending row per type, rescheduled by its handler: the history checkpoint)

/** Make sure one job of `type` is pending (nodes starting together serialise on an advisory lock). */
export async function ensurePeriodicJob(db: Db, type: string, dueAt: Date): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`jobs:periodic:${type}`]);
    const pending = await trx('jobs').where({ type, status: 'pending' }).first('id');
    if (!pending) await trx('jobs').insert({ type, due_at: dueAt, payload: JSON.stringify({}) });
  });
}

/** A periodic job ran: it waits for its next run, its lease and attempts cleared. */
export async function reschedulePeriodicJob(db: Db, id: string, dueAt: Date, at: Date): Promise<void> {
  await db('jobs').where({ id }).update({ status: 'pending', due_at: dueAt, attempts: 0, locked_until: null, locked_by: null, last_error: null, updated_at: at });
}

// --- job incidents (a job that failed every attempt) and their retry by a person

/** Jobs that failed every attempt, newest first, with their case's code. */
export async function jobIncidents(db: Db, f: { type?: string; limit: number }): Promise<Array<JobRow & { case_code: string | null; updated_at: Date }>> {
  const q = db('jobs as j').leftJoin('cases as c', 'c.id', 'j.case_id').where('j.status', 'incident').orderBy('j.updated_at', 'desc').limit(f.limit).select('j.*', 'c.code as case_code');
  if (f.type) q.where('j.type', f.type);
  return q;
}

export async function jobById(db: Db | Knex.Transaction, id: string): Promise<(JobRow & { updated_at: Date }) | undefined> {
  return db('jobs').where({ id }).first();
}

/** Put an incident back in the queue, due at `at`, with a fresh set of attempts; undefined unless it is an incident. */
export async function requeueIncident(trx: Knex.Transaction, id: string, at: Date): Promise<JobRow | undefined> {
  const [row] = await trx('jobs')
    .where({ id, status: 'incident' })
    .update({ status: 'pending', attempts: 0, due_at: at, locked_until: null, locked_by: null, updated_at: at })
    .returning('*');
  return row;
}

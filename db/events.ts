import type { Knex } from 'knex';
import type { Db } from './connect.js';
import type { DeferredWrites } from './deferred.js';

/** One event for agencies' systems (the feed, and what webhooks deliver). */
export interface HotlineEventRow {
  id: string;
  event_id: string;
  type: string;
  case_id: string | null;
  groups: string[];
  data: Record<string, unknown>;
  dedupe_key: string | null;
  occurred_at: Date;
}

export type NewHotlineEvent = Pick<HotlineEventRow, 'type' | 'case_id' | 'groups' | 'data' | 'dedupe_key' | 'occurred_at'>;

type EventsWithDeliveries = {
  events: NewHotlineEvent[];
  delivery: { type: string; dueAt: Date; maxAttempts: number };
  jobs: Array<{ type: string; case_id: string | null; element_id: string | null; due_at: Date; payload: Record<string, unknown> }>;
};

/**
 * A command's hotline events, a webhook delivery job per subscription that
 * wants each written event (type among its events; its agency null or one of
 * the event's groups), and other jobs that follow from the command (task
 * deadlines), in one statement: before, a subscriptions read per event and an
 * insert per kind of row (a round trip costs 0.3–0.6 ms on the benchmark
 * machine). Returns the events written (a dedupe_key already written is skipped,
 * and so are its deliveries).
 */
export async function insertEventsWithDeliveries(trx: Knex.Transaction, f: EventsWithDeliveries): Promise<HotlineEventRow[]> {
  if (!f.events.length && !f.jobs.length) return [];
  const { items, bindings } = eventsWithDeliveries(trx, f);
  const { rows } = await trx.raw(`with ${items.join(', ')} ${f.events.length ? 'select * from written order by id' : 'select 1'}`, bindings);
  return f.events.length ? rows : [];
}

/** The same rows, held for the command's history statement (db/deferred.ts): a command does not read them back. */
export function holdEventsWithDeliveries(held: DeferredWrites, f: EventsWithDeliveries): void {
  if (!f.events.length && !f.jobs.length) return;
  const { items, bindings } = eventsWithDeliveries(held.trx, f);
  held.addItems(items, bindings);
}

/** The WITH items that write them: jobs_written, written (the events), deliveries. */
function eventsWithDeliveries(trx: Knex.Transaction, f: EventsWithDeliveries): { items: string[]; bindings: Knex.RawBinding[] } {
  const items: string[] = [];
  const bindings: Knex.RawBinding[] = [];
  if (f.jobs.length) {
    const jobs = trx('jobs').insert(f.jobs.map((j) => ({ ...j, payload: JSON.stringify(j.payload) }))).toSQL();
    items.push(`jobs_written as (${jobs.sql})`);
    bindings.push(...jobs.bindings);
  }
  if (!f.events.length) return { items, bindings };
  const events = trx('hotline_events')
    .insert(f.events.map((e) => ({ ...e, data: JSON.stringify(e.data) })))
    .onConflict('dedupe_key')
    .ignore()
    .returning('*')
    .toSQL();
  items.push(`written as (${events.sql})`);
  bindings.push(...events.bindings);
  items.push(`deliveries as (
      insert into jobs (type, case_id, element_id, due_at, max_attempts, payload)
      select ?, w.case_id, null, ?::timestamptz, ?::int, jsonb_build_object('subscriptionId', s.id, 'eventId', w.id::text)
        from written w
        join subscriptions s on s.ended_at is null and w.type = any(s.events) and (s.agency is null or s.agency = any(w.groups)))`);
  bindings.push(f.delivery.type, f.delivery.dueAt, f.delivery.maxAttempts);
  return { items, bindings };
}

export async function findEvent(db: Db, id: string): Promise<HotlineEventRow | undefined> {
  return db('hotline_events').where({ id }).first();
}

/**
 * The feed: events after a cursor (the last id seen), oldest first;
 * `groups` null reads every event, otherwise those concerning one of them.
 */
export async function eventsAfter(db: Db, f: { after: string; groups: string[] | null; types?: string[]; limit: number }): Promise<HotlineEventRow[]> {
  const q = db('hotline_events').where('id', '>', f.after).orderBy('id').limit(f.limit);
  if (f.groups) q.whereRaw('groups && ?::text[]', [f.groups]);
  if (f.types?.length) q.whereIn('type', f.types);
  return q;
}

/** Whether a task of the case was ever completed (its task.created/task.completed history), for deadline announcements. */
export async function taskCompletedEver(db: Db | Knex.Transaction, caseId: string, taskId: string): Promise<boolean> {
  const row = await db('case_events').where({ case_id: caseId, type: 'task.completed' }).whereRaw(`payload->>'taskId' = ?`, [taskId]).first('id');
  return Boolean(row);
}

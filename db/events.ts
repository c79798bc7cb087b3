import type { Knex } from 'knex';
import type { Db } from './connect.js';

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

/**
 * Insert events; one whose dedupe_key was already written is skipped (a
 * reminder announced by the diagram and by the deadline job). Returns the
 * rows written.
 */
export async function insertEvents(trx: Knex.Transaction, events: NewHotlineEvent[]): Promise<HotlineEventRow[]> {
  if (!events.length) return [];
  return trx('hotline_events')
    .insert(events.map((e) => ({ ...e, data: JSON.stringify(e.data) })))
    .onConflict('dedupe_key')
    .ignore()
    .returning('*');
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

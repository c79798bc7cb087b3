import type { Knex } from 'knex';
import type { Db } from './connect.js';

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

/** The head of a chain (a case's, or the system chain's when caseId is null): its last seq and hash. */
export async function chainHead(trx: Knex.Transaction, caseId: string | null): Promise<{ seq: number; hash: string | null } | undefined> {
  const q = trx('case_events').orderBy('seq', 'desc');
  if (caseId === null) q.whereNull('case_id');
  else q.where({ case_id: caseId });
  return q.first('seq', 'hash');
}

/** Events are only ever inserted: the database refuses UPDATE and DELETE on case_events. */
export async function insertEvents(trx: Knex.Transaction, rows: Array<ChainedRow>): Promise<void> {
  if (!rows.length) return;
  await trx('case_events').insert(rows.map((r) => ({ ...r, payload: JSON.stringify(r.payload) })));
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

/** How often each element of a case started and ended: the path the case page draws. */
export async function activityCounts(db: Db, caseId: string): Promise<Array<{ element_id: string; type: string; n: number }>> {
  const rows = await db('case_events')
    .where({ case_id: caseId })
    .whereIn('type', ['activity.started', 'activity.completed', 'activity.cancelled'])
    .whereNotNull('element_id')
    .groupBy('element_id', 'type')
    .select('element_id', 'type')
    .count('* as n');
  return rows.map((r: any) => ({ element_id: r.element_id, type: r.type, n: Number(r.n) }));
}

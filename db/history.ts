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

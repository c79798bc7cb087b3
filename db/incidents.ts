import type { Knex } from 'knex';
import type { Db } from './connect.js';

/** Incidents: a timer or task the runtime guard held because its expression gave null or a wrong type. */

export interface IncidentRow {
  id: string;
  case_id: string;
  kind: 'timer' | 'task';
  element_id: string;
  execution_id: string;
  expression: string;
  yielded: unknown;
  message: string;
  status: 'open' | 'resolved';
  created_at: Date;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolution: string | null;
}

export interface NewIncident {
  kind: 'timer' | 'task';
  elementId: string;
  executionId: string;
  expression: string;
  yielded: unknown;
  message: string;
}

/** Open an incident unless the same timer or task already has one open; true when a new one was opened. */
export async function openIncident(trx: Knex.Transaction, caseId: string, i: NewIncident, at: Date): Promise<boolean> {
  const rows = await trx('incidents')
    .insert({ case_id: caseId, kind: i.kind, element_id: i.elementId, execution_id: i.executionId, expression: i.expression, yielded: JSON.stringify(i.yielded ?? null), message: i.message, created_at: at })
    .onConflict(trx.raw(`(case_id, execution_id) where status = 'open'`))
    .ignore()
    .returning('id');
  return rows.length > 0;
}

export async function openIncidentsOfCase(db: Db | Knex.Transaction, caseId: string): Promise<IncidentRow[]> {
  return db('incidents').where({ case_id: caseId, status: 'open' }).orderBy('id');
}

export async function incidentsOfCase(db: Db, caseId: string): Promise<IncidentRow[]> {
  return db('incidents').where({ case_id: caseId }).orderBy('id');
}

export async function incidentById(db: Db | Knex.Transaction, id: string): Promise<IncidentRow | undefined> {
  return db('incidents').where({ id }).first();
}

/** Incidents with their case's code, newest first; `status` filters. */
export async function listIncidents(db: Db, f: { status?: 'open' | 'resolved'; limit: number }): Promise<Array<IncidentRow & { case_code: string }>> {
  const q = db('incidents as i').join('cases as c', 'c.id', 'i.case_id').select('i.*', 'c.code as case_code').orderBy('i.id', 'desc').limit(f.limit);
  if (f.status) q.where('i.status', f.status);
  return q;
}

/** Close incidents of a case by id; returns the ones closed. */
export async function resolveIncidents(trx: Knex.Transaction, ids: string[], r: { at: Date; by: string; resolution: string }): Promise<IncidentRow[]> {
  if (!ids.length) return [];
  return trx('incidents').whereIn('id', ids).where({ status: 'open' }).update({ status: 'resolved', resolved_at: r.at, resolved_by: r.by, resolution: r.resolution }).returning('*');
}

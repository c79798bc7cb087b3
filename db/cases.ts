import type { Db } from './connect.js';

export async function findCaseByCode(db: Db, code: string) {
  return db('cases as c')
    .join('definitions as d', 'd.id', 'c.definition_id')
    .where('c.code', code)
    .first('c.id', 'c.code', 'c.status', 'c.variables', 'c.version', 'c.created_by', 'c.created_at', 'c.updated_at', 'c.ended_at', 'd.key as process_key', 'd.version as process_version');
}

export async function openTasksOfCase(db: Db, caseId: string) {
  return db('tasks').where({ case_id: caseId }).orderBy('created_at').select('id', 'element_id', 'name', 'candidate_groups', 'assignee', 'due_at', 'form_key', 'created_at');
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
  return db('cases as c').join('definitions as d', 'd.id', 'c.definition_id').where('c.code', code).first('c.status', 'd.key');
}

import type { Knex } from 'knex';
import type { Db } from './connect.js';
import { write, type Writes } from './deferred.js';

/** One open user task: the inbox projection of a case's engine state (engine/projection.ts writes it). */
export interface TaskRow {
  id: string;
  case_id: string;
  element_id: string;
  execution_id: string;
  name: string | null;
  candidate_groups: string[];
  assignee: string | null;
  due_at: Date | null;
  form_key: string | null;
  created_at: Date;
}

export async function findTask(db: Db | Knex.Transaction, id: string): Promise<TaskRow | undefined> {
  return db('tasks').where({ id }).first();
}

export async function tasksOfCase(db: Db | Knex.Transaction, caseId: string): Promise<TaskRow[]> {
  return db('tasks').where({ case_id: caseId }).orderBy('created_at');
}

/** A new task row; its id is made by the caller, so the insert may be held (db/deferred.ts). */
export async function insertTask(to: Writes, task: TaskRow): Promise<void> {
  await write(to, (trx) => trx('tasks').insert(task));
}

export async function deleteTasks(to: Writes, ids: string[]): Promise<void> {
  if (ids.length) await write(to, (trx) => trx('tasks').whereIn('id', ids).delete());
}

export async function deleteTasksOfCase(to: Writes, caseId: string): Promise<void> {
  await write(to, (trx) => trx('tasks').where({ case_id: caseId }).delete());
}

export async function setAssignee(trx: Knex.Transaction, id: string, assignee: string | null): Promise<TaskRow> {
  const [row] = await trx('tasks').where({ id }).update({ assignee }).returning('*');
  return row;
}

/** A migration renamed the element a task waits at: the row follows it (same execution, so same agency and deadline). */
export async function renameTaskElement(trx: Knex.Transaction, caseId: string, executionId: string, element: { id: string; name: string | null; formKey: string | null }): Promise<void> {
  await trx('tasks').where({ case_id: caseId, execution_id: executionId }).update({ element_id: element.id, name: element.name, form_key: element.formKey });
}

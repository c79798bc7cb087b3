import type { Db } from './connect.js';
import type { TaskRow } from './tasks.js';

export interface InboxQuery {
  /** null: every task (roles that oversee); otherwise tasks for these groups or this assignee. */
  groups: string[] | null;
  assignee: string;
  dueBefore?: Date;
  state?: 'open' | 'claimed';
  field?: string;
  unit?: string;
  overdue?: boolean;
  /** What "overdue" is measured against: the caller's clock. */
  now: Date;
  q?: string;
  limit: number;
  cursor?: { due: string | null; id: string };
}

/** An inbox line: the task with its case's code and variables (title, field, unit shown in the list). */
export interface InboxRow extends TaskRow {
  code: string;
  variables: Record<string, unknown>;
}

/**
 * Open tasks ordered by due date (no due date last), keyset-paginated on
 * (due_at, id) so a page costs the same at the end of a long list as at the
 * start. Uses tasks_due_idx and the GIN index on candidate_groups.
 */
export async function listInbox(db: Db, q: InboxQuery): Promise<InboxRow[]> {
  const query = db('tasks as t')
    .join('cases as c', 'c.id', 't.case_id')
    .select('t.id', 't.case_id', 'c.code', 't.element_id', 't.name', 't.candidate_groups', 't.assignee', 't.due_at', 't.form_key', 't.created_at', 'c.variables')
    .orderByRaw('t.due_at asc nulls last, t.id asc')
    .limit(q.limit);
  if (q.groups) {
    const groups = q.groups;
    query.where((w) => w.whereRaw('t.candidate_groups && ?::text[]', [groups]).orWhere('t.assignee', q.assignee));
  }
  if (q.dueBefore) query.where('t.due_at', '<', q.dueBefore);
  if (q.state === 'open') query.whereNull('t.assignee');
  if (q.state === 'claimed') query.whereNotNull('t.assignee');
  if (q.field) query.whereRaw(`c.variables->>'field' = ?`, [q.field]);
  if (q.unit) query.whereRaw(`c.variables->>'unit' = ?`, [q.unit]);
  if (q.overdue === true) query.where('t.due_at', '<', q.now);
  if (q.overdue === false) query.where((w) => w.whereNull('t.due_at').orWhere('t.due_at', '>=', q.now));
  if (q.q) query.where((w) => w.whereILike('t.name', `%${escapeLike(q.q!)}%`).orWhereRaw(`c.variables->>'title' ilike ?`, [`%${escapeLike(q.q!)}%`]));
  if (q.cursor) {
    const { due, id } = q.cursor;
    if (due === null) query.whereNull('t.due_at').where('t.id', '>', id);
    else query.where((w) => w.where('t.due_at', '>', new Date(due)).orWhere((x) => x.where('t.due_at', new Date(due)).where('t.id', '>', id)).orWhereNull('t.due_at'));
  }
  return query;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

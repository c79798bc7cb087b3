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

/** The inbox's sort key: the due date, tasks without one last (tasks_inbox_key_idx is on this expression and id). */
const DUE_KEY = `coalesce(t.due_at, 'infinity'::timestamptz)`;

/**
 * Open tasks ordered by due date (no due date last), keyset-paginated on
 * (due key, id) as one row comparison, so tasks_inbox_key_idx serves the
 * order, the keyset and the overdue filters as one range scan: a page costs
 * the same at the end of a long list as at the start (EXPLAIN in
 * docs/performance.md). The groups filter is checked on the rows the range
 * walks (the GIN index on candidate_groups cannot give them in order).
 */
export async function listInbox(db: Db, q: InboxQuery): Promise<InboxRow[]> {
  const query = db('tasks as t')
    .join('cases as c', 'c.id', 't.case_id')
    .select('t.id', 't.case_id', 'c.code', 't.element_id', 't.name', 't.candidate_groups', 't.assignee', 't.due_at', 't.form_key', 't.created_at', 'c.variables')
    .orderByRaw(`${DUE_KEY} asc, t.id asc`)
    .limit(q.limit);
  if (q.groups) {
    const groups = q.groups;
    query.where((w) => w.whereRaw('t.candidate_groups && ?::text[]', [groups]).orWhere('t.assignee', q.assignee));
  }
  if (q.dueBefore) query.whereRaw(`${DUE_KEY} < ?`, [q.dueBefore]);
  if (q.state === 'open') query.whereNull('t.assignee');
  if (q.state === 'claimed') query.whereNotNull('t.assignee');
  if (q.field) query.whereRaw(`c.variables->>'field' = ?`, [q.field]);
  if (q.unit) query.whereRaw(`c.variables->>'unit' = ?`, [q.unit]);
  if (q.overdue === true) query.whereRaw(`${DUE_KEY} < ?`, [q.now]);
  if (q.overdue === false) query.whereRaw(`${DUE_KEY} >= ?`, [q.now]);
  if (q.q) query.where((w) => w.whereILike('t.name', `%${escapeLike(q.q!)}%`).orWhereRaw(`c.variables->>'title' ilike ?`, [`%${escapeLike(q.q!)}%`]));
  if (q.cursor) {
    const { due, id } = q.cursor;
    // A task without a due date sorts as 'infinity', so the cursor of one is ('infinity', id).
    query.whereRaw(`(${DUE_KEY}, t.id) > (?::timestamptz, ?::uuid)`, [due === null ? 'infinity' : new Date(due), id]);
  }
  return query;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

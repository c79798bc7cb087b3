import type { Knex } from 'knex';
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
 * (due key, id) as one row comparison.
 *
 * A caller in groups (an agency's clerk): each of its groups is read as its
 * own range of task_groups' primary key (group, due key, task id), and the
 * tasks assigned to it as a range of tasks_assignee_inbox_idx; each range
 * stops after a page, the pages are merged (a task in two of the caller's
 * groups, or in one and assigned to it, counts once) and cut to a page. So a
 * page reads at most (groups + 1) × limit index entries whatever the other
 * agencies hold; before, the range of tasks_inbox_key_idx walked every
 * agency's tasks and dropped the others' (18 527 rows for one first page at
 * 300 050 cases: 18 860 buffers and 12 ms, now 467 buffers and 0.3 ms;
 * docs/performance.md, "Inbox per agency").
 *
 * A caller that sees every task (groups null: coordinators, auditors) reads
 * tasks_inbox_key_idx as one range: the order, the keyset and the overdue
 * filters are its bounds, so a deep page costs what the first does.
 */
export async function listInbox(db: Db, q: InboxQuery): Promise<InboxRow[]> {
  return q.groups ? inboxOfGroups(db, q, q.groups) : everyTask(db, q);
}

async function everyTask(db: Db, q: InboxQuery): Promise<InboxRow[]> {
  const query = db('tasks as t')
    .join('cases as c', 'c.id', 't.case_id')
    .select('t.id', 't.case_id', 'c.code', 't.element_id', 't.name', 't.candidate_groups', 't.assignee', 't.due_at', 't.form_key', 't.created_at', 'c.variables')
    .orderByRaw(`${DUE_KEY} asc, t.id asc`)
    .limit(q.limit);
  if (q.dueBefore) query.whereRaw(`${DUE_KEY} < ?`, [q.dueBefore]);
  if (q.state === 'open') query.whereNull('t.assignee');
  if (q.state === 'claimed') query.whereNotNull('t.assignee');
  if (q.field) query.whereRaw(`c.variables->>'field' = ?`, [q.field]);
  if (q.unit) query.whereRaw(`c.variables->>'unit' = ?`, [q.unit]);
  if (q.overdue === true) query.whereRaw(`${DUE_KEY} < ?`, [q.now]);
  if (q.overdue === false) query.whereRaw(`${DUE_KEY} >= ?`, [q.now]);
  if (q.q) query.whereRaw(TEXT_MATCH, textMatchBindings(q.q));
  if (q.cursor) {
    const { due, id } = q.cursor;
    // A task without a due date sorts as 'infinity', so the cursor of one is ('infinity', id).
    query.whereRaw(`(${DUE_KEY}, t.id) > (?::timestamptz, ?::uuid)`, [due === null ? 'infinity' : new Date(due), id]);
  }
  return query;
}

/** SQL text with its positional bindings. */
interface Sql {
  text: string;
  bindings: Knex.Value[];
}

/**
 * One branch of a caller's inbox: the (due key, id) of at most `limit` tasks
 * from one index range, in inbox order. `key` and `id` name the columns the
 * range is on; the other filters are checked on the rows the range walks,
 * joining tasks and cases only when a filter reads them.
 */
interface Range {
  /** The table (with its alias) the range is on. */
  table: string;
  /** The leading column of the range's index, and its one value: a group, or the assignee. */
  lead: { column: string; value: string };
  /** The columns of the range's order after the lead: the due key, then the task id. */
  key: string;
  id: string;
  /** Whether `table` is tasks t already. */
  isTasks: boolean;
  /** Whether the bounds name the lead column too (see branch). */
  leadInBounds: boolean;
}

function branch(q: InboxQuery, from: Range): Sql {
  const needCase = Boolean(q.field || q.unit || q.q);
  const needTask = needCase || Boolean(q.state);
  const joins: string[] = [];
  if (needTask && !from.isTasks) joins.push('join tasks t on t.id = ' + from.id);
  if (needCase) joins.push('join cases c on c.id = t.case_id');
  const where: string[] = [];
  const bindings: Knex.Value[] = [];
  const cond = (text: string, ...b: Knex.Value[]) => {
    where.push(text);
    bindings.push(...b);
  };
  const { column: lead, value } = from.lead;
  cond(`${lead} = ?`, value);
  // A bound on (due key, id) after `lead = value`. On tasks the bound also starts with the lead
  // (equal to its one value, so `(lead, key) < (value, x)` is `key < x`) so that only
  // tasks_assignee_inbox_idx can serve it: written on the key alone, the assignee's branch of a page
  // after 10 000 tasks was served by tasks_inbox_key_idx with the assignee as a filter (the planner
  // guessed 1 row after the cursor): 107 655 rows walked, 74 ms, at 300 000 cases. Not on
  // task_groups (its primary key is its one index): there a bound starting with the lead made the
  // scan start at the group's first row and walk to the cursor (138 buffers and 4.4 ms instead of
  // 54 and 0.07 ms after 10 000 tasks); on tasks that walk is only the caller's own claimed tasks.
  const bound = (cols: string[], op: string, types: string[], values: Knex.Value[]) =>
    from.leadInBounds
      ? cond(`(${[lead, ...cols].join(', ')}) ${op} (${['?::text', ...types].join(', ')})`, value, ...values)
      : cond(`(${cols.join(', ')}) ${op} (${types.join(', ')})`, ...values);
  if (q.dueBefore) bound([from.key], '<', ['?::timestamptz'], [q.dueBefore]);
  if (q.overdue === true) bound([from.key], '<', ['?::timestamptz'], [q.now]);
  if (q.overdue === false) bound([from.key], '>=', ['?::timestamptz'], [q.now]);
  if (q.cursor) {
    // A task without a due date sorts as 'infinity', so the cursor of one is ('infinity', id).
    bound([from.key, from.id], '>', ['?::timestamptz', '?::uuid'], [q.cursor.due === null ? 'infinity' : new Date(q.cursor.due), q.cursor.id]);
  }
  if (q.state === 'open') cond('t.assignee is null');
  if (q.state === 'claimed') cond('t.assignee is not null');
  if (q.field) cond(`c.variables->>'field' = ?`, q.field);
  if (q.unit) cond(`c.variables->>'unit' = ?`, q.unit);
  if (q.q) cond(TEXT_MATCH, ...textMatchBindings(q.q));
  return {
    text: `(select ${from.key} as due_key, ${from.id} as id from ${[from.table, ...joins].join(' ')}
       where ${where.join(' and ')}
       order by ${from.key}, ${from.id} limit ?)`,
    bindings: [...bindings, q.limit],
  };
}

async function inboxOfGroups(db: Db, q: InboxQuery, groups: string[]): Promise<InboxRow[]> {
  const branches = [...new Set(groups)].map((g) =>
    branch(q, { table: 'task_groups g', lead: { column: 'g.grp', value: g }, key: 'g.due_key', id: 'g.task_id', isTasks: false, leadInBounds: false }),
  );
  branches.push(branch(q, { table: 'tasks t', lead: { column: 't.assignee', value: q.assignee }, key: DUE_KEY, id: 't.id', isTasks: true, leadInBounds: true }));
  // union, not union all: a task in two of the caller's groups (or in one and assigned to it) is one line.
  const { rows } = await db.raw(
    `select t.id, t.case_id, c.code, t.element_id, t.name, t.candidate_groups, t.assignee, t.due_at, t.form_key, t.created_at, c.variables
       from (select due_key, id from (${branches.map((b) => b.text).join(' union ')}) u order by due_key, id limit ?) k
       join tasks t on t.id = k.id
       join cases c on c.id = t.case_id
      order by k.due_key, k.id`,
    [...branches.flatMap((b) => b.bindings), q.limit],
  );
  return rows;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * ?q= of the inbox: the task's name, or the case's title and description without diacritics or case
 * (cases.search_text, filled by pakn_fold, as the case search reads it): "ranh gioi" finds "Tranh chấp ranh
 * giới", which it did not (the title was matched with ilike, diacritics and all).
 */
const TEXT_MATCH = `(t.name ilike ? or c.search_text like '%' || pakn_fold(?) || '%' escape '\\')`;

function textMatchBindings(text: string): [string, string] {
  return [`%${escapeLike(text)}%`, escapeLike(text)];
}

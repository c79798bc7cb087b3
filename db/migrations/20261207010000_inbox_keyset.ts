import type { Knex } from 'knex';

/**
 * Indexes chosen from EXPLAIN on a database of 100 000+ open cases (issue 20,
 * docs/performance.md):
 *
 * tasks_inbox_key_idx — the inbox orders by due date, tasks without one
 * last, then id, and pages with a keyset on that pair. Written as
 * (coalesce(due_at, 'infinity'), id) the order and the keyset are one row
 * comparison that this index serves as a range scan: a page after 10 000
 * tasks costs what the first page costs, and overdue=false (due_at null or
 * not yet passed) is the range from now on instead of a scan of every task.
 *
 * (A command's lookup of its case's task rows is served by the unique index
 * on (case_id, execution_id); the job claim by jobs_poll_idx.)
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create index if not exists tasks_inbox_key_idx on tasks ((coalesce(due_at, 'infinity'::timestamptz)), id)`);
  await knex.raw(`comment on index tasks_inbox_key_idx is 'Inbox order and keyset: (due date, tasks without one last; id)'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists tasks_inbox_key_idx');
}

import type { Db } from './connect.js';

/** Figures read at scrape time (api/metrics.ts), so every node reports the same truth. */

/** Jobs waiting (pending) or given up (incident), by type and status. */
export async function jobsByTypeAndStatus(db: Db): Promise<Array<{ type: string; status: string; n: number }>> {
  const rows = await db('jobs').whereIn('status', ['pending', 'incident']).groupBy('type', 'status').select('type', 'status').count('* as n');
  return rows.map((r: any) => ({ type: r.type, status: r.status, n: Number(r.n) }));
}

/** The oldest due time among pending jobs due at `now`, by type. */
export async function oldestDueJobs(db: Db, now: Date): Promise<Array<{ type: string; oldest: Date }>> {
  const rows = await db('jobs').where({ status: 'pending' }).where('due_at', '<=', now).groupBy('type').select('type').min('due_at as oldest');
  return rows.map((r: any) => ({ type: r.type, oldest: new Date(r.oldest) }));
}

export async function casesByStatus(db: Db): Promise<Array<{ status: string; n: number }>> {
  const rows = await db('cases').groupBy('status').select('status').count('* as n');
  return rows.map((r: any) => ({ status: r.status, n: Number(r.n) }));
}

/** Open tasks per candidate group (a task counts once in each of its groups), and whether they are past due at `now`. */
export async function openTasksByGroup(db: Db, now: Date): Promise<Array<{ group: string; overdue: boolean; n: number }>> {
  const { rows } = await db.raw(`select g as grp, (due_at < ?) as overdue, count(*) as n from tasks, unnest(candidate_groups) g group by 1, 2`, [now]);
  return rows.map((r: any) => ({ group: r.grp, overdue: Boolean(r.overdue), n: Number(r.n) }));
}

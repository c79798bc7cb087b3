import type { Db } from './connect.js';

export interface Counter {
  hits: number;
  windowStart: Date;
  lastAt: Date;
}

/**
 * Count one request in `bucket` (a window of `windowMs` that restarts when
 * it has passed): one statement, so concurrent requests on any node count
 * exactly. Returns the counter after this request.
 */
export async function hit(db: Db, bucket: string, windowMs: number, now: Date): Promise<Counter> {
  const { rows } = await db.raw(
    `insert into rate_limits (bucket, hits, window_start, last_at) values (:bucket, 1, :now, :now)
     on conflict (bucket) do update set
       hits = case when rate_limits.window_start <= :cutoff then 1 else rate_limits.hits + 1 end,
       window_start = case when rate_limits.window_start <= :cutoff then :now else rate_limits.window_start end,
       last_at = :now
     returning hits, window_start, last_at`,
    { bucket, now, cutoff: new Date(now.getTime() - windowMs) },
  );
  return { hits: rows[0].hits, windowStart: new Date(rows[0].window_start), lastAt: new Date(rows[0].last_at) };
}

/** The counter of `bucket` if its window is still open. */
export async function peek(db: Db, bucket: string, windowMs: number, now: Date): Promise<Counter | undefined> {
  const row = await db('rate_limits').where({ bucket }).where('window_start', '>', new Date(now.getTime() - windowMs)).first();
  return row ? { hits: row.hits, windowStart: new Date(row.window_start), lastAt: new Date(row.last_at) } : undefined;
}

export async function reset(db: Db, bucket: string): Promise<void> {
  await db('rate_limits').where({ bucket }).delete();
}

/** Drop counters whose window closed before `before` (housekeeping; a closed window restarts anyway). */
export async function forgetBefore(db: Db, before: Date): Promise<number> {
  return db('rate_limits').where('window_start', '<', before).delete();
}

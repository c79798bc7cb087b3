import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * Send a statement as a named prepared statement (node-postgres parses it
 * once per connection; PostgreSQL then reuses its plan instead of planning
 * it per execution). For the reads every request or command makes: the API
 * key, the catalogue version, a command's lock (the case with its tasks,
 * timer jobs, incidents flag, history head and, for a task command, its task
 * events), the active process, the routing decision's file. Issue 20: planning them
 * took 0.05, 0.05, 0.3–0.35 and 0.5–0.55 ms warm on the benchmark machine;
 * a shipped task completion's three reads went from 0.59 + 1.43 + 1.04 ms to
 * about 0.45 + 0.8 + 0.47 ms (docs/performance.md, "Issue 20, third pass").
 *
 * The name is the SQL's hash, so a statement whose shape varies (a list of
 * n ids) gets one name per shape: use it only where the shapes are few.
 *
 * A prepared statement names its columns (no `*`): a migration that adds a
 * column must not change its result under a running node. One that changes
 * a column's type does ("cached plan must not change result type"): db/connect.ts
 * (PgClient) then replaces the connection, and that one request answers 503
 * (docs/reliability.md). Behind a connection pooler, prepared statements need
 * session pooling or PgBouncer 1.21+ with max_prepared_statements set (README).
 *
 * On embedded PGlite the name is ignored (one connection, nothing to prepare).
 */
export function prepared<T extends Knex.QueryBuilder>(query: T): T {
  const { sql } = query.toSQL();
  return query.options({ name: `pakn_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}` }) as T;
}

import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * Send a statement as a named prepared statement (node-postgres parses it
 * once per connection; PostgreSQL then reuses its plan instead of planning
 * it per execution). For the statements every command or request makes:
 * the API key read, a command's lock (the case with its tasks, timer jobs,
 * incidents flag and history head), the task-row check's history read, the
 * catalogue version. Issue 20: planning them took 0.05, 0.3–0.35, 0.5–0.55
 * and 0.05 ms warm on the benchmark machine; a shipped task completion's
 * three reads went from 0.59 + 1.43 + 1.04 ms to 0.43 + 0.98 + 0.47 ms
 * (docs/performance.md, "Prepared statements").
 *
 * The name is the SQL's hash, so a statement whose shape varies (a list of
 * n ids) gets one name per shape: use it only where the shapes are few.
 *
 * A prepared statement's result columns must not change under it: a
 * migration adding a column to a table read with `*` fails every later
 * execution on a connection that prepared it ("cached plan must not change
 * result type") until the node restarts. So a prepared statement names its
 * columns. Behind a connection pooler, this needs session pooling or
 * PgBouncer 1.21+ with max_prepared_statements set (docs/operator guide).
 *
 * On embedded PGlite the option is ignored (one connection, no protocol to
 * prepare over).
 */
export function prepared<T extends Knex.QueryBuilder>(query: T): T {
  const { sql } = query.toSQL();
  return query.options({ name: `pakn_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}` }) as T;
}

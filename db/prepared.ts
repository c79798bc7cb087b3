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
  return query.options({ name: statementName(sql) }) as T;
}

function statementName(sql: string): string {
  return `pakn_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
}

/**
 * Names for a statement whose shape varies with the rows it writes, which is
 * therefore not prepared() as such (each shape would stay prepared on every
 * pooled connection): a shape is named once it has been sent `after` times,
 * up to `limit` shapes a node (each holds its plan in each connection's
 * backend, about 30–100 KB); any other goes unprepared. At most `counted`
 * shapes are counted, so a statement that embeds values cannot grow the map.
 */
export class PreparedShapes {
  private readonly sent = new Map<string, number>();
  private readonly named = new Set<string>();

  constructor(private readonly options: { limit: number; after: number; counted: number }) {}

  /** The name to send `sql` under, or undefined to send it unprepared. */
  name(sql: string): string | undefined {
    const name = statementName(sql);
    if (this.named.has(name)) return name;
    const times = (this.sent.get(name) ?? 0) + 1;
    if (times === 1 && this.sent.size >= this.options.counted) return undefined;
    if (times >= this.options.after && this.named.size < this.options.limit) {
      this.named.add(name);
      this.sent.delete(name);
      return name;
    }
    this.sent.set(name, times);
    return undefined;
  }
}

/**
 * A command's write statement (db/history.ts insertEvents: its history, task rows,
 * jobs and case row in one data-modifying WITH). Issue 20: parsing and planning it
 * cost 0.44 + about 0.5 ms of a 2.9 ms statement per completion of the shipped
 * diagram on the benchmark machine (PostgreSQL's statement log, "Issue 20, sixth
 * pass" in docs/performance.md), and its shapes are few: 25 over 2,022 commands of
 * two simulated weeks, the ten commonest 85 % of them.
 */
export const writeShapes = new PreparedShapes({ limit: 48, after: 3, counted: 1000 });

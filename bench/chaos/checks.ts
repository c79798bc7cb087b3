import pg from 'pg';

/**
 * What the chaos run reads back from the database to judge the product: the
 * harness's own questions (one case per key, one firing per timer, a digest
 * of the state), not the product's queries, so they live with the harness
 * rather than in db/. Read-only.
 */
export class Checks {
  private constructor(private readonly client: pg.Pool) {}

  static async open(url: string): Promise<Checks> {
    // A pool, not one client: a connection cut by the outage scenario is dropped and the next query opens another.
    const client = new pg.Pool({ connectionString: url, max: 2 });
    client.on('error', () => undefined);
    return new Checks(client);
  }

  close(): Promise<void> {
    return this.client.end().catch(() => undefined);
  }

  private async q<T = any>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.client.query(sql, params)).rows as T[];
  }

  /** Cases whose title starts with `prefix`: per title, how many cases and their codes. */
  async casesByTitle(prefix: string): Promise<Map<string, string[]>> {
    const rows = await this.q<{ title: string; codes: string[] }>(`select variables->>'title' as title, array_agg(code) as codes from cases where variables->>'title' like $1 group by 1`, [`${prefix}%`]);
    return new Map(rows.map((r) => [r.title, r.codes]));
  }

  /** Per case code (of the cases whose title starts with `prefix`): how many times `eventType` at `elementId` was recorded. */
  async eventsPerCase(prefix: string, eventType: string, elementId: string): Promise<Map<string, number>> {
    const rows = await this.q<{ code: string; n: string }>(
      `select c.code, count(e.id) as n from cases c left join case_events e on e.case_id = c.id and e.type = $2 and e.element_id = $3
        where c.variables->>'title' like $1 group by c.code`,
      [`${prefix}%`, eventType, elementId],
    );
    return new Map(rows.map((r) => [r.code, Number(r.n)]));
  }

  /** Idempotency keys starting with `prefix`: the answered ones (key → case code in the stored answer) and the unanswered (stuck) ones. */
  async keys(prefix: string): Promise<{ answered: Map<string, string | null>; stuck: string[] }> {
    const rows = await this.q<{ key: string; status: number | null; code: string | null }>(`select key, status, response->>'code' as code from idempotency_keys where key like $1`, [`${prefix}%`]);
    return { answered: new Map(rows.filter((r) => r.status !== null).map((r) => [r.key, r.code])), stuck: rows.filter((r) => r.status === null).map((r) => r.key) };
  }

  /** Cases of `processKey` with a title starting with `prefix`: status, timer firings, pending timer jobs, open incidents. */
  async timerCases(prefix: string): Promise<{ cases: number; completed: number; firedOnce: number; firedTwice: number; notFired: number; pendingJobs: number; incidents: number }> {
    const [r] = await this.q(
      `with c as (select id, status from cases where variables->>'title' like $1),
            f as (select c.id, c.status, (select count(*) from case_events e where e.case_id = c.id and e.type = 'timer.fired') as fired from c)
       select (select count(*) from c) as cases,
              (select count(*) from c where status = 'completed') as completed,
              (select count(*) from f where fired = 1) as "firedOnce",
              (select count(*) from f where fired > 1) as "firedTwice",
              (select count(*) from f where fired = 0) as "notFired",
              (select count(*) from jobs j join c on c.id = j.case_id where j.type = 'timer' and j.status = 'pending') as "pendingJobs",
              (select count(*) from incidents i join c on c.id = i.case_id) as incidents`,
      [`${prefix}%`],
    );
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)])) as any;
  }

  /** Pending timer jobs of the cases whose title starts with `prefix`. */
  async pendingTimers(prefix: string): Promise<number> {
    const [r] = await this.q(`select count(*) as n from jobs j join cases c on c.id = j.case_id where j.type = 'timer' and j.status = 'pending' and c.variables->>'title' like $1`, [`${prefix}%`]);
    return Number(r.n);
  }

  private tables?: string[];

  /**
   * One digest of the whole state: per table, how many rows and the sum and
   * maximum of their row versions (xmin, the transaction that wrote each row
   * version), so any insert, update or delete shows, without reading (and
   * de-TOASTing) the rows' contents — the definitions alone are megabytes.
   * Every table except the request counters (rate_limits: a refused request
   * is still counted, by design) and knex's own bookkeeping.
   */
  async digest(): Promise<string> {
    this.tables ??= (
      await this.q<{ t: string }>(
        `select c.relname as t from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
            and c.relname not in ('rate_limits', 'knex_migrations', 'knex_migrations_lock') order by 1`,
      )
    ).map((r) => r.t);
    const parts = this.tables.map((t) => `select '${t}' as t, count(*) || '/' || coalesce(sum(x.xmin::text::bigint), 0) || '/' || coalesce(max(x.xmin::text::bigint), 0) as d from "${t}" x`);
    const rows = await this.q<{ t: string; d: string }>(parts.join(' union all '));
    return rows.map((r) => `${r.t}:${r.d}`).join(',');
  }
}

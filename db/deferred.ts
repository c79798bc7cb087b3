import type { Knex } from 'knex';

/**
 * The writes of a command whose results the command does not read (task rows
 * deleted and inserted with ids made in Node, timer jobs, the hotline's events
 * with their deliveries and deadline jobs, the case row's new state), held
 * until the command's history is written and sent with it, each as items of
 * a data-modifying WITH: one round trip instead of one each.
 *
 * Issue 20: a round trip costs 0.5–1.5 ms from Node on the benchmark machine
 * when the engine has just run (the socket write, waking PostgreSQL, the
 * answer); a task completion of the shipped diagram sent six writes after its
 * lock, now one.
 *
 * What PostgreSQL guarantees for the combined statement: every item runs, in
 * the same snapshot, and foreign keys and row triggers (task_groups,
 * case_answers) are checked and fire as for separate statements; items do
 * not see each other's rows, so nothing held here may depend on another
 * (a row deleted twice is deleted once). A failed item fails the statement,
 * and the command's transaction rolls back as before.
 */
export class DeferredWrites {
  private parts: Array<{ item: string; bindings: readonly Knex.RawBinding[] }> = [];
  private named = 0;

  constructor(readonly trx: Knex.Transaction) {}

  /** Hold one statement (it becomes the item w0, w1, …). */
  add(query: Knex.QueryBuilder): void {
    const { sql, bindings } = query.toSQL();
    this.parts.push({ item: `w${this.named++} as (${sql})`, bindings });
  }

  /** Hold WITH items written as SQL (`name as (…)`, later items may read earlier ones), with their bindings in order. */
  addItems(items: string[], bindings: readonly Knex.RawBinding[]): void {
    this.parts.push({ item: items.join(', '), bindings });
  }

  get size(): number {
    return this.parts.length;
  }

  /** The held writes as WITH items and their bindings, and forget them: the caller sends them. */
  take(): { items: string[]; bindings: Knex.RawBinding[] } {
    const parts = this.parts;
    this.parts = [];
    return { items: parts.map((p) => p.item), bindings: parts.flatMap((p) => p.bindings) };
  }

  /** Send what is still held, alone (a command that wrote no history). */
  async flush(): Promise<void> {
    if (!this.parts.length) return;
    const { items, bindings } = this.take();
    await this.trx.raw(`with ${items.join(', ')} select 1`, bindings);
  }
}

/** Where a write goes: at once (the transaction), or held for the command's history statement. */
export type Writes = Knex.Transaction | DeferredWrites;

/** Send a write now, or hold it. */
export async function write(to: Writes, build: (trx: Knex.Transaction) => Knex.QueryBuilder): Promise<void> {
  if (to instanceof DeferredWrites) to.add(build(to.trx));
  else await build(to);
}

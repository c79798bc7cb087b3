import type { Knex } from 'knex';

/**
 * cases.engine_state is compressed with lz4 instead of pglz where the server
 * has it (PostgreSQL 14+ built --with-lz4, as Debian's, Ubuntu's and the
 * official images are; embedded PGlite is not, and keeps pglz). Every command
 * writes the whole state (22.6 KB of JSON text for a shipped case, stored in
 * 3.6 KB by pglz, 3.8 KB by lz4) and every engine the node did not keep reads
 * it back. Issue 20, measured on the benchmark machine, 2,000 rows updated
 * with a shipped case's state: pglz 0.14–0.17 ms a row, lz4 0.04 ms
 * (docs/performance.md, "seventh pass").
 *
 * Only the column's setting changes (no rewrite, no long lock): a state is
 * compressed with lz4 when it is next written, which every command does.
 */
const LZ4_AVAILABLE = `select coalesce('lz4' = any(enumvals), false) as lz4 from pg_settings where name = 'default_toast_compression'`;

export async function up(knex: Knex): Promise<void> {
  const { rows } = await knex.raw(LZ4_AVAILABLE);
  if (!rows[0]?.lz4) return;
  await knex.raw('alter table cases alter column engine_state set compression lz4');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table cases alter column engine_state set compression default');
}

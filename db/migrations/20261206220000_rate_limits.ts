import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('rate_limits', (t) => {
    t.text('bucket').primary().comment('what is limited, e.g. ip:203.0.113.7, lookup-failures:PA2612-7K3QX, writes:key:…');
    t.integer('hits').notNullable().comment('requests counted in the current window');
    t.timestamp('window_start', { useTz: true }).notNullable();
    t.timestamp('last_at', { useTz: true }).notNullable().comment('the last counted request: growing delays run from here');
  });
  await knex.raw(`comment on table rate_limits is 'Request counters shared by every node (a limit in one node''s memory lets N nodes allow N times the limit)'`);
  await knex.schema.alterTable('rate_limits', (t) => t.index(['window_start']));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('rate_limits');
}

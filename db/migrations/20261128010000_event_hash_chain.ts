import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('case_events', (t) => {
    t.text('prev_hash').comment('hash of the previous event of the same case; null for the first');
    t.text('hash').comment('sha256 over prev_hash and the canonical JSON (RFC 8785) of the event');
  });
  await knex.raw(`create index case_events_at_idx on case_events (at, id)`);
  await knex.raw(`create index case_events_actor_idx on case_events (actor_id, at)`);
  await knex.raw(`comment on column case_events.hash is 'Tamper evidence: GET /v1/history/verify recomputes every chain'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists case_events_actor_idx');
  await knex.raw('drop index if exists case_events_at_idx');
  await knex.schema.alterTable('case_events', (t) => {
    t.dropColumn('hash');
    t.dropColumn('prev_hash');
  });
}

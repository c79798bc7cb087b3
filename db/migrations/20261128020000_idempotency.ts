import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.text('principal_id').notNullable();
    t.text('key').notNullable();
    t.text('route').notNullable();
    t.text('request_hash').notNullable().comment('sha256 of the canonical request body');
    t.integer('status').comment('null while the first request is still running');
    t.jsonb('response');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['principal_id', 'key']);
  });
  await knex.raw(`comment on table idempotency_keys is 'Idempotency-Key of create requests: same key and body → the stored answer, no second effect'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('idempotency_keys');
}

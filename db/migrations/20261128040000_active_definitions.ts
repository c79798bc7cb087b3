import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('active_definitions', (t) => {
    t.text('key').primary();
    t.integer('definition_id').notNullable().references('definitions.id');
    t.text('activated_by').notNullable();
    t.timestamp('activated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`comment on table active_definitions is 'The version of each process new cases start on: deploys can be staged, switched on, and rolled back by switching'`);
  await knex.raw(`
    insert into active_definitions (key, definition_id, activated_by)
    select distinct on (key) key, id, deployed_by from definitions order by key, version desc`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('active_definitions');
}

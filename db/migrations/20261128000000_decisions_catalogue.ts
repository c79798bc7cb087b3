import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('definitions', (t) => {
    t.text('kind').notNullable().defaultTo('bpmn').comment('bpmn | dmn');
    t.index(['kind', 'key']);
  });

  await knex.schema.createTable('catalogue_entries', (t) => {
    t.text('kind').notNullable().comment('agencies | units | fields | procedures');
    t.text('code').notNullable();
    t.text('name').notNullable();
    t.date('valid_from').notNullable();
    t.date('valid_to').comment('null: still in force');
    t.jsonb('data').notNullable().comment('the whole entry as in processes/catalogue/*.json');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['kind', 'code']);
  });
  await knex.raw(`comment on table catalogue_entries is 'Agencies, units, fields and procedures with validity dates, loaded from processes/catalogue'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('catalogue_entries');
  await knex.schema.alterTable('definitions', (t) => {
    t.dropIndex(['kind', 'key']);
    t.dropColumn('kind');
  });
}

import type { Knex } from 'knex';

/**
 * Catalogue and calendar become data the analysts change through the API
 * (issue 17): entries remember whether the shipped files or an analyst wrote
 * them (a restart re-seeds only the former), calendar years live in the
 * database, and one counter tells every node that its copy is stale.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('catalogue_entries', (t) => {
    t.text('source').notNullable().defaultTo('file').comment("file: seeded from processes/catalogue (re-seeded at start); api: written by an analyst (PUT /v1/catalogue), never overwritten by the files");
    t.text('updated_by').comment('principal of the last change (system:seed for the files)');
  });
  await knex.schema.createTable('calendar_years', (t) => {
    t.integer('year').primary();
    t.jsonb('data').notNullable().comment('{holidays: [{date, name, note?}], workingDays: [...], source?, note?, provisional?} as in processes/calendar/vn-holidays.json');
    t.text('source').notNullable().defaultTo('file').comment('file: seeded from processes/calendar (re-seeded at start while unchanged); api: PUT /v1/catalogue/calendar/{year} or pakn calendar import');
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.text('updated_by').notNullable();
  });
  await knex.raw(`comment on table calendar_years is 'The working-day calendar per year: holidays and make-up working days of the state administration, used for every deadline'`);
  await knex.schema.createTable('reference_version', (t) => {
    t.integer('id').primary().comment('always 1: one row');
    t.bigInteger('version').notNullable().comment('bumped by every catalogue or calendar write; nodes reload when it differs from what they hold');
  });
  await knex.raw(`comment on table reference_version is 'Version of the catalogue and calendar: each node checks it per request and per job, so a change is in force on every node without a restart'`);
  await knex('reference_version').insert({ id: 1, version: 1 });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('reference_version');
  await knex.schema.dropTableIfExists('calendar_years');
  await knex.schema.alterTable('catalogue_entries', (t) => {
    t.dropColumn('updated_by');
    t.dropColumn('source');
  });
}

import type { Knex } from 'knex';

/** Reports group cases by these variables over a period; without indexes a year of cases is a full scan each time. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create index cases_created_idx on cases (created_at)`);
  await knex.raw(`create index cases_agency_idx on cases ((variables->>'agency'), created_at)`);
  await knex.raw(`create index cases_field_idx on cases ((variables->>'field'), created_at)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists cases_field_idx');
  await knex.raw('drop index if exists cases_agency_idx');
  await knex.raw('drop index if exists cases_created_idx');
}

import type { Knex } from 'knex';

/**
 * Switching the active version of a process or decision file bumps
 * reference_version, as a catalogue or calendar change does: every node
 * already reads that row with each request's API key and each job batch, so
 * it may keep the active versions (which process a new case starts on, which
 * file a routing decision reads) and read them again only when the version
 * moved. Issue 20: those two reads were two of a shipped start's seven
 * statements (0.39 and 0.75 ms from Node, prepared). A statement trigger, so
 * no writer of active_definitions can forget it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function pakn_bump_reference_version() returns trigger language plpgsql as $$
    begin
      update reference_version set version = version + 1 where id = 1;
      return null;
    end $$`);
  await knex.raw(`comment on function pakn_bump_reference_version() is 'Bumps reference_version when the active process or decision versions change: nodes drop what they kept of them'`);
  await knex.raw(`
    create trigger active_definitions_bump_reference_version after insert or update or delete or truncate on active_definitions
      for each statement execute function pakn_bump_reference_version()`);
  await knex.raw(`comment on table reference_version is 'Version of the catalogue, the calendar and the active definitions: each node checks it per request and per job, so a change is in force on every node without a restart'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists active_definitions_bump_reference_version on active_definitions');
  await knex.raw('drop function if exists pakn_bump_reference_version()');
  await knex.raw(`comment on table reference_version is 'Version of the catalogue and calendar: each node checks it per request and per job, so a change is in force on every node without a restart'`);
}

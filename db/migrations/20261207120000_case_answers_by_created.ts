import type { Knex } from 'knex';

/**
 * case_answers (20261207110000_report_facts) gets the case's created_at, so the
 * reports read the answers of a period's cases as a range instead of hashing
 * every answer ever recorded: with one answer per case at 1 000 000 cases the
 * join of a week's 39 100 cases took 490 ms (the whole table hashed, in 8
 * batches at the default work_mem) against 280 ms with the range, measured on
 * the 300 050-case database filled with a million answers (docs/performance.md
 * "Reports at scale").
 *
 * The trigger reads created_at from the case row, which exists whenever one of
 * its events does (case_events.case_id references cases, and the runtime
 * writes the case row before its history or in the same statement, whose rows
 * an AFTER trigger sees); created_at never changes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table case_answers add column created_at timestamptz`);
  await knex.raw(`comment on column case_answers.created_at is 'cases.created_at of the case, copied when the answer is recorded: the reports read a period''s answers as a range'`);
  await knex.raw(`update case_answers a set created_at = c.created_at from cases c where c.id = a.case_id`);
  await knex.raw(`create index case_answers_created_idx on case_answers (created_at) include (case_id, answered_at)`);
  await knex.raw(`comment on index case_answers_created_idx is 'The answers of the cases received in a period (reports), index-only'`);
  await knex.raw(`
    create or replace function pakn_case_answered() returns trigger language plpgsql as $$
    begin
      insert into case_answers (case_id, answered_at, created_at)
      values (new.case_id, new.at, (select c.created_at from cases c where c.id = new.case_id))
      on conflict (case_id) do update set answered_at = excluded.answered_at
        where case_answers.answered_at > excluded.answered_at;
      return null;
    end $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function pakn_case_answered() returns trigger language plpgsql as $$
    begin
      insert into case_answers (case_id, answered_at) values (new.case_id, new.at)
      on conflict (case_id) do update set answered_at = excluded.answered_at
        where case_answers.answered_at > excluded.answered_at;
      return null;
    end $$`);
  await knex.raw('drop index if exists case_answers_created_idx');
  await knex.raw('alter table case_answers drop column if exists created_at');
}

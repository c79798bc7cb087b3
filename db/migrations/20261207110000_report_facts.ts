import type { Knex } from 'knex';

/**
 * The reports at scale (issue 20, docs/performance.md "Reports at scale").
 *
 * The weekly report and the scorecard need, per case received, the first time
 * an answer was sent (the first `activity.started` of `sendAnswer` in the
 * history). Read with a correlated subquery into the partitioned history, that
 * was one index probe per monthly partition per case: 23.3 s for a weekly
 * report at 100 050 cases.
 *
 * case_answers holds that moment per case, written by a trigger on the
 * history's inserts, so no command code changes and it commits or rolls back
 * with the event that caused it. The history is append-only, so the first
 * sendAnswer of a case never changes once written; the upsert keeps the
 * earliest anyway, whatever order events arrive in (a bulk copy, a restore).
 * It has no foreign key to cases: the history may name a case the cases table
 * no longer has (forged or archived rows, which verify reports), and the
 * trigger must never refuse an insert the history itself accepts. The rows
 * survive archiving of old history months, which the subquery did not.
 *
 * case_events_report_idx: the events the weekly report counts (escalations,
 * findings, transfers, send-backs) by time, so a week's activity is a range of
 * a small index instead of every event of the week read and filtered. Its
 * predicate is written exactly as db/reports.ts activityIn writes its filter
 * (the planner proves the implication by matching the expressions).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table case_answers (
      case_id uuid primary key,
      answered_at timestamptz not null
    )`);
  await knex.raw(`comment on table case_answers is 'Per case, when its answer was first sent: the time of the first activity.started of sendAnswer in case_events; kept by a trigger on case_events, read by the reports'`);
  await knex.raw(`comment on column case_answers.case_id is 'cases.id (no foreign key: written by the history trigger, which must not refuse an event the history accepts)'`);
  await knex.raw(`comment on column case_answers.answered_at is 'case_events.at of the case''s first activity.started event of element sendAnswer'`);

  await knex.raw(`
    create or replace function pakn_case_answered() returns trigger language plpgsql as $$
    begin
      insert into case_answers (case_id, answered_at) values (new.case_id, new.at)
      on conflict (case_id) do update set answered_at = excluded.answered_at
        where case_answers.answered_at > excluded.answered_at;
      return null;
    end $$`);
  await knex.raw(`comment on function pakn_case_answered() is 'Keeps case_answers: the earliest sendAnswer start of each case'`);
  // A row trigger on the partitioned table is cloned onto every partition, present and future.
  // The WHEN clause keeps the other events (about 19 of 20) from calling the function at all.
  await knex.raw(`
    create trigger case_events_answered after insert on case_events for each row
      when (new.type = 'activity.started' and new.element_id = 'sendAnswer' and new.case_id is not null)
      execute function pakn_case_answered()`);
  // Backfill after the trigger exists: creating it locks case_events against inserts until this
  // migration commits, so no answer can fall between the backfill and the trigger.
  await knex.raw(`
    insert into case_answers (case_id, answered_at)
    select case_id, min(at) from case_events
     where type = 'activity.started' and element_id = 'sendAnswer' and case_id is not null
     group by case_id
    on conflict (case_id) do update set answered_at = excluded.answered_at
      where case_answers.answered_at > excluded.answered_at`);

  await knex.raw(`
    create index case_events_report_idx on case_events (at)
     where type in ('case.escalated', 'finding.recorded')
        or (type = 'task.completed' and (payload->'output'->>'outcome' = 'transfer' or payload->'output'->>'reviewDecision' = 'sendBack'))`);
  await knex.raw(`comment on index case_events_report_idx is 'The events the weekly report counts (escalations, findings, transfers, send-backs), by time'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists case_events_report_idx');
  await knex.raw('drop trigger if exists case_events_answered on case_events');
  await knex.raw('drop function if exists pakn_case_answered()');
  await knex.schema.dropTableIfExists('case_answers');
}

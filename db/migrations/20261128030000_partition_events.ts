import type { Knex } from 'knex';

/**
 * case_events becomes a table partitioned by month of `at` (Asia/Ho_Chi_Minh
 * months), so an old month can be detached and archived without touching
 * live cases. The same schema runs on PGlite. A DEFAULT partition catches
 * rows outside the prepared months; pakn_ensure_event_partitions() prepares
 * months ahead and runs at every start.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table case_events rename to case_events_unpartitioned`);
  for (const [from, to] of [
    ['case_events_pkey', 'case_events_unpartitioned_pkey'],
    ['case_events_case_id_seq_unique', 'case_events_unpartitioned_case_seq'],
    ['case_events_task_idx', 'case_events_unpartitioned_task_idx'],
    ['case_events_at_idx', 'case_events_unpartitioned_at_idx'],
    ['case_events_actor_idx', 'case_events_unpartitioned_actor_idx'],
  ]) {
    await knex.raw(`alter index if exists ${from} rename to ${to}`);
  }
  await knex.raw(`
    create table case_events (
      id bigint not null default nextval('case_events_id_seq'),
      case_id uuid references cases(id),
      seq integer not null,
      type text not null,
      element_id text,
      element_name text,
      element_type text,
      actor_id text not null,
      actor_roles text[] not null default '{}',
      actor_agency text,
      request_id text,
      payload jsonb not null default '{}',
      at timestamptz not null default now(),
      prev_hash text,
      hash text,
      primary key (id, at),
      unique (case_id, seq, at)
    ) partition by range (at)`);
  await knex.raw(`comment on table case_events is 'Append-only case history, hash-chained per case, partitioned by month of at (Asia/Ho_Chi_Minh)'`);
  await knex.raw(`create table case_events_default partition of case_events default`);
  await knex.raw(`
    create function pakn_ensure_event_partitions(first_month date, months integer) returns integer language plpgsql as $$
    declare
      m date;
      created integer := 0;
      name text;
    begin
      for i in 0 .. months - 1 loop
        m := (date_trunc('month', first_month) + make_interval(months => i))::date;
        name := format('case_events_y%sm%s', to_char(m, 'YYYY'), to_char(m, 'MM'));
        if to_regclass(name) is null then
          execute format(
            'create table %I partition of case_events for values from (%L) to (%L)',
            name,
            (m::timestamp at time zone 'Asia/Ho_Chi_Minh'),
            ((m + interval '1 month')::timestamp at time zone 'Asia/Ho_Chi_Minh'));
          created := created + 1;
        end if;
      end loop;
      return created;
    end $$`);
  await knex.raw(`select pakn_ensure_event_partitions((date_trunc('month', now() at time zone 'Asia/Ho_Chi_Minh') - interval '1 month')::date, 4)`);
  await knex.raw(`insert into case_events select id, case_id, seq, type, element_id, element_name, element_type, actor_id, actor_roles, actor_agency, request_id, payload, at, prev_hash, hash from case_events_unpartitioned`);
  await knex.raw(`alter sequence case_events_id_seq owned by case_events.id`);
  await knex.raw(`drop table case_events_unpartitioned`);
  await knex.raw(`create index case_events_task_idx on case_events ((payload->>'taskId')) where type = 'task.created'`);
  await knex.raw(`create index case_events_at_idx on case_events (at, id)`);
  await knex.raw(`create index case_events_actor_idx on case_events (actor_id, at)`);
  await knex.raw(`create index case_events_case_idx on case_events (case_id, seq)`);
  await knex.raw(`create trigger case_events_no_update before update or delete on case_events for each row execute function case_events_append_only()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`alter table case_events rename to case_events_partitioned`);
  await knex.raw(`
    create table case_events as select * from case_events_partitioned`);
  await knex.raw(`alter sequence case_events_id_seq owned by case_events.id`);
  await knex.raw(`drop table case_events_partitioned cascade`);
  await knex.raw(`drop function if exists pakn_ensure_event_partitions(date, integer)`);
  await knex.raw(`alter table case_events alter column id set default nextval('case_events_id_seq'), add primary key (id), add constraint case_events_case_id_seq_unique unique (case_id, seq)`);
  await knex.raw(`create index case_events_task_idx on case_events ((payload->>'taskId')) where type = 'task.created'`);
  await knex.raw(`create index case_events_at_idx on case_events (at, id)`);
  await knex.raw(`create index case_events_actor_idx on case_events (actor_id, at)`);
  await knex.raw(`create trigger case_events_no_update before update or delete on case_events for each row execute function case_events_append_only()`);
}

import type { Knex } from 'knex';
import { isEmbedded } from '../connect.js';

/**
 * Tamper evidence that does not rest on the application behaving:
 *
 * - TRUNCATE of the history is refused by a trigger (UPDATE and DELETE already
 *   were); statement triggers are not cloned onto partitions, so every monthly
 *   partition gets its own, and pakn_ensure_event_partitions adds it to new ones.
 * - history_heads: each chain's last seq and hash, so a case whose months were
 *   archived continues its chain instead of restarting it at seq 1.
 * - history_checkpoints (+ heads): signed statements of the state of the history
 *   (Ed25519, the key is configuration and never stored here); append-only.
 * - On PostgreSQL, the role pakn_app: what the application's login role is
 *   granted (db/migrate.ts grantApplicationRole keeps the grants current after
 *   every migration). It may INSERT and SELECT history and checkpoints, nothing
 *   more, and owns nothing, so it cannot drop or disable the triggers.
 *   Partitions are created by pakn_ensure_event_partitions, which runs with its
 *   owner's rights (SECURITY DEFINER) so that the application can prepare months
 *   at start without DDL rights of its own.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create trigger case_events_no_truncate before truncate on case_events for each statement execute function case_events_append_only()`);
  await knex.raw(`
    do $$
    declare part regclass;
    begin
      for part in select inhrelid::regclass from pg_inherits where inhparent = 'case_events'::regclass loop
        execute format('create trigger case_events_no_truncate before truncate on %s for each statement execute function case_events_append_only()', part);
      end loop;
    end $$`);
  await knex.raw(partitionFunction({ guarded: true }));

  await knex.schema.createTable('history_heads', (t) => {
    t.text('chain').primary().comment('a case id, or "system" for the system chain');
    t.integer('seq').notNullable();
    t.text('hash').notNullable();
  });
  await knex.raw(`comment on table history_heads is 'The last seq and hash of each history chain: where the next event links, even when the chain''s earlier months are archived'`);
  await knex.raw(`
    insert into history_heads (chain, seq, hash)
    select distinct on (case_id) coalesce(case_id::text, 'system'), seq, hash from case_events where hash is not null order by case_id, seq desc`);

  await knex.schema.createTable('history_checkpoints', (t) => {
    t.bigIncrements('id').primary();
    t.timestamp('as_of', { useTz: true }).notNullable().comment('covers every event stamped before this time');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.text('created_by').notNullable().comment('actor id: an auditor key, or system:checkpoint (the periodic job)');
    t.text('reason').notNullable().comment('scheduled, on-demand or month-start');
    t.integer('cases').notNullable();
    t.bigInteger('events').notNullable();
    t.integer('system_seq').comment('head of the system chain (deployments); null when it is empty');
    t.text('system_hash');
    t.timestamp('system_at', { useTz: true });
    t.text('digest').notNullable().comment('sha256 over the sorted case heads (engine/checkpoints.ts)');
    t.jsonb('statement').notNullable().comment('the signed statement, exactly as signed (canonical JSON)');
    t.text('key_id').notNullable().comment('sha256 of the public key, hex (first 16 characters)');
    t.text('public_key').notNullable().comment('PEM of the public key, for exports; verify trusts only the configured key');
    t.text('signature').notNullable().comment('Ed25519 signature over the statement, base64');
  });
  await knex.raw(`comment on table history_checkpoints is 'Signed statements of the history: per case the head hash and event count; append-only'`);
  await knex.raw(`create index history_checkpoints_as_of_idx on history_checkpoints (as_of)`);
  await knex.schema.createTable('history_checkpoint_heads', (t) => {
    t.bigInteger('checkpoint_id').notNullable().references('id').inTable('history_checkpoints');
    t.uuid('case_id').notNullable();
    t.integer('seq').notNullable().comment('the event count of the case at the checkpoint (seq of its head)');
    t.text('hash').notNullable();
    t.timestamp('at', { useTz: true }).notNullable().comment('when the head event was stamped: tells an archived case from a deleted one');
    t.primary(['checkpoint_id', 'case_id']);
  });
  await knex.raw(`comment on table history_checkpoint_heads is 'Each case''s head at a checkpoint; their digest is signed in history_checkpoints'`);
  await knex.raw(`create index history_checkpoint_heads_anchor_idx on history_checkpoint_heads (case_id, seq)`);
  for (const table of ['history_checkpoints', 'history_checkpoint_heads']) {
    await knex.raw(`create trigger ${table}_append_only before update or delete on ${table} for each row execute function case_events_append_only()`);
    await knex.raw(`create trigger ${table}_no_truncate before truncate on ${table} for each statement execute function case_events_append_only()`);
  }

  if (!isEmbedded(knex)) {
    // Roles are cluster-wide: created once, by a role that may (CREATEROLE); otherwise a DBA creates it first.
    await knex.raw(`
      do $$ begin
        if not exists (select 1 from pg_roles where rolname = 'pakn_app') then
          begin
            create role pakn_app nologin;
          exception when insufficient_privilege then
            raise exception 'The role pakn_app does not exist and this role may not create it: as a superuser run CREATE ROLE pakn_app NOLOGIN, then migrate again.';
          end;
        end if;
      end $$`);
  }
}

export async function down(knex: Knex): Promise<void> {
  // The role stays: it is cluster-wide and other databases may use it.
  await knex.schema.dropTableIfExists('history_checkpoint_heads');
  await knex.schema.dropTableIfExists('history_checkpoints');
  await knex.schema.dropTableIfExists('history_heads');
  await knex.raw(`
    do $$
    declare part regclass;
    begin
      for part in select inhrelid::regclass from pg_inherits where inhparent = 'case_events'::regclass loop
        execute format('drop trigger if exists case_events_no_truncate on %s', part);
      end loop;
    end $$`);
  await knex.raw(`drop trigger if exists case_events_no_truncate on case_events`);
  await knex.raw(partitionFunction({ guarded: false }));
  await knex.raw(`alter function pakn_ensure_event_partitions(date, integer) reset all`);
}

/**
 * pakn_ensure_event_partitions as 20261128030000 made it (guarded: false), or
 * as this migration makes it: with the owner's rights (the application may
 * call it without DDL rights) and a TRUNCATE trigger on every month it creates.
 */
function partitionFunction(o: { guarded: boolean }): string {
  return `
    create or replace function pakn_ensure_event_partitions(first_month date, months integer) returns integer language plpgsql
    ${o.guarded ? 'security definer set search_path = public, pg_catalog' : 'security invoker'} as $$
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
          ${o.guarded ? "execute format('create trigger case_events_no_truncate before truncate on %I for each statement execute function case_events_append_only()', name);" : ''}
          created := created + 1;
        end if;
      end loop;
      return created;
    end $$`;
}

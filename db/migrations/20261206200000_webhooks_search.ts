import type { Knex } from 'knex';

/**
 * Latin letters with diacritics (Vietnamese and the rest of U+00C0–U+1EFF)
 * and the base letter they fold to: đ/Đ do not decompose, so they are added
 * by hand. Computed here, once, so the SQL function below is a plain
 * translate() — immutable, locale-free (PGlite runs with the C locale, where
 * lower() leaves non-ASCII letters alone), and usable in a generated column.
 */
function foldTable(): { from: string; to: string } {
  let from = 'ĐđƠơƯư';
  let to = 'DdOoUu';
  for (let cp = 0xc0; cp <= 0x1eff; cp++) {
    const ch = String.fromCodePoint(cp);
    if (from.includes(ch)) continue;
    const base = ch.normalize('NFD').replace(/\p{M}/gu, '');
    if (base !== ch && /^[A-Za-z]$/.test(base)) {
      from += ch;
      to += base;
    }
  }
  return { from, to };
}

export async function up(knex: Knex): Promise<void> {
  const { from, to } = foldTable();
  // Text folded for search: NFC first (a decomposed "ệ" becomes one letter the table knows), then letters, then ASCII case.
  await knex.raw(`create function pakn_fold(t text) returns text language sql immutable parallel safe as $$
    select lower(translate(normalize(coalesce(t, ''), NFC), ${knex.raw('?', [from]).toQuery()}, ${knex.raw('?', [to]).toQuery()}))
  $$`);
  await knex.raw(`alter table cases
    add column search_text text generated always as (pakn_fold(coalesce(variables->>'title', '') || ' ' || coalesce(variables->>'description', ''))) stored,
    add column phone_digits text generated always as (regexp_replace(regexp_replace(coalesce(variables->>'citizenPhone', ''), '\\D', '', 'g'), '^84', '0')) stored`);
  await knex.raw(`comment on column cases.search_text is 'title and description without diacritics, lower case (pakn_fold): what GET /v1/cases?q= matches'`);
  await knex.raw(`comment on column cases.phone_digits is 'the citizen phone number as digits, +84 written 0: what GET /v1/cases?phone= matches'`);
  await knex.raw(`create index cases_phone_idx on cases (phone_digits, created_at) where phone_digits <> ''`);
  // Substring search on PostgreSQL uses a trigram index when pg_trgm can be installed; elsewhere (PGlite ships
  // it as an extension the embedded build does not load) the filter is a scan of the folded column, which is fine at its size.
  await knex.raw(`do $$ begin
      create extension if not exists pg_trgm;
      create index cases_search_trgm_idx on cases using gin (search_text gin_trgm_ops);
    exception when others then
      raise notice 'pg_trgm not available: case search scans cases.search_text';
    end $$`);

  await knex.schema.createTable('subscriptions', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('url').notNullable().comment('where events are POSTed');
    t.specificType('events', 'text[]').notNullable().comment('event types delivered');
    t.text('agency').comment('the agency whose events are delivered; null: every event (admin)');
    t.text('secret').notNullable().comment('HMAC-SHA256 key of X-Pakn-Signature; needed in clear to sign, shown to the subscriber once');
    t.text('created_by').notNullable().comment('principal id of the key that subscribed (owner)');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('ended_at', { useTz: true }).comment('set by DELETE; no new deliveries afterwards');
  });
  await knex.raw(`comment on table subscriptions is 'Webhook subscriptions of agencies'' systems (POST /v1/subscriptions)'`);

  await knex.schema.createTable('hotline_events', (t) => {
    t.bigIncrements('id').primary().comment('feed cursor: GET /v1/events?after=');
    t.uuid('event_id').notNullable().unique().defaultTo(knex.raw('gen_random_uuid()')).comment('the id receivers dedupe by');
    t.text('type').notNullable().comment('task.created | task.due-soon | task.overdue | case.escalated | case.transferred');
    t.uuid('case_id').references('cases.id').onDelete('CASCADE');
    t.specificType('groups', 'text[]').notNullable().comment('agency codes and roles concerned: who sees the event (as the inbox)');
    t.jsonb('data').notNullable().comment('case code, task id, agency, due date: never citizen personal data');
    t.text('dedupe_key').unique().comment('e.g. task.overdue:<task id>: a reminder announced twice is written once');
    t.timestamp('occurred_at', { useTz: true }).notNullable();
  });
  await knex.raw(`comment on table hotline_events is 'Events for agencies'' systems: the feed and the source of webhook deliveries, written in the command''s transaction'`);
  await knex.raw('create index hotline_events_groups_idx on hotline_events using gin (groups)');

  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('subscription_id').notNullable().references('subscriptions.id').onDelete('CASCADE');
    t.bigInteger('event_id').notNullable().references('hotline_events.id').onDelete('CASCADE');
    t.bigInteger('job_id').comment('the jobs row that delivers (retries with backoff)');
    t.integer('attempt').notNullable();
    t.text('outcome').notNullable().comment('delivered | failed | refused');
    t.integer('http_status');
    t.text('error');
    t.timestamp('at', { useTz: true }).notNullable();
    t.index(['subscription_id', 'id']);
  });
  await knex.raw(`comment on table webhook_deliveries is 'One row per delivery attempt of an event to a subscription (GET /v1/subscriptions/{id}/deliveries)'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('webhook_deliveries');
  await knex.schema.dropTableIfExists('hotline_events');
  await knex.schema.dropTableIfExists('subscriptions');
  await knex.raw('drop index if exists cases_search_trgm_idx');
  await knex.raw('drop index if exists cases_phone_idx');
  await knex.raw('alter table cases drop column if exists search_text, drop column if exists phone_digits');
  await knex.raw('drop function if exists pakn_fold(text)');
}

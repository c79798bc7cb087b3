import type { Knex } from 'knex';
import { isEmbedded } from './connect.js';
import * as foundation from './migrations/20261127000000_foundation.js';
import * as decisionsCatalogue from './migrations/20261128000000_decisions_catalogue.js';
import * as eventHashChain from './migrations/20261128010000_event_hash_chain.js';
import * as idempotency from './migrations/20261128020000_idempotency.js';
import * as partitionEvents from './migrations/20261128030000_partition_events.js';
import * as activeDefinitions from './migrations/20261128040000_active_definitions.js';
import * as reportIndexes from './migrations/20261128050000_report_indexes.js';
import * as webhooksSearch from './migrations/20261206200000_webhooks_search.js';
import * as historyTamperEvidence from './migrations/20261206210000_history_tamper_evidence.js';
import * as incidents from './migrations/20261206211000_incidents.js';
import * as rateLimits from './migrations/20261206220000_rate_limits.js';
import * as inboxKeyset from './migrations/20261207010000_inbox_keyset.js';
import * as versionedForms from './migrations/20261207030000_versioned_forms.js';
import * as catalogueCalendarApi from './migrations/20261207020000_catalogue_calendar_api.js';
import * as inboxPerGroup from './migrations/20261207100000_inbox_per_group.js';
import * as reportFacts from './migrations/20261207110000_report_facts.js';
import * as caseAnswersByCreated from './migrations/20261207120000_case_answers_by_created.js';
import * as engineStateJson from './migrations/20261207130000_engine_state_json.js';
import * as activeDefinitionsBump from './migrations/20261207160000_active_definitions_bump_reference_version.js';
import * as engineStateLz4 from './migrations/20261208000000_engine_state_lz4.js';
import * as inboundSms from './migrations/20261209000000_inbound_sms.js';

// Migrations are imported statically (not scanned from disk) so the same list
// works under tsx in tests and from the compiled dist/ in production.
const migrations: Record<string, { up(k: Knex): Promise<void>; down(k: Knex): Promise<void> }> = {
  '20261127000000_foundation': foundation,
  '20261128000000_decisions_catalogue': decisionsCatalogue,
  '20261128010000_event_hash_chain': eventHashChain,
  '20261128020000_idempotency': idempotency,
  '20261128030000_partition_events': partitionEvents,
  '20261128040000_active_definitions': activeDefinitions,
  '20261128050000_report_indexes': reportIndexes,
  '20261206200000_webhooks_search': webhooksSearch,
  '20261206210000_history_tamper_evidence': historyTamperEvidence,
  '20261206211000_incidents': incidents,
  '20261206220000_rate_limits': rateLimits,
  '20261207010000_inbox_keyset': inboxKeyset,
  '20261207030000_versioned_forms': versionedForms,
  '20261207020000_catalogue_calendar_api': catalogueCalendarApi,
  '20261207100000_inbox_per_group': inboxPerGroup,
  '20261207110000_report_facts': reportFacts,
  '20261207120000_case_answers_by_created': caseAnswersByCreated,
  '20261207130000_engine_state_json': engineStateJson,
  '20261207160000_active_definitions_bump_reference_version': activeDefinitionsBump,
  '20261208000000_engine_state_lz4': engineStateLz4,
  '20261209000000_inbound_sms': inboundSms,
};

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name],
};

/**
 * Run pending migrations, then (PostgreSQL, as the owner of the tables) bring
 * the application role's grants up to date. Run it with the owner's
 * connection (PAKN_MIGRATION_DATABASE_URL); the application's role can do
 * neither.
 */
export async function migrateLatest(db: Knex): Promise<void> {
  await db.migrate.latest({ migrationSource: source });
  await grantApplicationRole(db);
}

/** The tables the application may only read and append to: history and its checkpoints. */
const APPEND_ONLY = ['case_events', 'history_checkpoints', 'history_checkpoint_heads'];

/**
 * pakn_app (created by the tamper-evidence migration) may read and write the
 * working tables (cases, tasks, jobs …), only SELECT and INSERT the history
 * and checkpoints, touch no partition directly, and own nothing: it cannot
 * drop or disable a trigger, truncate, or change the schema. Re-run after
 * every migration so tables added later are covered. A no-op on the embedded
 * database (one role) and when the connected role does not own the history
 * (the application's own connection, which may not grant).
 */
export async function grantApplicationRole(db: Knex): Promise<void> {
  if (isEmbedded(db)) return;
  const { rows } = await db.raw(
    `select exists (select 1 from pg_roles where rolname = 'pakn_app') as has_role,
            pg_has_role(current_user, (select relowner from pg_class where oid = 'case_events'::regclass), 'USAGE') as owner`,
  );
  if (!rows[0].has_role || !rows[0].owner) return;
  await db.transaction(async (trx) => {
    await trx.raw('grant usage on schema public to pakn_app');
    await trx.raw('grant select, insert, update, delete on all tables in schema public to pakn_app');
    await trx.raw(`revoke update, delete, truncate, references, trigger on ${APPEND_ONLY.join(', ')} from pakn_app`);
    // Partitions are reached through case_events (whose rights apply); direct access would bypass nothing but is not needed.
    const parts = await trx.raw(`select inhrelid::regclass::text as name from pg_inherits where inhparent = 'case_events'::regclass`);
    for (const p of parts.rows as Array<{ name: string }>) await trx.raw(`revoke all on ${p.name} from pakn_app`);
    await trx.raw('grant usage, select on all sequences in schema public to pakn_app');
    await trx.raw('grant execute on function pakn_ensure_event_partitions(date, integer) to pakn_app');
  });
}

export async function migrateRollbackAll(db: Knex): Promise<void> {
  await db.migrate.rollback({ migrationSource: source }, true);
}

/** True when every known migration has run: what /ready reports. */
export async function migrationsCurrent(db: Knex): Promise<boolean> {
  const [, pending] = (await db.migrate.list({ migrationSource: source })) as [unknown[], unknown[]];
  return pending.length === 0;
}

/**
 * Make sure history partitions exist for the month of `at` (the node's clock,
 * not the database's: history is stamped by the clock) and the next ones
 * (run at every start; creating an existing partition is a no-op).
 */
export async function ensureEventPartitions(db: Knex, at: Date, monthsAhead = 3): Promise<number> {
  const { rows } = await db.raw(`select pakn_ensure_event_partitions(date_trunc('month', ?::timestamptz at time zone 'Asia/Ho_Chi_Minh')::date, ?) as created`, [at, monthsAhead + 1]);
  return Number(rows[0].created);
}

import type { Knex } from 'knex';
import * as foundation from './migrations/20261127000000_foundation.js';
import * as decisionsCatalogue from './migrations/20261128000000_decisions_catalogue.js';
import * as eventHashChain from './migrations/20261128010000_event_hash_chain.js';
import * as idempotency from './migrations/20261128020000_idempotency.js';
import * as partitionEvents from './migrations/20261128030000_partition_events.js';
import * as activeDefinitions from './migrations/20261128040000_active_definitions.js';
import * as reportIndexes from './migrations/20261128050000_report_indexes.js';

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
};

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name],
};

export async function migrateLatest(db: Knex): Promise<void> {
  await db.migrate.latest({ migrationSource: source });
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
 * Make sure history partitions exist for this month and the next ones
 * (run at every start; creating an existing partition is a no-op).
 */
export async function ensureEventPartitions(db: Knex, monthsAhead = 3): Promise<number> {
  const { rows } = await db.raw(`select pakn_ensure_event_partitions(date_trunc('month', now() at time zone 'Asia/Ho_Chi_Minh')::date, ?) as created`, [monthsAhead + 1]);
  return Number(rows[0].created);
}

import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { mkdirSync } from 'node:fs';
import pg from 'pg';

// Return timestamps and bigints as JS values we can reason about:
// timestamptz → Date (default), int8 (count(*)) → number.
pg.types.setTypeParser(20, (v) => Number(v));

export type Db = Knex;

export interface DbOptions {
  /** postgres://… → real PostgreSQL server; undefined → embedded PGlite. */
  databaseUrl?: string;
  /** Embedded data folder; 'memory' keeps the database in memory (tests). */
  dataDir?: string;
  poolMax?: number;
}

export function connect(options: DbOptions): Db {
  if (options.databaseUrl) {
    return knexFactory({
      client: 'pg',
      connection: options.databaseUrl,
      pool: { min: 0, max: options.poolMax ?? 10 },
    });
  }
  const dataDir = options.dataDir ?? './data';
  let connection: Record<string, unknown> = {};
  if (dataDir !== 'memory') {
    mkdirSync(dataDir, { recursive: true });
    connection = { filename: dataDir };
  }
  return knexFactory({ client: ClientPgLite as any, dialect: 'postgres', connection } as Knex.Config);
}

export function isEmbedded(db: Db): boolean {
  return (db.client.config as Knex.Config).client !== 'pg';
}

import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { connect, type Db } from '../../db/connect.js';
import { migrateLatest } from '../../db/migrate.js';

/** Set by CI for the second run: tests then use a real PostgreSQL server. */
export const DATABASE_URL = process.env.DATABASE_URL;
export const ON_POSTGRES = Boolean(DATABASE_URL);

const TEMPLATE = `pakn_test_template_${process.pid}`;
let templateReady: Promise<void> | null = null;

function urlFor(database: string): string {
  const url = new URL(DATABASE_URL!);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const db = knexFactory({ client: 'pg', connection: DATABASE_URL, pool: { min: 0, max: 1 } });
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

/** Migrate once into a template database; every test file copies it (CREATE DATABASE … TEMPLATE). */
function ensureTemplate(): Promise<void> {
  templateReady ??= (async () => {
    await admin(async (db) => {
      await db.raw(`drop database if exists ${TEMPLATE}`);
      await db.raw(`create database ${TEMPLATE}`);
    });
    const t = connect({ databaseUrl: urlFor(TEMPLATE), poolMax: 1 });
    await migrateLatest(t);
    await t.destroy();
  })();
  return templateReady;
}

export interface TestDb {
  db: Db;
  /** Connection string of this test database (PostgreSQL only), for a second node or a child process. */
  url?: string;
  /** A second, independent connection pool on the same database (a second node). */
  another(): Db;
  close(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file: a new database copied from a
 * migrated template on PostgreSQL, a new in-memory PGlite otherwise.
 */
export async function freshDb(): Promise<TestDb> {
  if (!ON_POSTGRES) {
    const db = connect({ dataDir: 'memory' });
    await migrateLatest(db);
    return { db, another: () => db, close: () => db.destroy() };
  }
  await ensureTemplate();
  const name = `pakn_test_${randomBytes(6).toString('hex')}`;
  await admin((db) => db.raw(`create database ${name} template ${TEMPLATE}`));
  const url = urlFor(name);
  const db = connect({ databaseUrl: url });
  const others: Db[] = [];
  return {
    db,
    url,
    another: () => {
      const other = connect({ databaseUrl: url });
      others.push(other);
      return other;
    },
    close: async () => {
      await Promise.all([db, ...others].map((d) => d.destroy()));
      await admin((a) => a.raw(`drop database if exists ${name} with (force)`));
    },
  };
}

export async function dropTemplate(): Promise<void> {
  if (!ON_POSTGRES || !templateReady) return;
  await admin((db) => db.raw(`drop database if exists ${TEMPLATE} with (force)`));
}

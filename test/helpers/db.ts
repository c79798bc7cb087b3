import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { connect, type Db } from '../../db/connect.js';
import { migrateLatest } from '../../db/migrate.js';

/** Set by CI for the second run: tests then use a real PostgreSQL server. */
export const DATABASE_URL = process.env.DATABASE_URL;
export const ON_POSTGRES = Boolean(DATABASE_URL);

const TEMPLATE = `pakn_test_template_${process.pid}`;
/** A login role that is only a member of pakn_app: connects as the application does in production. */
const APP_LOGIN = 'pakn_test_app';
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
    // The application's login role (a member of pakn_app, which the migrations create and grant): see TestDb.application.
    await admin((db) =>
      db.raw(`do $$ begin
        if not exists (select 1 from pg_roles where rolname = '${APP_LOGIN}') then create role ${APP_LOGIN} login in role pakn_app; end if;
      exception when duplicate_object or unique_violation then null; end $$`),
    );
  })();
  return templateReady;
}

export interface TestDb {
  db: Db;
  /** Connection string of this test database (PostgreSQL only), for a second node or a child process. */
  url?: string;
  /** A second, independent connection pool on the same database (a second node). */
  another(): Db;
  /** PostgreSQL only: a connection as the application's role (pakn_app: no owner, INSERT/SELECT on history); null on PGlite (one role). */
  application(): Db | null;
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
    return { db, another: () => db, application: () => null, close: () => db.destroy() };
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
    application: () => {
      const appUrl = new URL(url);
      appUrl.username = APP_LOGIN;
      appUrl.password = '';
      const app = connect({ databaseUrl: appUrl.toString() });
      others.push(app);
      return app;
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

/** A statement as knex's query event gives it: its SQL, its transaction, its options (a prepared statement's name). */
export interface SentStatement {
  sql: string;
  __knexTxId?: string;
  options?: { name?: string };
}

/** The statements `db` sends while `run` runs (knex's query events), in order. */
export async function queriesDuring(db: Db, run: () => Promise<unknown>): Promise<SentStatement[]> {
  const seen: SentStatement[] = [];
  const capture = (q: SentStatement) => seen.push(q);
  db.on('query', capture);
  try {
    await run();
  } finally {
    db.removeListener('query', capture);
  }
  return seen;
}

/** The SQL of the statements `db` sends while `run` runs, those `keep` accepts (e.g. inside a transaction: `q.__knexTxId`). */
export async function statementsDuring(db: Db, run: () => Promise<unknown>, keep: (q: SentStatement) => boolean = () => true): Promise<string[]> {
  return (await queriesDuring(db, run)).filter(keep).map((q) => String(q.sql));
}

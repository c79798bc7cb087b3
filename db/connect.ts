import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

/** SQLSTATEs of a server that is going away or not accepting connections: admin/crash shutdown, cannot connect now, class 08 (connection exception). */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
/** Socket errors of a server that is not there, went away, or does not answer. */
const UNAVAILABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * Whether a driver error means "the database is unavailable" (retry later)
 * rather than "this query is wrong": the API answers the first with 503 and
 * Retry-After, the second with 500. Covers pg's socket errors (also inside an
 * AggregateError, as Node reports a refused dual-stack connect), its
 * connection-lost messages, and knex's pool acquire timeout.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 3) return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATES.has(e.code) || UNAVAILABLE_SOCKET_CODES.has(e.code))) return true;
  if (e.name === 'KnexTimeoutError') return true;
  if (typeof e.message === 'string' && /Timeout acquiring a connection|Connection terminated|connection error and is not queryable|the database system is (starting up|shutting down)/i.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x, depth + 1))) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

export function isEmbedded(db: Db): boolean {
  return (db.client.config as Knex.Config).client !== 'pg';
}

export class DataDirInUseError extends Error {}

/**
 * PGlite's data folder must belong to one process: a second writer corrupts
 * it. A pid file claims it; a stale one (its process is gone) is taken over.
 * Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'pakn.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err: any) {
      if (err?.code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8'));
      if (pid && pid !== process.pid && processAlive(pid)) {
        throw new DataDirInUseError(
          `The embedded data folder ${dataDir} is in use by process ${pid} (probably \`pakn serve\` / \`npm start\`). ` +
            'Stop it first, or do this through the running server\'s admin API (e.g. POST /v1/keys, POST /v1/definitions).',
        );
      }
      unlinkSync(file);
    }
  }
  throw new DataDirInUseError(`Could not lock ${dataDir}.`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: any) {
    return err?.code === 'EPERM';
  }
}

/**
 * A new, empty database beside the one `serverUrl` names (PostgreSQL only),
 * optionally copied from a migrated template; returns its URL. For
 * benchmarks and tests, which each want a database of their own.
 */
export async function createDatabase(serverUrl: string, name: string, opts: { template?: string } = {}): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name) || (opts.template && !/^[a-z_][a-z0-9_]{0,62}$/.test(opts.template))) throw new Error(`Not a safe database name: ${name}`);
  await withServer(serverUrl, (db) => db.raw(`create database ${name}${opts.template ? ` template ${opts.template}` : ''}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drop a database made by createDatabase, closing its other sessions first. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`Not a safe database name: ${name}`);
  await withServer(serverUrl, (db) => db.raw(`drop database if exists ${name} with (force)`));
}

async function withServer<T>(serverUrl: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = knexFactory({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

/** One round trip to the database: the probe that tells an outage has healed. */
export async function ping(db: Db): Promise<void> {
  await db.raw('select 1');
}

import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
// @ts-expect-error knex ships no types for its dialect classes; this is the class `client: 'pg'` names.
import ClientPgBase from 'knex/lib/dialects/postgres/index.js';
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
  /** Where knex's own messages go (the node's logger); without it, warnings and errors go to stderr, deduplicated the same way. */
  log?: DriverLog;
}

/** The part of a pino logger the driver's messages need (db/ does not import the API's logger). */
export interface DriverLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const STDERR_LOG: DriverLog = {
  debug: () => {},
  info: (obj, msg) => console.error(msg, JSON.stringify(obj)),
  warn: (obj, msg) => console.error(msg, JSON.stringify(obj)),
  error: (obj, msg) => console.error(msg, JSON.stringify(obj)),
};

/** knex messages that mean "could not reach the database": one per failed connection attempt, so per request during an outage. */
const CONNECTION_NOISE = /^(Acquire connection error|Connection Error)/;

/**
 * knex's own messages, routed into our logger instead of console.log. Its
 * "Acquire connection error" (a pool that cannot open a connection) and
 * "Connection Error" (a pooled connection the server dropped) come once per
 * attempt, which during an outage is once per request and per job poll: the
 * first of an outage is logged, the rest are counted, and the first
 * connection that opens again logs one line with the count (see
 * `connected`, wired to the pool's afterCreate).
 */
export class DriverMessages {
  private suppressed = 0;
  private failing = false;
  constructor(private readonly log: DriverLog) {}

  /** knex's `log` option. */
  get knexLog(): Knex.Config['log'] {
    const text = (m: unknown) => (typeof m === 'string' ? m : String((m as any)?.message ?? m));
    return {
      warn: (m: unknown) => this.warn(text(m)),
      error: (m: unknown) => this.log.error({ source: 'knex' }, text(m).slice(0, 2000)),
      deprecate: (m: unknown) => this.log.warn({ source: 'knex' }, text(m).slice(0, 500)),
      debug: (m: unknown) => this.log.debug({ source: 'knex' }, text(m).slice(0, 2000)),
    };
  }

  private warn(message: string) {
    // knex says "Connection Error" when it closes a connection PgClient flagged: not an outage.
    if (message.includes(STALE_WORDS)) {
      this.log.warn({ source: 'knex' }, 'a prepared statement went stale (a migration changed a table it reads or writes): its connection was replaced');
      return;
    }
    if (!CONNECTION_NOISE.test(message)) {
      this.log.warn({ source: 'knex' }, message.slice(0, 2000));
      return;
    }
    if (this.failing) {
      this.suppressed++;
      return;
    }
    this.failing = true;
    this.suppressed = 0;
    // The first line only (no stack): the reason, not a page of trace per request.
    this.log.warn({ source: 'knex', reason: message.split('\n')[0].slice(0, 300) }, 'database connections failing: further driver errors are counted until a connection opens again');
  }

  /** A new connection opened: if connections were failing, say once that they work again. */
  connected() {
    if (!this.failing) return;
    this.failing = false;
    this.log.info({ source: 'knex', suppressedDriverErrors: this.suppressed }, 'database connections open again');
    this.suppressed = 0;
  }
}

const STALE = Symbol('pakn.stalePreparedStatement');
const STALE_WORDS = 'prepared statement no longer fits its tables';
/**
 * What PostgreSQL answers a named statement whose tables a migration changed under it otherwise: it analyses
 * the statement again with the parameter types it was prepared with, so a written or compared column whose
 * type changed (text to uuid, say) fails it ("column … is of type uuid but expression is of type text",
 * 42804), and so does a column or table gone. Sent unnamed, the same statement would be analysed afresh.
 */
const STALE_NAMED_SQLSTATES = new Set(['42804', '42703', '42P01', '42883', '42846']);

/**
 * A prepared statement (db/prepared.ts) whose tables a migration changed
 * under a running node: PostgreSQL refuses to run it again on the connection
 * that prepared it when its result columns changed ("cached plan must not
 * change result type", SQLSTATE 0A000), or fails it when a column it writes
 * or compares did (STALE_NAMED_SQLSTATES); node-postgres would keep sending
 * it by name.
 */
export function isStalePreparedStatement(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; [STALE]?: boolean } | null;
  return e?.[STALE] === true || (e?.code === '0A000' && /cached plan must not change result type/.test(String(e.message)));
}

/**
 * knex's PostgreSQL client, but a connection that met a stale prepared
 * statement (either kind above) is closed when it goes back to the pool (knex's own flag for a
 * broken connection): the next command gets a fresh connection, which
 * prepares the statement again, so one command per pooled connection fails
 * (the API answers 503 with Retry-After; a job is retried) instead of every
 * one until the node restarts.
 */
class PgClient extends (ClientPgBase as new (config: Knex.Config) => object) {
  _query(connection: { __knex__disposed?: unknown; pipeline?: boolean }, obj: unknown): Promise<unknown> {
    if (connection.pipeline && (obj as { sql?: unknown }).sql === 'BEGIN;') return beginWithoutWaiting(this.sent(connection, obj), obj as PgQuery);
    return this.sent(connection, obj);
  }

  private sent(connection: { __knex__disposed?: unknown }, obj: unknown): Promise<unknown> {
    return (ClientPgBase.prototype._query as (c: unknown, o: unknown) => Promise<unknown>).call(this, connection, obj).catch((err: unknown) => {
      const named = Boolean((obj as { options?: { name?: unknown } } | null)?.options?.name);
      if (named && err && typeof err === 'object' && STALE_NAMED_SQLSTATES.has(String((err as { code?: unknown }).code))) (err as { [STALE]?: boolean })[STALE] = true;
      // knex logs "Connection Error: <this>" when it closes the connection; DriverMessages recognises the words.
      if (isStalePreparedStatement(err)) connection.__knex__disposed = `${STALE_WORDS}: ${String(err).split('\n')[0].slice(0, 300)}`;
      throw err;
    });
  }
}

interface PgQuery {
  sql: string;
  response?: { command: string; rowCount: number | null; rows: unknown[] };
}

/**
 * knex waits for BEGIN's answer before it sends a transaction's first
 * statement; on a pipelining connection (node-postgres `pipeline: true`) that
 * statement can follow it at once: PostgreSQL runs them in order, and if BEGIN
 * failed (the connection broke), so does the statement after it, which is the
 * error the command sees. Issue 20: one round trip less per command
 * (docs/performance.md, "seventh pass").
 */
function beginWithoutWaiting(sent: Promise<unknown>, obj: PgQuery): Promise<unknown> {
  sent.catch(() => {});
  obj.response = { command: 'BEGIN', rowCount: null, rows: [] };
  return Promise.resolve(obj);
}

export function connect(options: DbOptions): Db {
  if (options.databaseUrl) {
    const messages = new DriverMessages(options.log ?? STDERR_LOG);
    return knexFactory({
      client: PgClient as unknown as typeof knexFactory.Client,
      // Pipelining: see beginWithoutWaiting. knex itself waits for every other statement's answer.
      connection: { connectionString: options.databaseUrl, pipeline: true } as Knex.StaticConnectionConfig,
      log: messages.knexLog,
      pool: {
        min: 0,
        max: options.poolMax ?? 10,
        afterCreate: (conn: unknown, done: (err: Error | null, conn: unknown) => void) => {
          messages.connected();
          done(null, conn);
        },
      },
    });
  }
  const dataDir = options.dataDir ?? './data';
  let connection: Record<string, unknown> = {};
  if (dataDir !== 'memory') {
    mkdirSync(dataDir, { recursive: true });
    connection = { filename: dataDir };
  }
  return knexFactory({ client: ClientPgLite as any, dialect: 'postgres', connection, log: new DriverMessages(options.log ?? STDERR_LOG).knexLog } as Knex.Config);
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
  return (db.client.config as Knex.Config).client === (ClientPgLite as unknown);
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

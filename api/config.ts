import { readFileSync } from 'node:fs';
import { signingKey } from '../engine/checkpoints.js';

/**
 * The only module that reads the environment. Everything is validated at
 * boot; a bad value stops the process with a message that says what to fix.
 */
export interface Config {
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  processesDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  jobPollMs: number;
  /** Deploy the processes in processesDir and create demo principals on first start. */
  seedDemo: boolean;
  /** Write requests per API key per minute on one node; 0 turns the limit off. */
  writeRateLimitPerMinute: number;
  /** Behind a reverse proxy: take the client address from X-Forwarded-For (rate limits per IP). */
  trustProxy: boolean;
  /** HTTP SMS provider; unset → messages go to the log. */
  smsUrl?: string;
  smsToken?: string;
  /** URL prefixes webhook subscriptions may point at (PAKN_WEBHOOK_TARGETS); default any https:// URL. */
  webhookTargets?: string[];
  /** The owner role's connection, for migrations (PostgreSQL); unset → migrations run on databaseUrl. */
  migrationDatabaseUrl?: string;
  /** Ed25519 private key (PEM) that signs history checkpoints, read from PAKN_CHECKPOINT_KEY_FILE; never stored in the database. */
  checkpointKeyPem?: string;
  /** Minutes between signed checkpoints (0: only on demand); default 60. */
  checkpointIntervalMinutes?: number;
  /** Live engines kept per node between commands (PAKN_ENGINE_CACHE, engine/engine-cache.ts); 0 turns the cache off. Unset: the environment's value, else the default. */
  engineCacheSize?: number;
  /** V8's young generation (--max-semi-space-size, MB) of the workers `pakn serve` forks (PAKN_SEMI_SPACE_MB); 0 leaves Node's default. */
  semiSpaceMb?: number;
}

/**
 * Default young generation of a worker, in MB (V8's --max-semi-space-size; Node 20's own is 16).
 * Every command builds an engine whose elements are thousands of small objects that live for the
 * command or, cached, much longer: with 16 MB a scavenge ran in the middle of most shipped task
 * completions (one measured at 13 ms), and the median completion through HTTP was 24–25 ms;
 * with 64 MB it was 15.7 ms, the start 27–33 ms instead of 37 (docs/performance.md, 2026-12-07).
 */
export const DEFAULT_SEMI_SPACE_MB = 64;

/**
 * Default size of the engine cache: an engine of the shipped diagram holds
 * about 1.1 MB of heap (every element with its broker queues; 2.5–3.3 MB before
 * patches/bpmn-elements++smqp+11.0.1.patch), so 32 engines cost about 35 MB
 * (docs/performance.md).
 */
export const DEFAULT_ENGINE_CACHE = 32;

/**
 * PAKN_ENGINE_CACHE: how many live engines a node keeps (0: none, every
 * command recovers its case). Read here for loadConfig and for systems built
 * from a config that does not say (tests), so the whole suite can be run
 * with the cache off and on.
 */
export function engineCacheSize(env: NodeJS.ProcessEnv = process.env): number {
  return int('PAKN_ENGINE_CACHE', env.PAKN_ENGINE_CACHE, DEFAULT_ENGINE_CACHE, 0, 1_000_000);
}

export class ConfigError extends Error {}

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer between ${min} and ${max}; got "${raw}".`);
  return n;
}

function bool(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(`${name} must be true or false; got "${raw}".`);
  return raw === 'true';
}

function smsUrl(raw: string | undefined): string | undefined {
  const url = raw?.trim();
  if (!url) return undefined;
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new ConfigError(`PAKN_SMS_URL must be an http(s) URL of the SMS provider; got "${url}".`);
  return url;
}

/** PAKN_MIGRATION_DATABASE_URL: the owner's connection to DATABASE_URL's database, so it needs DATABASE_URL. */
function migrationUrl(raw: string | undefined, databaseUrl: string | undefined): string | undefined {
  const url = raw?.trim() || undefined;
  if (url && !/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError(`PAKN_MIGRATION_DATABASE_URL must be a postgres:// or postgresql:// URL (or unset: migrations then run on DATABASE_URL); got "${url.replace(/:[^:@/]*@/, ':***@')}".`);
  }
  // Without DATABASE_URL the node would run on the embedded database and fail later on "pending migrations".
  if (url && !databaseUrl) throw new ConfigError('PAKN_MIGRATION_DATABASE_URL is set but DATABASE_URL is not: set DATABASE_URL to the same database (the application role\'s connection), or unset both for the embedded database.');
  return url;
}

/** The checkpoint key file's PEM, checked to be an Ed25519 private key now rather than at the first checkpoint. */
function checkpointKey(raw: string | undefined): string | undefined {
  const file = raw?.trim();
  if (!file) return undefined;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err: any) {
    throw new ConfigError(`PAKN_CHECKPOINT_KEY_FILE cannot be read (${err?.code ?? err}): "${file}". Create one with: openssl genpkey -algorithm ed25519 -out ${file}`);
  }
  try {
    signingKey(pem);
  } catch (err: any) {
    throw new ConfigError(`PAKN_CHECKPOINT_KEY_FILE "${file}" is not an Ed25519 private key in PEM (${err?.message ?? err}). Create one with: openssl genpkey -algorithm ed25519 -out ${file}`);
  }
  return pem;
}

function webhookTargets(raw: string | undefined): string[] {
  const list = (raw ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  const bad = list.find((t) => !/^https?:\/\/[^\s]*$/.test(t));
  if (bad) throw new ConfigError(`PAKN_WEBHOOK_TARGETS must be a comma-separated list of URL prefixes starting with https:// or http:// (e.g. https://dms.snnmt.dongnai.gov.vn/); got "${bad}".`);
  return list.length ? list : ['https://'];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`DATABASE_URL must be a postgres:// or postgresql:// URL (or unset for the embedded database); got "${databaseUrl.replace(/:[^:@/]*@/, ':***@')}".`);
  }
  const logLevel = (env.LOG_LEVEL ?? 'info') as Config['logLevel'];
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "${logLevel}".`);
  }
  const seed = env.PAKN_SEED_DEMO ?? 'true';
  if (!['true', 'false'].includes(seed)) throw new ConfigError(`PAKN_SEED_DEMO must be true or false; got "${seed}".`);
  return {
    port: int('PORT', env.PORT, 3000, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    databaseUrl,
    dataDir: env.PAKN_DATA_DIR?.trim() || './data',
    processesDir: env.PAKN_PROCESSES_DIR?.trim() || './processes',
    logLevel,
    jobPollMs: int('PAKN_JOB_POLL_MS', env.PAKN_JOB_POLL_MS, 1000, 10, 600_000),
    seedDemo: seed === 'true',
    writeRateLimitPerMinute: int('PAKN_WRITE_RATE_LIMIT', env.PAKN_WRITE_RATE_LIMIT, 300, 0, 1_000_000),
    trustProxy: bool('PAKN_TRUST_PROXY', env.PAKN_TRUST_PROXY, false),
    smsUrl: smsUrl(env.PAKN_SMS_URL),
    smsToken: env.PAKN_SMS_TOKEN?.trim() || undefined,
    webhookTargets: webhookTargets(env.PAKN_WEBHOOK_TARGETS),
    migrationDatabaseUrl: migrationUrl(env.PAKN_MIGRATION_DATABASE_URL, databaseUrl),
    checkpointKeyPem: checkpointKey(env.PAKN_CHECKPOINT_KEY_FILE),
    checkpointIntervalMinutes: int('PAKN_CHECKPOINT_INTERVAL_MINUTES', env.PAKN_CHECKPOINT_INTERVAL_MINUTES, 60, 0, 44_640),
    engineCacheSize: engineCacheSize(env),
    // An operator's own --max-semi-space-size in NODE_OPTIONS reaches the workers anyway: then nothing is added.
    semiSpaceMb: /--max[-_]semi[-_]space[-_]size\b/.test(env.NODE_OPTIONS ?? '') ? 0 : int('PAKN_SEMI_SPACE_MB', env.PAKN_SEMI_SPACE_MB, DEFAULT_SEMI_SPACE_MB, 0, 1024),
  };
}

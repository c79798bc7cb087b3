import { randomBytes } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, dropDatabase } from '../db/connect.js';
import { createLogger } from '../api/logger.js';
import { createSystem, type System } from '../api/system.js';
import type { Config } from '../api/config.js';

const here = dirname(fileURLToPath(import.meta.url));
export const PROCESSES = join(here, '..', 'processes');

/**
 * A system for a benchmark: on PostgreSQL (DATABASE_URL) in a database of its
 * own, so the benchmark neither sees nor leaves other data; else on embedded
 * PGlite in memory. `close` drops what it made.
 */
export async function benchSystem(databaseUrl: string | undefined, overrides: Partial<Config> = {}): Promise<{ system: System; url: string | undefined; close(): Promise<void> }> {
  let dropDb = async () => {};
  let url = databaseUrl;
  if (databaseUrl) {
    const name = `pakn_bench_${randomBytes(4).toString('hex')}`;
    url = await createDatabase(databaseUrl, name);
    dropDb = () => dropDatabase(databaseUrl, name);
  }
  const system = await createSystem(
    { port: 0, host: '127.0.0.1', databaseUrl: url, dataDir: 'memory', processesDir: PROCESSES, logLevel: 'silent', jobPollMs: 1000, seedDemo: false, writeRateLimitPerMinute: 0, trustProxy: false, ...overrides },
    { log: createLogger('silent') },
  );
  return {
    system,
    url,
    async close() {
      await system.close();
      await dropDb();
    },
  };
}

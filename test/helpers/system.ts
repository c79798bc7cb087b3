import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import supertest from 'supertest';
import type { Db } from '../../db/connect.js';
import { createApp } from '../../api/app.js';
import type { Config } from '../../api/config.js';
import { createLogger } from '../../api/logger.js';
import { createSystem, type System } from '../../api/system.js';
import type { Clock } from '../../engine/clock.js';
import type { SmsGateway } from '../../engine/hotline/sms.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    port: 0,
    host: '127.0.0.1',
    dataDir: 'memory',
    processesDir: join(ROOT, 'processes'),
    logLevel: 'silent',
    jobPollMs: 50,
    seedDemo: false,
    writeRateLimitPerMinute: 0,
    trustProxy: false,
    ...overrides,
  };
}

export interface TestSystem extends System {
  http: ReturnType<typeof supertest>;
  /** A Bearer header for a new principal with these roles. */
  as(roles: string | string[], agency?: string | null, name?: string): Promise<{ Authorization: string; id: string }>;
}

/** A whole node on the given database: the real runtime, the real Koa app called through supertest; `clock` drives its time (a ManualClock). */
export async function testSystem(db: Db, overrides: Partial<Config> = {}, options: { sms?: SmsGateway; clock?: Clock } = {}): Promise<TestSystem> {
  const system = await createSystem(testConfig(overrides), { db, log: createLogger(overrides.logLevel ?? 'silent'), ...options });
  const http = supertest(createApp(system).callback());
  return Object.assign(system, {
    http,
    async as(roles: string | string[], agency: string | null = null, name = 'test principal') {
      const list = Array.isArray(roles) ? roles : [roles];
      const { key, row } = await system.keys.create({ name, roles: list, agency: agency ?? (list.includes('agency') ? 'SNNMT' : null) });
      return { Authorization: `Bearer ${key}`, id: `key:${row.id}` };
    },
  });
}

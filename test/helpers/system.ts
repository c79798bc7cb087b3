import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import supertest from 'supertest';
import type { Db } from '../../db/connect.js';
import { createApp } from '../../api/app.js';
import type { Config } from '../../api/config.js';
import { createLogger, type Logger } from '../../api/logger.js';
import { createSystem, type System } from '../../api/system.js';
import { ManualClock } from '../../engine/clock.js';
import type { SmsGateway } from '../../engine/hotline/sms.js';
import type { ResolveHost } from '../../engine/hotline/webhook-targets.js';

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

/**
 * Where every test node's clock starts unless a test says otherwise: Monday
 * 2 November 2026, 09:00 in Vietnam. Fixed, so that working-day deadlines,
 * "this week" and the calendar data (2025–2027) do not depend on the day the
 * suite runs; in the past, so that a child process on the real clock (pakn
 * jobs drain) finds what this clock made due.
 */
export const TEST_START = '2026-11-02T02:00:00.000Z';

export interface TestSystem extends System {
  /** The node's clock: tests move time with it (advance, set) instead of sleeping. */
  clock: ManualClock;
  http: ReturnType<typeof supertest>;
  /** A Bearer header for a new principal with these roles. */
  as(roles: string | string[], agency?: string | null, name?: string): Promise<{ Authorization: string; id: string }>;
}

/**
 * A whole node on the given database: the real runtime, the real Koa app
 * called through supertest, on a ManualClock (at TEST_START unless given;
 * pass one clock to two nodes to share time).
 */
export async function testSystem(db: Db, overrides: Partial<Config> = {}, options: { sms?: SmsGateway; clock?: ManualClock; log?: Logger; resolveHost?: ResolveHost } = {}): Promise<TestSystem> {
  const clock = options.clock ?? new ManualClock(TEST_START);
  const system = await createSystem(testConfig(overrides), { db, log: options.log ?? createLogger(overrides.logLevel ?? 'silent'), sms: options.sms, clock, resolveHost: options.resolveHost });
  // Every answer is checked against the served OpenAPI document (api/response-check.ts).
  const http = supertest(createApp(system, { checkResponses: true }).callback());
  return Object.assign(system, {
    clock,
    http,
    async as(roles: string | string[], agency: string | null = null, name = 'test principal') {
      const list = Array.isArray(roles) ? roles : [roles];
      const { key, row } = await system.keys.create({ name, roles: list, agency: agency ?? (list.includes('agency') ? 'SNNMT' : null) });
      return { Authorization: `Bearer ${key}`, id: `key:${row.id}` };
    },
  });
}

/**
 * Part of npm run bench [-- --short]: how fast due timers drain, each fired once.
 *
 * N cases wait at a one-second timer (bench/timer.bpmn). Once due, they are
 * drained (a) the way the executor used to: one node, batches of 10, one
 * firing at a time — the baseline; (b) as now: batches of 50 claimed with
 * SKIP LOCKED and 4 cases fired at once per node, by two nodes on
 * PostgreSQL (one on PGlite, which is one process's database). Each firing
 * is checked to have happened exactly once.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '../api/logger.js';
import { createSystem, type System } from '../api/system.js';
import { JobExecutor } from '../engine/jobs.js';
import type { Actor } from '../engine/actor.js';
import { benchSystem, PROCESSES } from './database.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { short: { type: 'boolean', default: false }, clients: { type: 'string' } }, strict: false });
const N = values.short ? 100 : 600;
const operator: Actor = { id: 'bench:operator', name: 'bench', roles: ['operator'], agency: 'TONG-DAI-1022' };
const databaseUrl = process.env.DATABASE_URL;

const { system, url, close } = await benchSystem(databaseUrl);
let second: System | undefined;
try {
  await system.definitions.deploy(readFileSync(join(here, 'timer.bpmn'), 'utf8'), { deployedBy: 'bench' });
  if (url) {
    second = await createSystem(
      { port: 0, host: '127.0.0.1', databaseUrl: url, dataDir: 'memory', processesDir: PROCESSES, logLevel: 'silent', jobPollMs: 1000, seedDemo: false, writeRateLimitPerMinute: 0, trustProxy: false },
      { log: createLogger('silent') },
    );
  }
  const drain = async (executors: JobExecutor[]) => {
    for (let i = 0; i < N; i++) await system.runtime.startCase({ processKey: 'bench-timer', variables: { title: 'Hẹn giờ', description: 'Đo tốc độ hẹn giờ.', channel: 'call', delay: 'PT1S' }, actor: operator });
    await new Promise((r) => setTimeout(r, 1100)); // every timer due
    const firedBefore = Number((await system.db('case_events').where({ type: 'timer.fired' }).count('* as n').first())?.n);
    const t0 = performance.now();
    const ran = (await Promise.all(executors.map((e) => e.drain()))).reduce((a, b) => a + b, 0);
    const ms = performance.now() - t0;
    const fired = Number((await system.db('case_events').where({ type: 'timer.fired' }).count('* as n').first())?.n) - firedBefore;
    return { perSec: N / (ms / 1000), ran, fired };
  };
  const executor = (s: System, id: string, batchSize: number, concurrency: number) => new JobExecutor(s.db, { handlers: s.jobHandlers, workerId: id, batchSize, concurrency, clock: s.clock });
  const before = await drain([executor(system, 'old', 10, 1)]);
  const nodes = [system, ...(second ? [second] : [])];
  const now = await drain(nodes.map((s, i) => executor(s, `node-${i}`, 50, 4)));
  console.log(`timer benchmark — ${N} due timers on ${url ? 'PostgreSQL' : 'embedded PGlite'}`);
  console.log(`    baseline, one node, batches of 10, one at a time: ${before.perSec.toFixed(0)} timers/s (${before.fired} fired for ${N})`);
  console.log(`    ${nodes.length} node${nodes.length > 1 ? 's' : ''}, batches of 50, 4 cases at once each: ${now.perSec.toFixed(0)} timers/s (${now.fired} fired for ${N}, ${now.ran} jobs run)`);
} finally {
  await second?.close();
  await close();
}

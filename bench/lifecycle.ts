/**
 * npm run bench [-- --short] [-- --clients N]
 *
 * One run, two measurements of the same life cycle (start a case → its user
 * task waits → complete it → the case ends), on the same diagram:
 *   (a) raw bpmn-engine in memory, no database, no HTTP: the ceiling;
 *   (b) the product: HTTP API over a real loopback socket, one transaction per
 *       command on the database in use (embedded PGlite, or PostgreSQL when
 *       DATABASE_URL is set), N concurrent clients.
 * Prints steps/s for both, their ratio, p50/p99 latency per request, and RSS.
 */
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import { buildContext, newEngine, parseBpmn } from '../engine/bpmn.js';
import { createApp } from '../api/app.js';
import { systemClock } from '../engine/clock.js';
import { benchSystem } from './database.js';
import { BenchClient } from './client.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { short: { type: 'boolean', default: false }, clients: { type: 'string' } } });
const SHORT = values.short!;
const CLIENTS = Number(values.clients ?? (SHORT ? 4 : 8));
const RAW_CYCLES = SHORT ? 100 : 1000;
const API_CYCLES = SHORT ? 60 : 600;
const OPEN_CASES = SHORT ? 50 : 500;
const xml = readFileSync(join(here, 'lifecycle.bpmn'), 'utf8');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;

async function rawEngine(): Promise<{ stepsPerSec: number; ms: number }> {
  const context = buildContext(await parseBpmn(xml));
  const cycle = async () => {
    const { engine } = newEngine('bench', context);
    const execution = await engine.execute({ variables: {} } as any);
    (execution.getPostponed()[0] as any).signal({ approved: true });
    engine.removeAllListeners();
  };
  for (let i = 0; i < 20; i++) await cycle(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < RAW_CYCLES; i++) await cycle();
  const ms = performance.now() - t0;
  return { stepsPerSec: (RAW_CYCLES * 2) / (ms / 1000), ms };
}

async function throughApi(databaseUrl: string | undefined, engineCacheSize: number) {
  const { system, close } = await benchSystem(databaseUrl, { engineCacheSize });
  try {
    await system.definitions.deploy(xml, { deployedBy: 'bench' });
    const { key: opKey } = await system.keys.create({ name: 'bench operator', roles: ['operator'] });
    const { key: agKey } = await system.keys.create({ name: 'bench agency', roles: ['agency'], agency: 'SNNMT' });
    const server = createApp(system).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const client = new BenchClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const latencies: number[] = [];
    const call = async (path: string, key: string, body: unknown) => {
      const { ms, json } = await client.call('POST', path, key, body);
      latencies.push(ms);
      return json;
    };
    const cycle = async () => {
      const kase = await call('/v1/cases', opKey, { process: 'bench-lifecycle', variables: { title: 'Phản ánh thử tải', description: 'Phản ánh tạo ra khi đo tải.', channel: 'web' } });
      const done = await call(`/v1/tasks/${kase.tasks[0].id}/complete`, agKey, { approved: true });
      if (done.caseStatus !== 'completed') throw new Error('case did not complete');
    };
    for (let i = 0; i < 10; i++) await cycle(); // warm-up
    latencies.length = 0;
    // SQL statements sent, per request (authentication, rate limit, the command, the answer).
    let statements = 0;
    const count = () => statements++;
    system.db.on('query', count);
    const { hits, misses } = system.runtime.engines;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next++ < API_CYCLES) await cycle();
      }),
    );
    const ms = performance.now() - t0;
    system.db.removeListener('query', count);
    const cache = { hits: system.runtime.engines.hits - hits, misses: system.runtime.engines.misses - misses };
    // Memory must not grow with open cases: open more and compare the heap after GC.
    const gc = (globalThis as any).gc as (() => void) | undefined;
    const heap = () => {
      gc?.();
      return process.memoryUsage().heapUsed;
    };
    const heapBefore = heap();
    for (let i = 0; i < OPEN_CASES; i++) await call('/v1/cases', opKey, { process: 'bench-lifecycle', variables: { title: 'Để mở', description: 'Phản ánh để mở trong hộp việc khi đo tải.', channel: 'web' } });
    const heapGrowthPerCase = (heap() - heapBefore) / OPEN_CASES;
    client.close();
    await new Promise<void>((r) => server.close(() => r()));
    const sorted = latencies.sort((a, b) => a - b);
    return { stepsPerSec: (API_CYCLES * 2) / (ms / 1000), ms, p50: percentile(sorted, 50), p99: percentile(sorted, 99), requests: sorted.length, heapGrowthPerCase, gc: Boolean(gc), statementsPerRequest: statements / sorted.length, cache };
  } finally {
    await close();
  }
}

const databaseUrl = process.env.DATABASE_URL;
const rssStart = process.memoryUsage().rss;
const raw = await rawEngine();
// The engine cache on (a case's second command finds its engine: the hit path), then off (every command recovers: the miss path).
const api = await throughApi(databaseUrl, 1000);
const rssEnd = process.memoryUsage().rss;
const miss = await throughApi(databaseUrl, 0);

console.log(`pakn benchmark${SHORT ? ' (short mode)' : ''} — Node ${process.version}, ${systemClock.now().toISOString()}`);
console.log(`(a) raw bpmn-engine, in memory:      ${raw.stepsPerSec.toFixed(0).padStart(6)} steps/s  (${RAW_CYCLES} life cycles, ${raw.ms.toFixed(0)} ms)`);
console.log(
  `(b) HTTP API on ${databaseUrl ? 'PostgreSQL' : 'embedded PGlite'}, ${CLIENTS} clients: ${api.stepsPerSec.toFixed(0).padStart(6)} steps/s  (${API_CYCLES} life cycles, ${api.ms.toFixed(0)} ms; engine cache on: ${api.cache.hits} hits, ${api.cache.misses} misses)`,
);
console.log(`    ratio (b)/(a): ${(api.stepsPerSec / raw.stepsPerSec).toFixed(2)}`);
console.log(`    latency per request: p50 ${api.p50.toFixed(1)} ms, p99 ${api.p99.toFixed(1)} ms over ${api.requests} requests`);
console.log(`    SQL statements per request: ${api.statementsPerRequest.toFixed(1)} (authentication, the command's transaction, the answer)`);
console.log(`(b, miss path) the same with the engine cache off (PAKN_ENGINE_CACHE=0, every command recovers): ${miss.stepsPerSec.toFixed(0)} steps/s, ratio ${(miss.stepsPerSec / raw.stepsPerSec).toFixed(2)}, p50 ${miss.p50.toFixed(1)} ms, p99 ${miss.p99.toFixed(1)} ms, ${miss.statementsPerRequest.toFixed(1)} statements per request`);
console.log(`    RSS: ${mb(rssStart)} at start, ${mb(rssEnd)} at end`);
console.log(`    heap growth per additional open case: ${(api.heapGrowthPerCase / 1024).toFixed(1)} KB over ${OPEN_CASES} cases${api.gc ? '' : ' (run with --expose-gc for a clean figure)'}`);

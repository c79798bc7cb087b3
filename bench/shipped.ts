/**
 * Part of npm run bench [-- --short]: issue 20's goal 1 — the shipped diagram
 * (processes/complaint-handling.bpmn with its routing table and catalogue).
 *
 * One client, one request at a time, the median and p99 of:
 *   start    — POST /v1/cases until the answer names the first task (intake,
 *              classification, routing, the agency's task created);
 *   complete — POST /v1/tasks/{id}/complete of the agency's handling task (the
 *              case moves on to the coordinator's review), the engine cache on;
 * through HTTP and the database in use (embedded PGlite, or PostgreSQL when
 * DATABASE_URL is set), beside the same two steps on an in-memory engine in
 * the same process and the same run: the product's own engine session (same
 * FEEL functions, same decisions, read once), no HTTP, no database writes.
 */
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { createApp } from '../api/app.js';
import { deployProcesses } from '../api/system.js';
import { DEFAULT_ENGINE_CACHE } from '../api/config.js';
import { benchSystem, PROCESSES } from './database.js';
import { BenchClient } from './client.js';

const { values } = parseArgs({ options: { short: { type: 'boolean', default: false }, clients: { type: 'string' } } });
const N = values.short ? 30 : 200;
const INTAKE = { title: 'Phản ánh đo hiệu năng', description: 'Đèn đường trước nhà tôi không sáng đã nhiều ngày.', channel: 'call', field: 'DAT-DAI', citizenName: 'Nguyễn Văn An', citizenPhone: '0900000000' };
const ANSWER = { outcome: 'answer', answer: 'Đã kiểm tra, xử lý và trả lời công dân theo quy định.' };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

// The engine cache as a node has it by default (32 engines of about 1.1 MB): the benchmark's own cases fit, and the heap is a node's.
const { system, close } = await benchSystem(process.env.DATABASE_URL, { engineCacheSize: DEFAULT_ENGINE_CACHE });
try {
  await deployProcesses(system, PROCESSES);
  const { key: operator } = await system.keys.create({ name: 'bench operator', roles: ['operator'] });
  const { key: agency } = await system.keys.create({ name: 'bench agency', roles: ['agency'], agency: 'SNNMT' });
  const server = createApp(system).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const client = new BenchClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const post = (path: string, key: string, body: unknown) => client.call('POST', path, key, body);

  // --- in memory: the product's engine session on the same diagram, decisions read once (then cached by the store)
  const definition = await system.definitions.latest('complaint-handling');
  const context = await system.definitions.context(definition.id);
  const memory = { start: [] as number[], complete: [] as number[] };
  const inMemory = async (record: boolean) => {
    // No transaction: the session's hooks read decisions through the pool (cached after the first read).
    const session = system.runtime.session(system.db as unknown as Knex.Transaction, 'bench', context);
    try {
      let t0 = performance.now();
      await session.start({ ...INTAKE });
      const started = performance.now() - t0;
      const handle = session.waiting().find((w) => w.id === 'handle');
      if (!handle) throw new Error(`in memory: the case did not reach the handling task (waits at ${session.waiting().map((w) => w.id).join(', ')})`);
      t0 = performance.now();
      handle.api.signal(ANSWER);
      await session.settle();
      const completed = performance.now() - t0;
      if (record) {
        memory.start.push(started);
        memory.complete.push(completed);
      }
    } finally {
      session.dispose();
    }
  };

  // --- through HTTP and the database
  const http = { start: [] as number[], complete: [] as number[] };
  const throughHttp = async (record: boolean) => {
    const started = await post('/v1/cases', operator, { process: 'complaint-handling', variables: INTAKE });
    const task = started.json.tasks.find((t: any) => t.elementId === 'handle');
    if (!task) throw new Error(`HTTP: the case did not reach the handling task (${JSON.stringify(started.json.tasks)})`);
    const completed = await post(`/v1/tasks/${task.id}/complete`, agency, ANSWER);
    if (record) {
      http.start.push(started.ms);
      http.complete.push(completed.ms);
    }
  };

  for (let i = 0; i < 10; i++) {
    await inMemory(false);
    await throughHttp(false);
  }
  const { hits, misses } = system.runtime.engines;
  for (let i = 0; i < N; i++) {
    await inMemory(true);
    await throughHttp(true);
  }
  client.close();
  await new Promise<void>((r) => server.close(() => r()));
  const cache = `engine cache: ${system.runtime.engines.hits - hits} hits, ${system.runtime.engines.misses - misses} misses`;
  const line = (label: string, h: number[], m: number[]) =>
    `    ${label}: median ${pct(h, 50).toFixed(1)} ms (p99 ${pct(h, 99).toFixed(1)}) through HTTP and the database; in-memory engine median ${pct(m, 50).toFixed(1)} ms (p99 ${pct(m, 99).toFixed(1)}); difference ${(pct(h, 50) - pct(m, 50)).toFixed(1)} ms`;
  console.log(`shipped diagram benchmark — ${N} cases on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}, one client (node:http, keep-alive; ${cache})`);
  console.log(`(f) start to first task (goal ≤ 10 ms):`);
  console.log(line('start   ', http.start, memory.start));
  console.log(`(f) task completion (goal ≤ 10 ms):`);
  console.log(line('complete', http.complete, memory.complete));
} finally {
  await close();
}

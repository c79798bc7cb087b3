/**
 * Part of npm run bench [-- --short] (PostgreSQL only: DATABASE_URL): what
 * `pakn serve --workers N` gains. The same life cycle as the lifecycle
 * benchmark (start a case, complete its task), through HTTP against a real
 * `pakn serve` process, with 1 worker and then with one worker per core, on a
 * database of its own. The baseline is the one-worker run of the same moment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { createDatabase, dropDatabase } from '../db/connect.js';
import { benchSystem } from './database.js';
import { BenchClient } from './client.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '..');
const { values } = parseArgs({ options: { short: { type: 'boolean', default: false }, clients: { type: 'string' } }, strict: false });
const SHORT = Boolean(values.short);
const CLIENTS = Number(values.clients ?? 8);
const CYCLES = SHORT ? 80 : 400;
const databaseUrl = process.env.DATABASE_URL;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as any).port;
      s.close(() => resolve(port));
    });
  });
}

async function run(url: string, workers: number, keys: { op: string; ag: string }): Promise<{ stepsPerSec: number; p50: number }> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'api', 'cli.ts'), 'serve', '--workers', String(workers)], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, PORT: String(port), HOST: '127.0.0.1', PAKN_SEED_DEMO: 'false', LOG_LEVEL: 'warn', PAKN_WRITE_RATE_LIMIT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    // The primary prints its "PAKN API:" line once every worker listens.
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('pakn serve did not start within 5 minutes')), 300_000);
      child.stdout!.on('data', (chunk) => {
        out += chunk;
        if (out.includes('PAKN API:')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`pakn serve exited (${code})`)));
    });
    const latencies: number[] = [];
    const client = new BenchClient(base);
    const call = async (path: string, key: string, body: unknown) => {
      const { ms, json } = await client.call('POST', path, key, body);
      latencies.push(ms);
      return json;
    };
    const cycle = async () => {
      const kase = await call('/v1/cases', keys.op, { process: 'bench-lifecycle', variables: { title: 'Phản ánh thử tải', description: 'Nội dung thử tải.', channel: 'call' } });
      await call(`/v1/tasks/${kase.tasks[0].id}/complete`, keys.ag, { approved: true });
    };
    for (let i = 0; i < 10 * workers; i++) await cycle(); // warm every worker
    latencies.length = 0;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      while (next++ < CYCLES) await cycle();
    }));
    const ms = performance.now() - t0;
    client.close();
    const sorted = latencies.sort((a, b) => a - b);
    return { stepsPerSec: (CYCLES * 2) / (ms / 1000), p50: sorted[Math.floor(sorted.length / 2)] };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
  }
}

if (!databaseUrl) {
  console.log('workers benchmark — skipped: `pakn serve --workers N` needs PostgreSQL (set DATABASE_URL)');
} else {
  const name = `pakn_bench_${randomBytes(4).toString('hex')}`;
  const url = await createDatabase(databaseUrl, name);
  try {
    // Schema, the bench diagram and two keys, made once through the system.
    const { system, close } = await benchSystem(undefined, { databaseUrl: url });
    await system.definitions.deploy(readFileSync(join(here, 'lifecycle.bpmn'), 'utf8'), { deployedBy: 'bench' });
    const { key: op } = await system.keys.create({ name: 'bench operator', roles: ['operator'] });
    const { key: ag } = await system.keys.create({ name: 'bench agency', roles: ['agency'], agency: 'SNNMT' });
    await close();
    const cores = availableParallelism();
    const one = await run(url, 1, { op, ag });
    const many = await run(url, cores, { op, ag });
    console.log(`workers benchmark — pakn serve on PostgreSQL, ${CLIENTS} clients, ${CYCLES} life cycles each run`);
    console.log(`    --workers 1: ${one.stepsPerSec.toFixed(0)} steps/s (p50 ${one.p50.toFixed(1)} ms)`);
    console.log(`    --workers ${cores}: ${many.stepsPerSec.toFixed(0)} steps/s (p50 ${many.p50.toFixed(1)} ms)`);
    console.log(`    gain: ${(many.stepsPerSec / one.stepsPerSec).toFixed(2)}×`);
  } finally {
    await dropDatabase(databaseUrl, name);
  }
}

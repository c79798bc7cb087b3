/**
 * Part of npm run bench [-- --short]: how fast due timers drain, each fired once.
 *
 * N cases wait at a one-second timer (bench/timer.bpmn). Once due, they are
 * drained (a) the way the executor used to: one node, batches of 10, one
 * firing at a time — the baseline; (b) as now: batches of 50 claimed with
 * SKIP LOCKED and 4 cases fired at once per node, by two nodes on
 * PostgreSQL — this process and a second one (bench/timer-node.ts), as two
 * `pakn serve` processes would be: two nodes in one process would share one
 * core — (one node on PGlite, which is one process's database). Each firing
 * is checked to have happened exactly once. A first round of N timers, drained
 * by every node and not counted, warms both processes.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { System } from '../api/system.js';
import { JobExecutor } from '../engine/jobs.js';
import type { Actor } from '../engine/actor.js';
import { benchSystem } from './database.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { short: { type: 'boolean', default: false }, clients: { type: 'string' } }, strict: false });
const N = values.short ? 100 : 600;
const operator: Actor = { id: 'bench:operator', name: 'bench', roles: ['operator'], agency: 'TONG-DAI-1022' };
const databaseUrl = process.env.DATABASE_URL;

const { system, url, close } = await benchSystem(databaseUrl);
let second: ChildProcess | undefined;
try {
  await system.definitions.deploy(readFileSync(join(here, 'timer.bpmn'), 'utf8'), { deployedBy: 'bench' });
  // The second node: its own process, on the same database, booted before the timers fall due.
  const lines = (() => {
    if (!url) return undefined;
    second = spawn(process.execPath, [...process.execArgv, join(here, 'timer-node.ts')], { env: { ...process.env, DATABASE_URL: url }, stdio: ['pipe', 'pipe', 'inherit'] });
    return createInterface({ input: second.stdout! })[Symbol.asyncIterator]();
  })();
  const nextLine = async (want: RegExp) => {
    const { value, done } = await lines!.next();
    if (done || !want.test(value)) throw new Error(`the second timer node said ${done ? 'nothing (it exited)' : JSON.stringify(value)}`);
    return value as string;
  };
  if (lines) await nextLine(/^ready$/);
  const drain = async (executors: JobExecutor[], withSecondNode = false) => {
    for (let i = 0; i < N; i++) await system.runtime.startCase({ processKey: 'bench-timer', variables: { title: 'Hẹn giờ', description: 'Đo tốc độ hẹn giờ.', channel: 'call', delay: 'PT1S' }, actor: operator });
    await new Promise((r) => setTimeout(r, 1100)); // every timer due
    const firedBefore = Number((await system.db('case_events').where({ type: 'timer.fired' }).count('* as n').first())?.n);
    const t0 = performance.now();
    if (withSecondNode) second!.stdin!.write('drain\n');
    const local = executors.map((e) => e.drain());
    const there = withSecondNode ? nextLine(/^drained \d+$/).then((l) => Number(l.split(' ')[1])) : Promise.resolve(0);
    const ran = (await Promise.all([...local, there])).reduce((a, b) => a + b, 0);
    const ms = performance.now() - t0;
    const fired = Number((await system.db('case_events').where({ type: 'timer.fired' }).count('* as n').first())?.n) - firedBefore;
    return { perSec: N / (ms / 1000), ran, fired };
  };
  const executor = (s: System, id: string, batchSize: number, concurrency: number) => new JobExecutor(s.db, { handlers: s.jobHandlers, workerId: id, batchSize, concurrency, clock: s.clock });
  // Every node first drains one round uncounted, as a running node has long compiled its code: the second
  // process boots just before, and its first round (V8 compiling bpmn-elements as it goes) drained 195 timers/s
  // with the two nodes where the next round drained 213 and 247 in the same runs (docs/performance.md, eighth pass).
  await drain([executor(system, 'warm-up', 50, 4)], Boolean(second));
  const before = await drain([executor(system, 'old', 10, 1)]);
  const nodes = second ? 2 : 1;
  const now = await drain([executor(system, 'node-0', 50, 4)], Boolean(second));
  console.log(`timer benchmark — ${N} due timers on ${url ? 'PostgreSQL' : 'embedded PGlite'} (after one uncounted round of ${N} on every node)`);
  console.log(`    baseline, one node, batches of 10, one at a time: ${before.perSec.toFixed(0)} timers/s (${before.fired} fired for ${N})`);
  console.log(`    ${nodes} node${nodes > 1 ? 's (two processes)' : ''}, batches of 50, 4 cases at once each: ${now.perSec.toFixed(0)} timers/s (${now.fired} fired for ${N}, ${now.ran} jobs run)`);
} finally {
  if (second) {
    second.stdin!.end('exit\n');
    await new Promise((r) => second!.once('exit', r));
  }
  await close();
}

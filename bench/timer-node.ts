/**
 * The second node of bench/timers.ts, in a process of its own (as a second
 * `pakn serve` would be): a system on the benchmark's database (DATABASE_URL)
 * and a job executor. Prints "ready" once booted; on each "drain" line on
 * stdin it runs every due job (batches of 50, 4 cases at once) and prints
 * "drained N"; "exit" (or the end of stdin) stops it.
 */
import { createInterface } from 'node:readline';
import { createLogger } from '../api/logger.js';
import { createSystem } from '../api/system.js';
import { JobExecutor } from '../engine/jobs.js';
import { PROCESSES } from './database.js';

const system = await createSystem(
  { port: 0, host: '127.0.0.1', databaseUrl: process.env.DATABASE_URL, dataDir: 'memory', processesDir: PROCESSES, logLevel: 'silent', jobPollMs: 1000, seedDemo: false, writeRateLimitPerMinute: 0, trustProxy: false },
  { log: createLogger('silent') },
);
try {
  const executor = new JobExecutor(system.db, { handlers: system.jobHandlers, workerId: 'node-1', batchSize: 50, concurrency: 4, clock: system.clock });
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'exit') break;
    if (line === 'drain') process.stdout.write(`drained ${await executor.drain()}\n`);
  }
} finally {
  await system.close();
}

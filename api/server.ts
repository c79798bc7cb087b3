import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { availableParallelism } from 'node:os';
import { createApp } from './app.js';
import { existsSync, statSync } from 'node:fs';
import { ConfigError, type Config } from './config.js';
import { seedDemo } from './demo.js';
import { createSystem, deployProcesses, type System } from './system.js';
import { join } from 'node:path';

export interface Running {
  system: System;
  server: Server;
  stop(): Promise<void>;
}

/** Seed the demo data on an empty database and print its API keys, the only time they can be read. */
async function seedDemoAndPrintKeys(system: System, out: (line: string) => void): Promise<void> {
  const keys = await seedDemo(system);
  if (!keys) return;
  out('');
  out('Khóa API mẫu (chỉ hiển thị một lần) — demo API keys, shown once:');
  for (const k of keys) out(`  ${k.roles.join(',').padEnd(12)} ${String(k.agency ?? '').padEnd(14)} ${k.key}   # ${k.name}`);
  out('');
}

/**
 * The folders a node starts from, checked before anything is opened or written: a PAKN_PROCESSES_DIR that does
 * not exist failed later with "No process … is deployed" (after the demo keys were stored, never to be printed),
 * a PAKN_DATA_DIR that is a file with an EEXIST stack trace.
 */
function checkFolders(config: Config): void {
  const isDir = (path: string) => existsSync(path) && statSync(path).isDirectory();
  if (!isDir(config.processesDir)) {
    throw new ConfigError(`PAKN_PROCESSES_DIR must be the folder of the diagrams to deploy (the project's processes/); "${config.processesDir}" is not a folder.`);
  }
  if (!config.databaseUrl && config.dataDir !== 'memory' && existsSync(config.dataDir) && !statSync(config.dataDir).isDirectory()) {
    throw new ConfigError(`PAKN_DATA_DIR must be a folder for the embedded database; "${config.dataDir}" is a file.`);
  }
}

/** Start one node: migrate, deploy processes/, seed demo data on an empty database, serve, run jobs. */
export async function serve(config: Config, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<Running> {
  checkFolders(config);
  const system = await createSystem(config);
  const { log } = system;
  try {
    const deployed = await deployProcesses(system, config.processesDir);
    for (const d of deployed) {
      if (d.problems) continue; // logged by deployProcesses
      if (!d.active) log.warn(d, `${d.file} is version ${d.version} of ${d.key}${d.created ? ' (stored now)' : ''}, which is not the active version: new cases keep the active one until an analyst switches (POST /v1/definitions/${d.key}/active)`);
      else log.info(d, d.created ? 'deployed process' : 'process already deployed');
    }
    if (config.seedDemo) await seedDemoAndPrintKeys(system, out);
  } catch (err) {
    await system.close();
    throw err;
  }
  const app = createApp(system);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  system.executor.start();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info({ port, database: config.databaseUrl ? 'postgresql' : `embedded (${join(config.dataDir)})` }, 'listening');
  out(`PAKN API: http://localhost:${port}  (tài liệu / docs: http://localhost:${port}/docs)`);
  return {
    system,
    server,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await system.close();
    },
  };
}

/** `pakn serve --workers N`: how many workers unless told (the machine's cores). */
export function defaultWorkers(): number {
  return availableParallelism();
}

const SEMI_SPACE_OPTION = /^--max[-_]semi[-_]space[-_]size\b/;

/**
 * The Node options of a forked worker: the primary's, and the young generation of the config
 * (config.ts DEFAULT_SEMI_SPACE_MB) unless the operator set one on the command line (one in
 * NODE_OPTIONS makes the config's 0) or turned it off (0).
 */
export function workerExecArgv(execArgv: readonly string[], semiSpaceMb: number | undefined): string[] {
  const given = execArgv.some((a) => SEMI_SPACE_OPTION.test(a));
  return given || !semiSpaceMb ? [...execArgv] : [...execArgv, `--max-semi-space-size=${semiSpaceMb}`];
}

/**
 * `pakn serve --workers N` (node:cluster): one Node process runs on one core,
 * and a command is mostly engine CPU, so a node uses all its cores by
 * running N workers that share the listening port (the primary hands out
 * connections). Nodes are stateless, so workers are just more nodes: each has
 * its own pool, engine cache and job executor (claims use SKIP LOCKED, so the
 * executors share the queue as separate machines do).
 *
 * The primary migrates, deploys processes/ and seeds the demo once, then
 * forks the workers and restarts one that dies; SIGTERM/SIGINT stop them all.
 * PGlite is one process's database: with the embedded database there is one
 * worker, whatever N says.
 */
export async function serveCluster(config: Config, workers: number, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<{ stop(): Promise<void> }> {
  if (cluster.isWorker) {
    // A primary that died (even by SIGKILL) takes its workers with it: no orphan keeps serving the port.
    process.once('disconnect', () => process.exit(0));
    const running = await serve({ ...config, seedDemo: false }, () => {});
    return { stop: () => running.stop() };
  }
  const n = config.databaseUrl ? workers : 1;
  if (n <= 1) {
    if (workers > 1) out(`The embedded database belongs to one process: serving with 1 worker, not ${workers} (set DATABASE_URL to use more).`);
    const running = await serve(config, out);
    return { stop: () => running.stop() };
  }
  // Once, before any worker: the schema, the processes and the demo keys (printed here, once).
  const system = await createSystem(config);
  try {
    await deployProcesses(system, config.processesDir);
    if (config.seedDemo) await seedDemoAndPrintKeys(system, out);
  } finally {
    await system.close();
  }
  let stopping = false;
  cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv, config.semiSpaceMb) });
  // One worker at a time: each checks the schema and grants at start, and concurrent GRANTs collide ("tuple concurrently updated").
  const fork = () =>
    new Promise<void>((resolve) => {
      const worker = cluster.fork();
      worker.once('listening', () => resolve());
      worker.once('exit', () => resolve());
    });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    system.log.error({ pid: worker.process.pid, code, signal }, 'worker exited; starting another');
    void fork();
  });
  for (let i = 0; i < n; i++) await fork();
  out(`PAKN API: http://localhost:${config.port}  (${n} workers; tài liệu / docs: http://localhost:${config.port}/docs)`);
  return {
    async stop() {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              w.once('exit', () => resolve());
              w.process.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}

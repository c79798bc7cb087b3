import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { connect, lockDataDir, type Db } from '../db/connect.js';
import { migrateLatest } from '../db/migrate.js';
import { DefinitionStore } from '../engine/definitions.js';
import { FormRegistry } from '../engine/forms.js';
import { JobExecutor } from '../engine/jobs.js';
import { Runtime } from '../engine/runtime.js';
import { ApiKeys } from './auth.js';
import type { Config } from './config.js';
import type { AppDeps } from './deps.js';
import { createLogger, type Logger } from './logger.js';

export const DEFAULT_PROCESS = 'complaint-handling';

export interface System extends AppDeps {
  executor: JobExecutor;
  close(): Promise<void>;
}

/**
 * Wire one node: database (migrated), forms, definitions, runtime, keys and a
 * job executor (not started). Everything a request needs is here; nothing of
 * a case is.
 */
export async function createSystem(config: Config, options: { log?: Logger; db?: Db; lock?: boolean } = {}): Promise<System> {
  const log = options.log ?? createLogger(config.logLevel);
  let release = () => {};
  if (!options.db && !config.databaseUrl && config.dataDir !== 'memory' && options.lock !== false) release = lockDataDir(config.dataDir);
  const db = options.db ?? connect({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateLatest(db);
  } catch (err) {
    release();
    throw err;
  }
  const forms = FormRegistry.fromDirectory(join(config.processesDir, 'forms'));
  const definitions = new DefinitionStore(db, { forms: forms.keys() });
  const runtime = new Runtime(db, definitions, {
    onCommand: ({ command, caseId, ms, outcome }) => log.debug({ command, caseId, ms: Math.round(ms), outcome }, 'command'),
  });
  const keys = new ApiKeys(db);
  const executor = new JobExecutor(db, {
    pollMs: config.jobPollMs,
    handlers: { timer: (job) => runtime.fireTimer(job.id) },
    log: (level, msg, data) => log[level](data ?? {}, msg),
  });
  return {
    db,
    definitions,
    runtime,
    forms,
    keys,
    authenticators: [keys],
    log,
    defaultProcess: DEFAULT_PROCESS,
    executor,
    async close() {
      await executor.stop();
      if (!options.db) await db.destroy();
      release();
    },
  };
}

/** Deploy every diagram in processes/ (identical ones are no-ops). */
export async function deployProcesses(system: System, dir: string, deployedBy = 'system:seed'): Promise<Array<{ file: string; key: string; version: number; created: boolean }>> {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.bpmn')).sort()) {
    const r = await system.definitions.deploy(readFileSync(join(dir, file), 'utf8'), { deployedBy, comment: `seed from ${file}` });
    out.push({ file, key: r.key, version: r.version, created: r.created });
  }
  return out;
}

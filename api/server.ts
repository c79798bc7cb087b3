import type { Server } from 'node:http';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { seedDemo } from './demo.js';
import { createSystem, deployProcesses, type System } from './system.js';
import { join } from 'node:path';

export interface Running {
  system: System;
  server: Server;
  stop(): Promise<void>;
}

/** Start one node: migrate, deploy processes/, seed demo data on an empty database, serve, run jobs. */
export async function serve(config: Config, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<Running> {
  const system = await createSystem(config);
  const { log } = system;
  try {
    const deployed = await deployProcesses(system, config.processesDir);
    for (const d of deployed) {
      if (d.problems) continue; // logged by deployProcesses
      if (!d.active) log.warn(d, `${d.file} is version ${d.version} of ${d.key}${d.created ? ' (stored now)' : ''}, which is not the active version: new cases keep the active one until an analyst switches (POST /v1/definitions/${d.key}/active)`);
      else log.info(d, d.created ? 'deployed process' : 'process already deployed');
    }
    if (config.seedDemo) {
      const keys = await seedDemo(system);
      if (keys) {
        out('');
        out('Khóa API mẫu (chỉ hiển thị một lần) — demo API keys, shown once:');
        for (const k of keys) out(`  ${k.roles.join(',').padEnd(12)} ${String(k.agency ?? '').padEnd(14)} ${k.key}   # ${k.name}`);
        out('');
      }
    }
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

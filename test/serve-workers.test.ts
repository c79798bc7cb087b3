import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { freshDb, ON_POSTGRES, type TestDb } from './helpers/db.js';
import { pakn } from './helpers/cli.js';
import { ROOT } from './helpers/system.js';
import { workerExecArgv } from '../api/server.js';
import { ConfigError, DEFAULT_SEMI_SPACE_MB, loadConfig } from '../api/config.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as any).port;
      s.close(() => resolve(port));
    });
  });
}

describe('pakn serve --workers', () => {
  describe('The young generation of a forked worker (issue 20)', () => {
    it('Given no setting, then a worker gets --max-semi-space-size=64 after the primary’s own options', () => {
      expect(loadConfig({}).semiSpaceMb).to.equal(DEFAULT_SEMI_SPACE_MB);
      expect(workerExecArgv(['--import', 'tsx'], DEFAULT_SEMI_SPACE_MB)).to.deep.equal(['--import', 'tsx', '--max-semi-space-size=64']);
    });

    it('Given the operator set it on the command line or in NODE_OPTIONS, or PAKN_SEMI_SPACE_MB=0, then the worker is started as the primary was', () => {
      expect(workerExecArgv(['--max-semi-space-size=32'], 64)).to.deep.equal(['--max-semi-space-size=32']);
      expect(workerExecArgv([], loadConfig({ NODE_OPTIONS: '--max-old-space-size=2048 --max_semi_space_size=128' }).semiSpaceMb)).to.deep.equal([]);
      expect(workerExecArgv(['--enable-source-maps'], loadConfig({ PAKN_SEMI_SPACE_MB: '0' }).semiSpaceMb)).to.deep.equal(['--enable-source-maps']);
    });

    it('Given PAKN_SEMI_SPACE_MB that is not a whole number of MB from 0 to 1024, then the boot stops naming the variable', () => {
      expect(() => loadConfig({ PAKN_SEMI_SPACE_MB: '64MB' })).to.throw(ConfigError, /PAKN_SEMI_SPACE_MB must be an integer between 0 and 1024; got "64MB"/);
    });
  });

  it('Given a number of workers that is not a whole number from 1, then the command says so and exits 2', async function () {
    this.timeout(60_000);
    const res = await pakn(['serve', '--workers', '0'], { PAKN_DATA_DIR: join(ROOT, 'no-such-dir-for-this-test') });
    expect(res.code).to.equal(2);
    expect(res.stderr).to.match(/--workers must be a whole number from 1 to 256; got "0"/);
  });

  describe('Given PostgreSQL', () => {
    let t: TestDb;
    before(async function () {
      if (!ON_POSTGRES) this.skip(); // the embedded database belongs to one process: one worker
      t = await freshDb();
    });
    after(() => t?.close());

    it('When started with 2 workers, then both listen on one port, and SIGTERM stops every one of them', async function () {
      this.timeout(240_000);
      const port = await freePort();
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'api', 'cli.ts'), 'serve', '--workers', '2'], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: t.url!, PORT: String(port), HOST: '127.0.0.1', PAKN_SEED_DEMO: 'false', LOG_LEVEL: 'error' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (chunk) => {
          out += chunk;
          if (out.includes('PAKN API:')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      expect(out).to.match(/\(2 workers;/);
      for (let i = 0; i < 4; i++) expect((await fetch(`http://127.0.0.1:${port}/health`)).status).to.equal(200);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
      // No worker outlives its primary: nothing answers on the port any more.
      let refused = false;
      try {
        await fetch(`http://127.0.0.1:${port}/health`);
      } catch {
        refused = true;
      }
      expect(refused).to.equal(true);
    });
  });
});

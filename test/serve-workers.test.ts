import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { freshDb, ON_POSTGRES, type TestDb } from './helpers/db.js';
import { pakn } from './helpers/cli.js';
import { ROOT } from './helpers/system.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as any).port;
      s.close(() => resolve(port));
    });
  });
}

describe('pakn serve --workers', () => {
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

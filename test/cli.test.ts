import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDataDir } from '../db/connect.js';
import { freshDb, ON_POSTGRES, type TestDb } from './helpers/db.js';
import { pakn } from './helpers/cli.js';
import { FIXTURES, ROOT } from './helpers/system.js';



describe('The pakn command line', function () {
  this.timeout(60_000);
  let dataDir: string;
  let t: TestDb | undefined;
  let env: Record<string, string>;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pakn-cli-'));
    if (ON_POSTGRES) {
      t = await freshDb();
      env = { DATABASE_URL: t.url! };
    } else {
      env = { PAKN_DATA_DIR: dataDir };
    }
  });
  after(async () => {
    await t?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('Given keys create, the key is printed alone on the last line and only its hash is stored', async () => {
    const r = await pakn(['keys', 'create', '--role', 'agency', '--agency', 'SNNMT', '--name', 'Sở Tài nguyên và Môi trường'], env);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[lines.length - 1]).to.match(/^pakn_[A-Za-z0-9_-]{43}$/);
    const list = await pakn(['keys', 'list'], env);
    expect(list.stdout).to.contain('Sở Tài nguyên và Môi trường');
    expect(list.stdout).not.to.contain(lines[lines.length - 1]);
  });

  it('Given keys create without a role, it exits 2 with the usage', async () => {
    const r = await pakn(['keys', 'create', '--name', 'x'], env);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/--role/);
  });

  it('Given lint on a good and a bad file, it exits 1 and names the element and rule', async () => {
    const good = await pakn(['lint', join(FIXTURES, 'simple.bpmn')], env);
    expect(good.code).to.equal(0);
    const bad = await pakn(['lint', join(FIXTURES, 'simple.bpmn'), join(FIXTURES, 'bad', 'script-task.bpmn')], env);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/error \[no-script-task\] <x>/);
  });

  it('Given lint on a file that does not exist, it exits 2 naming the file (no stack trace)', async () => {
    const r = await pakn(['lint', join(FIXTURES, 'simple.bpmn'), 'khong-co.bpmn'], env);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('no such file: khong-co.bpmn').and.not.match(/\n\s+at /);
  });

  it('Given lint on the shipped process with its routing table, it passes', async () => {
    const r = await pakn(['lint', join(ROOT, 'processes', 'routing.dmn'), join(ROOT, 'processes', 'complaint-handling.bpmn')], env);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/complaint-handling\.bpmn: ok/);
  });

  it('Given deploy, it prints the version, and the same file again is recognised as identical', async () => {
    const first = await pakn(['deploy', join(FIXTURES, 'message.bpmn')], env);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/message version 1 deployed/);
    const again = await pakn(['deploy', join(FIXTURES, 'message.bpmn')], env);
    expect(again.stdout).to.match(/identical/);
  });

  it('Given the embedded data folder is held by a running server, a writing command says so and changes nothing', async function () {
    if (ON_POSTGRES) this.skip();
    const release = lockDataDir(dataDir); // this test process plays the running server
    try {
      const r = await pakn(['keys', 'create', '--role', 'admin', '--name', 'x'], env);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/in use by process \d+/);
      expect(r.stderr).to.match(/POST \/v1\/keys/);
    } finally {
      release();
    }
  });

  it('Given a bad configuration value, it stops with a message saying what to fix', async () => {
    const r = await pakn(['migrate'], { ...env, PORT: 'eighty' });
    expect(r.code).to.equal(78);
    expect(r.stderr).to.match(/PORT must be an integer/);
  });
});

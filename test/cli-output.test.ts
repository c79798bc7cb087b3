import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDb, ON_POSTGRES, type TestDb } from './helpers/db.js';
import { pakn } from './helpers/cli.js';
import { FIXTURES } from './helpers/system.js';



describe('Every pakn command says what it did', function () {
  this.timeout(120_000);
  let dataDir: string;
  let t: TestDb | undefined;
  let env: Record<string, string>;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pakn-cli-out-'));
    if (ON_POSTGRES) {
      t = await freshDb();
      env = { PAKN_SEED_DEMO: 'false', DATABASE_URL: t.url! };
    } else {
      env = { PAKN_SEED_DEMO: 'false', PAKN_DATA_DIR: dataDir };
    }
  });
  after(async () => {
    await t?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('Given migrate on a current database, then it says there was nothing to apply', async () => {
    // freshDb is migrated already; the embedded folder is migrated by the first run.
    if (!ON_POSTGRES) expect((await pakn(['migrate'], env)).stdout).to.match(/Applied the pending migrations/);
    const again = await pakn(['migrate'], env);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.match(/Nothing to apply: the database schema was already current\./);
  });

  it('Given keys list, create and revoke, then each says what it did: no keys yet, the count, revoked, already revoked', async () => {
    expect((await pakn(['keys', 'list'], env)).stdout).to.match(/No API keys yet/);
    const created = await pakn(['keys', 'create', '--role', 'operator', '--name', 'Tổng đài viên'], env);
    const id = /Created key ([0-9a-f-]{36})/.exec(created.stdout)![1];
    expect((await pakn(['keys', 'list'], env)).stdout).to.match(/1 key\(s\), 0 revoked\./);
    expect((await pakn(['keys', 'revoke', id], env)).stdout).to.contain(`Key ${id} ("Tổng đài viên") revoked`);
    expect((await pakn(['keys', 'revoke', id], env)).stdout).to.contain('was already revoked; nothing changed');
  });

  it('Given deploy of a bad file and jobs drain, then the refusal and the number of jobs run are said', async () => {
    const bad = await pakn(['deploy', join(FIXTURES, 'bad', 'script-task.bpmn')], env);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/script-task\.bpmn: refused \(problems above\); nothing was deployed from it\./);
    const drained = await pakn(['jobs', 'drain'], env);
    expect(drained.stdout).to.match(/^Ran \d+ due job\(s\)\./m);
  });
});

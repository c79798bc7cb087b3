import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../api/config.js';
import { seedDemo } from '../../api/demo.js';
import { serve } from '../../api/server.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { testConfig, testSystem } from '../helpers/system.js';

/**
 * A black-box check of the README (2026-12-08): `PAKN_PROCESSES_DIR=/nonexistent pakn serve` on a fresh data
 * folder exited with "No process "complaint-handling" is deployed" — after the eight demo keys were stored. The
 * next, correct start found keys and printed none, and their secrets exist only as hashes: lost. And
 * PAKN_DATA_DIR naming a file failed with an EEXIST stack trace. Now the folders are checked before anything is
 * opened (a message naming the variable), and the demo keys are made last, after the cases.
 */
describe('Regression: a first start that fails leaves no unprinted demo keys, and names the folder at fault', () => {
  let t: TestDb;
  let dir: string;
  before(async () => {
    t = await freshDb();
    dir = mkdtempSync(join(tmpdir(), 'pakn-start-'));
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Given PAKN_PROCESSES_DIR that is not a folder, or PAKN_DATA_DIR that is a file, when a node starts, then it refuses naming the variable', async () => {
    const failure = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);
    const noProcesses = await failure(serve(testConfig({ processesDir: join(dir, 'nonexistent'), dataDir: join(dir, 'data'), port: 0 }), () => {}));
    expect(noProcesses).to.be.instanceOf(ConfigError);
    expect((noProcesses as Error).message).to.include('PAKN_PROCESSES_DIR');
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    const dataIsFile = await failure(serve(testConfig({ databaseUrl: undefined, dataDir: file, port: 0 }), () => {}));
    expect(dataIsFile).to.be.instanceOf(ConfigError);
    expect((dataIsFile as Error).message).to.include('PAKN_DATA_DIR');
  });

  it('Given no process deployed, when the demo is seeded, then it fails and stores no key, so the next start seeds and prints them', async () => {
    const s = await testSystem(t.db);
    const err = await seedDemo(s).then(() => null, (e: unknown) => e);
    expect(err, 'seeding without a process must fail').to.be.an('error');
    expect(await s.keys.count()).to.equal(0);
  });
});

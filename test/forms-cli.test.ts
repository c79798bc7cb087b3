import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDb, ON_POSTGRES, type TestDb } from './helpers/db.js';
import { pakn } from './helpers/cli.js';
import { FIXTURES } from './helpers/system.js';

describe('pakn deploy --forms: forms kept in git go with the diagram', function () {
  this.timeout(400_000);
  let dir: string;
  let t: TestDb | undefined;
  let env: Record<string, string>;
  const diagram = join(FIXTURES, 'bad', 'unknown-form.bpmn');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pakn-forms-cli-'));
    if (ON_POSTGRES) {
      t = await freshDb();
      env = { DATABASE_URL: t.url! };
    } else {
      env = { PAKN_DATA_DIR: join(dir, 'data') };
    }
    mkdirSync(join(dir, 'forms'));
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const writeForm = (minLength: number) =>
    writeFileSync(join(dir, 'forms', 'no-such-form.schema.json'), JSON.stringify({ type: 'object', additionalProperties: false, properties: { note: { type: 'string', title: 'Ghi chú', minLength } } }));

  it('Given a diagram whose form is only in a folder, then deploy without --forms is refused and with it deploys; the diagram alone again keeps the form; an edited form file is a new version', async () => {
    const refused = await pakn(['deploy', diagram], env);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/error \[form-missing\] <x>/);

    writeForm(1);
    const first = await pakn(['deploy', diagram, '--forms', join(dir, 'forms')], env);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/version 1 deployed, active/);

    const alone = await pakn(['deploy', diagram], env);
    expect(alone.code, alone.stderr).to.equal(0);
    expect(alone.stdout).to.match(/version 1 \(identical to the deployed version\)/);

    writeForm(20);
    const edited = await pakn(['deploy', diagram, '--forms', join(dir, 'forms')], env);
    expect(edited.code, edited.stderr).to.equal(0);
    expect(edited.stdout).to.match(/version 2 deployed, active/);
  });

  it('Given --forms naming no folder, it exits 2 naming it', async () => {
    const r = await pakn(['deploy', diagram, '--forms', join(dir, 'khong-co')], env);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('no such folder');
  });
});

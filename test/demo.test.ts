import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployProcesses } from '../api/system.js';
import { seedDemo } from '../api/demo.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { ROOT, testSystem, type TestSystem } from './helpers/system.js';

describe('Demo data on a first start', () => {
  let t: TestDb;
  let s: TestSystem;

  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    await deployProcesses(s, join(ROOT, 'processes'));
  });
  after(() => t.close());

  it('Given an empty database, then one key per kind of user, three open cases and one finished case an analyst can dry-run are made, once', async () => {
    const keys = await seedDemo(s);
    expect(keys!.map((k) => k.roles[0])).to.include.members(['operator', 'agency', 'coordinator', 'reviewer', 'analyst', 'auditor', 'admin']);
    const cases = await t.db('cases').select('status');
    expect(cases.filter((c) => c.status === 'running')).to.have.length(3);
    expect(cases.filter((c) => c.status === 'completed')).to.have.length(1);
    const report = await s.dryRun.run({ key: 'complaint-handling', xml: readFileSync(join(ROOT, 'processes', 'complaint-handling.bpmn'), 'utf8') });
    expect(report).to.include({ replayed: 1, same: 1 });
    expect(await seedDemo(s)).to.equal(null);
  });
});

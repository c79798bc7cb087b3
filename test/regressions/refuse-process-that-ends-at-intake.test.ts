import { expect } from 'chai';
import { join } from 'node:path';
import { deployProcesses } from '../../api/system.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { fixture, ROOT, testSystem, type TestSystem } from '../helpers/system.js';

// Hole (issue 14): a process that is only a start event deployed and became active: every new complaint ended at intake.
describe('Regression: a process that cannot wait anywhere is refused', () => {
  let t: TestDb;
  let s: TestSystem;
  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    await deployProcesses(s, join(ROOT, 'processes'));
  });
  after(() => t.close());

  it('Given a process made of a start event only, when an analyst deploys it, then 422 names the element received and says it would end before waiting, and nothing is stored', async () => {
    const analyst = await s.as('analyst');
    const before = await t.db('definitions').count('* as n').first();
    const res = await s.http.post('/v1/definitions').set(analyst).send({ xml: fixture('holes/start-only.bpmn') });
    expect(res.status).to.equal(422);
    const problem = res.body.problems.find((p: any) => p.rule === 'ends-without-waiting' && p.severity === 'error');
    expect(problem, JSON.stringify(res.body.problems)).to.not.equal(undefined);
    expect(problem.elementId).to.equal('received');
    expect(problem.message).to.include('before it waits at any step');
    expect(await t.db('definitions').count('* as n').first()).to.deep.equal(before);
  });
});

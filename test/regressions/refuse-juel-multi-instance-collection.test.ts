import { expect } from 'chai';
import { join } from 'node:path';
import { deployProcesses } from '../../api/system.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { fixture, ROOT, testSystem, type TestSystem } from '../helpers/system.js';

// Hole (issue 14): a ${…} multi-instance collection was accepted, and then every start answered 500.
describe('Regression: a ${…} multi-instance collection is refused', () => {
  let t: TestDb;
  let s: TestSystem;
  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    await deployProcesses(s, join(ROOT, 'processes'));
  });
  after(() => t.close());

  it("Given a multi-instance classify step whose collection is ${agencies}, when an analyst deploys it, then 422 names the element classify and quotes the expression, and nothing is stored", async () => {
    const analyst = await s.as('analyst');
    const before = await t.db('definitions').count('* as n').first();
    const res = await s.http.post('/v1/definitions').set(analyst).send({ xml: fixture('holes/juel-multi-instance.bpmn') });
    expect(res.status).to.equal(422);
    const problem = res.body.problems.find((p: any) => p.rule === 'not-feel' && p.severity === 'error');
    expect(problem, JSON.stringify(res.body.problems)).to.not.equal(undefined);
    expect(problem.elementId).to.equal('classify');
    expect(problem.message).to.include('${agencies}');
    expect(await t.db('definitions').count('* as n').first()).to.deep.equal(before);
  });
});

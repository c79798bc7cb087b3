import { expect } from 'chai';
import { join } from 'node:path';
import { deployProcesses } from '../../api/system.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { fixture, ROOT, testSystem, type TestSystem } from '../helpers/system.js';

// Hole (issue 14): a timer written =dueAtt instead of =dueAt passed validation; at run time it was null and fired at once, escalating every case falsely.
describe('Regression: a timer reading an unknown variable is refused', () => {
  let t: TestDb;
  let s: TestSystem;
  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    await deployProcesses(s, join(ROOT, 'processes'));
  });
  after(() => t.close());

  it('Given the shipped diagram with its overdue timer written =dueAtt, when an analyst deploys it, then 422 names the element overdue and suggests dueAt, and nothing is stored', async () => {
    const analyst = await s.as('analyst');
    const before = await t.db('definitions').count('* as n').first();
    const res = await s.http.post('/v1/definitions').set(analyst).send({ xml: fixture('holes/timer-misspelt-variable.bpmn') });
    expect(res.status).to.equal(422);
    const problem = res.body.problems.find((p: any) => p.rule === 'feel-unknown-name' && p.severity === 'error');
    expect(problem, JSON.stringify(res.body.problems)).to.not.equal(undefined);
    expect(problem.elementId).to.equal('overdue');
    expect(problem.message).to.include('Did you mean "dueAt"');
    expect(await t.db('definitions').count('* as n').first()).to.deep.equal(before);
  });
});

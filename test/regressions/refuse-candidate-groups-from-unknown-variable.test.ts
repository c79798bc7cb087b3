import { expect } from 'chai';
import { join } from 'node:path';
import { deployProcesses } from '../../api/system.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { fixture, ROOT, testSystem, type TestSystem } from '../helpers/system.js';

// Hole (issue 14): candidate groups taken from a variable that does not exist gave a task that nobody could see.
describe('Regression: candidate groups read from a variable that does not exist are refused', () => {
  let t: TestDb;
  let s: TestSystem;
  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    await deployProcesses(s, join(ROOT, 'processes'));
  });
  after(() => t.close());

  it('Given the shipped diagram whose handling step goes to =handlingAgency, when an analyst deploys it, then 422 names the element handle and names handlingAgency, and nothing is stored', async () => {
    const analyst = await s.as('analyst');
    const before = await t.db('definitions').count('* as n').first();
    const res = await s.http.post('/v1/definitions').set(analyst).send({ xml: fixture('holes/candidate-groups-unknown-variable.bpmn') });
    expect(res.status).to.equal(422);
    const problem = res.body.problems.find((p: any) => p.rule === 'feel-unknown-name' && p.severity === 'error');
    expect(problem, JSON.stringify(res.body.problems)).to.not.equal(undefined);
    expect(problem.elementId).to.equal('handle');
    expect(problem.message).to.include('"handlingAgency"');
    expect(await t.db('definitions').count('* as n').first()).to.deep.equal(before);
  });
});

import { expect } from 'chai';
import { join } from 'node:path';
import { deployProcesses } from '../../api/system.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { fixture, ROOT, testSystem, type TestSystem } from '../helpers/system.js';

// Hole (issue 14): a document with a DOCTYPE / ENTITY declaration was accepted (not expanded, but it should not be accepted at all).
describe('Regression: a document with a DOCTYPE or ENTITY declaration is refused', () => {
  let t: TestDb;
  let s: TestSystem;
  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    await deployProcesses(s, join(ROOT, 'processes'));
  });
  after(() => t.close());

  it('Given the shipped diagram with a DOCTYPE declaring an ENTITY, when an analyst deploys it, then 422 names no element (the whole file) and says DOCTYPE, and nothing is stored', async () => {
    const analyst = await s.as('analyst');
    const before = await t.db('definitions').count('* as n').first();
    const res = await s.http.post('/v1/definitions').set(analyst).send({ xml: fixture('holes/doctype-entity.bpmn') });
    expect(res.status).to.equal(422);
    const problem = res.body.problems.find((p: any) => p.rule === 'doctype' && p.severity === 'error');
    expect(problem, JSON.stringify(res.body.problems)).to.not.equal(undefined);
    expect(problem.elementId).to.equal(null);
    expect(problem.message).to.include('DOCTYPE');
    expect(await t.db('definitions').count('* as n').first()).to.deep.equal(before);
  });
});

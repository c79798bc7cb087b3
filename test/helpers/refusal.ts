import { expect } from 'chai';
import { join } from 'node:path';
import { deployProcesses } from '../../api/system.js';
import { freshDb, type TestDb } from './db.js';
import { fixture, ROOT, testSystem, type TestSystem } from './system.js';

/**
 * For the regression tests of diagrams that must be refused (issue 14): a
 * hotline with the shipped processes, and a function that deploys a fixture
 * as an analyst, expects 422 with an error of `rule`, checks nothing was
 * stored, and returns that problem for the test's own assertions.
 * Call it at describe level (it registers the before/after hooks).
 */
export function refusedDeploy(): (fixtureName: string, rule: string) => Promise<{ elementId: string | null; rule: string; message: string }> {
  let t: TestDb;
  let s: TestSystem;
  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    await deployProcesses(s, join(ROOT, 'processes'));
  });
  after(() => t.close());
  return async (fixtureName, rule) => {
    const analyst = await s.as('analyst');
    const before = await t.db('definitions').count('* as n').first();
    const res = await s.http.post('/v1/definitions').set(analyst).send({ xml: fixture(fixtureName) });
    expect(res.status).to.equal(422);
    const problem = res.body.problems.find((p: any) => p.rule === rule && p.severity === 'error');
    expect(problem, JSON.stringify(res.body.problems)).to.not.equal(undefined);
    expect(await t.db('definitions').count('* as n').first()).to.deep.equal(before);
    return problem;
  };
}

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline, type Key } from '../helpers/scenario.js';
import { fixture, ROOT } from '../helpers/system.js';

/**
 * Black-box check of the analyst guide: POST /v1/definitions/complaint-handling/impact with the routing DMN
 * answered 422 "The candidate has problems" with no problems list, so nothing named the fault. A decision file is
 * the wrong kind of file there, and the answer now says so naming the body's xml; every other refusal of a
 * candidate lists its problems by element, or names /xml.
 */
describe('Regression: a refused impact preview names the fault', () => {
  let t: TestDb;
  let h: Hotline;
  let analyst: Key;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
  });
  after(() => t.close());

  const impact = (xml: string) => h.s.http.post('/v1/definitions/complaint-handling/impact').set(analyst).send({ xml });

  it('Given the routing decision file as the candidate, when its impact is previewed, then 422 names /xml as a DMN decision file and points at the dry run', async () => {
    const res = await impact(readFileSync(join(ROOT, 'processes', 'routing.dmn'), 'utf8'));
    expect(res.status).to.equal(422);
    expect(res.type).to.equal('application/problem+json');
    expect(res.body.errors).to.deep.equal([{ path: '/xml', message: 'is a DMN decision file, not a BPMN diagram' }]);
    expect(res.body.detail).to.contain('DMN decision file ("routing")').and.to.contain('/v1/definitions/routing/dry-run');
  });

  it('Given a diagram with errors, when its impact is previewed, then 422 lists each problem by element', async () => {
    const res = await impact(fixture('bad/script-task.bpmn'));
    expect(res.status).to.equal(422);
    expect(res.body.problems).to.be.an('array');
    const errors = res.body.problems.filter((p: any) => p.severity === 'error');
    expect(errors.length).to.be.greaterThan(0);
    expect(errors.every((p: any) => typeof p.rule === 'string' && typeof p.message === 'string' && 'elementId' in p)).to.equal(true);
    expect(res.body.detail).to.match(/^The candidate has \d+ problem\(s\)/);
  });

  it('Given a sound diagram of another process, when it is previewed as complaint-handling, then 422 names /xml with the process it is', async () => {
    const res = await impact(fixture('simple.bpmn'));
    expect(res.status).to.equal(422);
    expect(res.body.errors).to.deep.equal([{ path: '/xml', message: 'is process "simple", not "complaint-handling"' }]);
  });
});

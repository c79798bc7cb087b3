import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';
import { ROOT } from '../helpers/system.js';

/**
 * Issue 15: the routing table's agency codes were not checked against the
 * catalogue at deploy: a typo or an abolished agency sent every complaint of
 * a field to an inbox nobody reads.
 */
describe('Regression: a routing table naming an agency not in force is refused at deploy', () => {
  let t: TestDb;
  let h: Hotline;
  let analyst: { Authorization: string };
  const routing = readFileSync(join(ROOT, 'processes', 'routing.dmn'), 'utf8');
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    analyst = await h.s.as('analyst', 'SNV');
  });
  after(() => t.close());

  const validate = (xml: string) => h.s.http.post('/v1/definitions/validate').set(analyst).set('Content-Type', 'application/xml').send(xml);

  it('Given the health row sends complaints to "SO-Y-TE" (not a catalogue code), then validation names the row and the code', async () => {
    const res = await validate(routing.replace('<outputEntry id="r-y-te-agency"><text>"SYT"</text>', '<outputEntry id="r-y-te-agency"><text>"SO-Y-TE"</text>'));
    const problem = res.body.problems.find((p: any) => p.rule === 'decision-output-code');
    expect(problem).to.include({ elementId: 'r-y-te-agency'.replace('-agency', ''), severity: 'error' });
    expect(problem.message).to.include('"SO-Y-TE"');
    const deploy = await h.s.http.post('/v1/definitions').set(analyst).set('Content-Type', 'application/xml').send(routing.replace('"SYT"</text>', '"SO-Y-TE"</text>'));
    expect(deploy.status).to.equal(422);
  });

  it('Given a row sends complaints to STTTT (merged into SKHCN in March 2025), then the error names the successor', async () => {
    const res = await validate(routing.replace('<outputEntry id="r-thong-tin-agency"><text>"SKHCN"</text>', '<outputEntry id="r-thong-tin-agency"><text>"STTTT"</text>'));
    const problem = res.body.problems.find((p: any) => p.rule === 'decision-output-code');
    expect(problem.message).to.include('successor SKHCN');
  });

  it('Given the shipped routing table, then it validates without this error', async () => {
    const res = await validate(routing);
    expect(res.body.problems.filter((p: any) => p.rule === 'decision-output-code')).to.deep.equal([]);
  });
});

import { expect } from 'chai';
import { fixture } from '../helpers/system.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the analyst guide (2026-12-08): `POST /v1/definitions?activate=no` and the typo
 * `?activat=false` both deployed a new routing table and made it active — anything but exactly "false"
 * activated, and a route that declared no query parameters ignored whatever it was given (`GET
 * /v1/cases/{code}/history?limit=2` answered every event). Now an API route takes only the parameters it
 * declares, with the values it declares: 400 naming the parameter, and nothing done.
 */
describe('Regression: an API route refuses an unknown query parameter or value with 400 naming it', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given a diagram deployed with ?activate=no or ?activat=false, then each answers 400 naming the parameter and no version is stored', async () => {
    const analyst = await h.s.as('analyst', 'SNV');
    const versions = async () => Number((await h.s.db('definitions').count('* as n').first())!.n);
    const before = await versions();
    for (const [query, field] of [['activate=no', '/activate'], ['activat=false', '/activat'], ['confirm=yes', '/confirm']]) {
      const res = await h.s.http.post(`/v1/definitions?${query}`).set(analyst).set('Content-Type', 'application/xml').send(fixture('simple.bpmn'));
      expect(res.status, `${query}: ${JSON.stringify(res.body)}`).to.equal(400);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(res.body.errors.map((e: { path: string }) => e.path)).to.deep.equal([field]);
    }
    expect(await versions()).to.equal(before);
    // The values it declares still work: a first version, then a second one staged.
    const first = await h.s.http.post('/v1/definitions?activate=true').set(analyst).set('Content-Type', 'application/xml').send(fixture('simple.bpmn'));
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    const staged = await h.s.http.post('/v1/definitions?activate=false').set(analyst).set('Content-Type', 'application/xml').send(fixture('simple.bpmn').replace('name="Đơn giản"', 'name="Đơn giản 2"'));
    expect(staged.status, JSON.stringify(staged.body)).to.equal(201);
    expect(staged.body.active).to.equal(false);
  });

  it('Given reads that declare no parameters, when one is given, then they answer 400 naming it', async () => {
    const { code } = await h.intake({ title: 'Đèn đường hỏng', field: 'DAT-DAI' });
    const task = await h.task(code, 'handle', 'SNNMT');
    for (const path of [`/v1/cases/${code}/history?limit=2`, `/v1/cases/${code}?foo=1`, `/v1/tasks/${task.id}?foo=1`]) {
      const res = await h.s.http.get(path).set(h.keys.coordinator);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).to.equal(400);
      expect(res.body.errors[0].message).to.equal('is not a known field');
    }
    expect((await h.s.http.get(`/v1/cases/${code}/history`).set(h.keys.coordinator)).status).to.equal(200);
  });
});

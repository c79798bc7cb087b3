import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the agency guide (2026-12-08): `curl -d 'outcome=answer&answer=…'` (a form body, which
 * curl sends by default) completed the task, `/transfer` moved the case and `/comments` and `/subscriptions`
 * wrote, although the guide says such a body gets 400: the body parser reads forms (for Open311), and only an
 * empty one was refused. Now an endpoint that takes JSON refuses any other body type and changes nothing.
 */
describe('Regression: a JSON endpoint refuses a form-encoded body with 400 and changes nothing', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given an agency task, when complete, transfer and comments are sent as forms, then each answers 400 and the case is as it was', async () => {
    const { code } = await h.intake({ title: 'Đất đai lấn chiếm', field: 'DAT-DAI' });
    const task = await h.task(code, 'handle', 'SNNMT');
    const agency = await h.agency('SNNMT');
    const before = await h.case(code);
    const forms = [
      [`/v1/tasks/${task.id}/complete`, 'outcome=answer&answer=Da+xu+ly+xong+viec+nay'],
      [`/v1/tasks/${task.id}/transfer`, 'toAgency=CONG-AN&reason=Chuyen+bang+form'],
      [`/v1/tasks/${task.id}/comments`, 'text=Ghi+chu'],
      ['/v1/subscriptions', 'url=https%3A%2F%2Fexample.org%2Fhook&events%5B%5D=task.created'],
    ];
    for (const [path, body] of forms) {
      const res = await h.s.http.post(path).set(agency).set('Content-Type', 'application/x-www-form-urlencoded').send(body);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).to.equal(400);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(res.body.detail).to.equal('Send a JSON body with Content-Type: application/json.');
    }
    const after = await h.case(code);
    expect(after.version).to.equal(before.version);
    expect(after.tasks.map((x) => x.id)).to.deep.equal(before.tasks.map((x) => x.id));
    expect(await h.s.db('subscriptions').count('* as n').first()).to.deep.equal({ n: 0 });
    // The same command as JSON still works.
    const res = await h.s.http.post(`/v1/tasks/${task.id}/comments`).set(agency).send({ text: 'Ghi chú' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
  });

  it('Given an endpoint that takes XML or JSON, when text/plain is sent, then 400 says both (it said only "Send a JSON body")', async () => {
    const analyst = await h.s.as('analyst', 'SNV');
    const res = await h.s.http.post('/v1/definitions/validate').set(analyst).set('Content-Type', 'text/plain').send('<definitions/>');
    expect(res.status, JSON.stringify(res.body)).to.equal(400);
    expect(res.body.detail).to.equal('Send the XML with Content-Type: application/xml, text/xml, application/bpmn+xml, or a JSON body with Content-Type: application/json.');
  });
});

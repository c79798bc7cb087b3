import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Found by the chaos run (npm run chaos, scenario d): the feed's cursor
 * `after` allowed 19 digits, so GET /v1/events?after=9223372036854776000
 * (2^63, as a client's float prints it) reached PostgreSQL's bigint and
 * answered 500. An event id needs at most 18 digits (ids are bigserial; 10^18
 * events is beyond any hotline): a longer cursor is refused with 400 naming
 * `after`, like every other bad parameter. The deliveries of a webhook
 * subscription had the same 19-digit `cursor`.
 */
describe('Regression: an event or delivery cursor beyond bigint is refused, not a 500', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  for (const after of ['9223372036854776000', '9999999999999999999']) {
    it(`Given the event feed, When a coordinator asks for events after ${after}, Then 400 names the parameter after`, async () => {
      const res = await h.s.http.get(`/v1/events?after=${after}`).set(h.keys.coordinator);
      expect(res.status, res.text).to.equal(400);
      expect(res.type).to.equal('application/problem+json');
      expect(JSON.stringify(res.body)).to.contain('after');
    });
  }

  it('Given the event feed, When a coordinator asks for events after the largest 18-digit cursor, Then 200 with no events and the same cursor', async () => {
    const res = await h.s.http.get('/v1/events?after=999999999999999999').set(h.keys.coordinator);
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.equal({ items: [], nextCursor: '999999999999999999' });
  });

  it('Given a subscription, When its agency lists deliveries with a 19-digit cursor, Then 400 names the parameter cursor', async () => {
    const agency = await h.agency('SNNMT');
    const sub = await h.s.http.post('/v1/subscriptions').set(agency).send({ url: 'https://dms.invalid/hook', events: ['case.transferred'] });
    expect(sub.status, sub.text).to.equal(201);
    const res = await h.s.http.get(`/v1/subscriptions/${sub.body.id}/deliveries?cursor=9999999999999999999`).set(agency);
    expect(res.status, res.text).to.equal(400);
    expect(JSON.stringify(res.body)).to.contain('cursor');
    const ok = await h.s.http.get(`/v1/subscriptions/${sub.body.id}/deliveries?cursor=999999999999999999`).set(agency);
    expect(ok.status, ok.text).to.equal(200);
  });
});

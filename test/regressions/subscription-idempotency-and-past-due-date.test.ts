import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Issue 18 leftovers: POST /v1/subscriptions ignored Idempotency-Key, so an
 * agency's system retrying after a lost answer subscribed twice (and got every
 * event twice); and a coordinator could reassign a case with a new deadline
 * already past, making it overdue the moment it arrived.
 */
describe('Regression: subscriptions honour Idempotency-Key; a past new deadline is refused', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  const subscriptions = async () => Number(((await t.db('subscriptions').count('* as n').first()) as any).n);

  it('Given an agency subscribing twice with one Idempotency-Key, then one subscription exists and both answers are the same; another body with the key is 409', async () => {
    const key = await h.agency('SXD');
    const body = { url: 'https://hooks.sxd.example.vn/pakn', events: ['task.created'] };
    const before = await subscriptions();
    const first = await h.s.http.post('/v1/subscriptions').set(key).set('Idempotency-Key', 'sub-sxd-1').send(body);
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    const again = await h.s.http.post('/v1/subscriptions').set(key).set('Idempotency-Key', 'sub-sxd-1').send(body);
    expect(again.status).to.equal(201);
    expect(again.headers['idempotent-replayed']).to.equal('true');
    expect(again.body).to.deep.equal(first.body);
    expect(again.headers.location).to.equal(`/v1/subscriptions/${first.body.id}`);
    expect(await subscriptions()).to.equal(before + 1);

    const other = await h.s.http.post('/v1/subscriptions').set(key).set('Idempotency-Key', 'sub-sxd-1').send({ ...body, events: ['task.overdue'] });
    expect(other.status).to.equal(409);
    expect(await subscriptions()).to.equal(before + 1);
    // Without a key each request subscribes.
    expect((await h.s.http.post('/v1/subscriptions').set(key).send(body)).status).to.equal(201);
    expect(await subscriptions()).to.equal(before + 2);
  });

  it('Given a case escalated to the coordinator, when it is reassigned with a new deadline before today (Vietnam time), then 422 names newDueDate and nothing changes; today is accepted', async () => {
    const kase = await h.intake({ title: 'Trộm cắp tài sản tại khu dân cư', description: 'Nhiều nhà bị mất trộm xe đạp trong tuần.', channel: 'call', field: 'DAT-DAI', citizenPhone: '0912000111' });
    await h.act(kase.code, 'handle', kase.variables.agency, { outcome: 'notCompetent', returnReason: 'Không thuộc thẩm quyền' });
    const coordinate = await h.task(kase.code, 'coordinate', 'coordinator');
    // TEST_START is 2026-11-02T02:00Z: 09:00 on Monday 2 November in Vietnam.
    h.s.clock.set('2026-11-02T18:30:00Z'); // 01:30 on Tuesday 3 November in Vietnam, still the 2nd in UTC
    const versionBefore = (await h.case(kase.code)).version;
    const refused = await h.complete(coordinate.id, h.keys.coordinator, { decision: 'reassign', toAgency: 'CONG-AN', newDueDate: '2026-11-02' }, 422);
    expect(refused.errors).to.deep.equal([{ path: '/newDueDate', message: 'must be today (2026-11-03) or later' }]);
    expect((await h.case(kase.code)).version).to.equal(versionBefore);
    await h.complete(coordinate.id, h.keys.coordinator, { decision: 'reassign', toAgency: 'CONG-AN', newDueDate: '2026-11-03' });
    await h.task(kase.code, 'handle', 'CONG-AN');
  });
});

import { expect } from 'chai';
import supertest from 'supertest';
import { createApp } from '../../api/app.js';
import { claimInboundSms } from '../../db/inbound-sms.js';
import { testSystem } from '../helpers/system.js';
import { freshDb, ON_POSTGRES, type TestDb } from '../helpers/db.js';
import { Hotline, type Key } from '../helpers/scenario.js';

/**
 * Found by a check of the operator guide: the provider retried an inbound
 * SMS "1" (same providerId) that had already rated and closed a case, and
 * the retry was processed again — attached as a citizen's message
 * (sms.received) to the phone's other running case. Providers retry
 * deliveries, so an inbound SMS is now processed once per providerId: its
 * outcome is stored under the id in the transaction of what it did, and a
 * retry, on any node, answers the same and changes nothing.
 */
describe('Regression: an inbound SMS is processed once per providerId', () => {
  let t: TestDb;
  let h: Hotline;
  let gateway: Key;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    gateway = await h.s.as('gateway', null, 'Nhà cung cấp SMS');
  });
  after(() => t.close());

  const inbound = (body: Record<string, unknown>, http = h.s.http) => http.post('/v1/sms/inbound').set(gateway).send(body);
  const eventCount = async () => Number(((await t.db('case_events').count('* as n').first()) as any).n);

  /** A case of `phone` answered and approved: it waits for the citizen's rating. */
  async function waitingForRating(phone: string, title: string) {
    const kase = await h.intake({ title, field: 'XAY-DUNG', citizenPhone: phone });
    await h.act(kase.code, 'handle', 'SXD', { outcome: 'answer', answer: 'Đã cử đội duy tu sửa chữa xong.' });
    await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve' });
    return kase;
  }

  it('Given a "1" that rated and closed a case, when the provider delivers it again with the same providerId, then the retry gets the same answer and nothing changes', async () => {
    const other = await h.intake({ title: 'Cống thoát nước bị tắc', field: 'XAY-DUNG', citizenPhone: '0909 333 444' });
    const rated = await waitingForRating('0909 333 444', 'Ổ gà trên đường Đồng Khởi');
    const first = await inbound({ from: '84909333444', text: '1', providerId: 'mo-889121' });
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    expect(first.body).to.deep.equal({ matched: true, code: rated.code, as: 'rating' });
    expect((await h.case(rated.code)).status).to.equal('completed');
    const events = await eventCount();
    const otherVersion = (await h.case(other.code)).version;

    const retry = await inbound({ from: '84909333444', text: '1', providerId: 'mo-889121' });
    expect(retry.status, JSON.stringify(retry.body)).to.equal(200);
    expect(retry.body).to.deep.equal(first.body);
    expect(await eventCount()).to.equal(events);
    expect((await h.case(other.code)).version).to.equal(otherVersion);
    expect(await t.db('case_events').where({ case_id: other.id, type: 'sms.received' })).to.have.length(0);
  });

  it('Given the citizen’s information resumed a case, when it is delivered again, then the case does not get it twice', async () => {
    const kase = await h.intake({ title: 'Nước sinh hoạt có mùi lạ', field: 'XAY-DUNG', citizenPhone: '0966 000 123' });
    await h.act(kase.code, 'handle', 'SXD', { outcome: 'moreInfo', question: 'Xin cho biết địa chỉ cụ thể' });
    const body = { from: '0966000123', text: 'Số 12 đường Nguyễn Ái Quốc', providerId: 'mo-900001' };
    const first = await inbound(body);
    expect(first.body).to.deep.equal({ matched: true, code: kase.code, as: 'information' });
    const events = await eventCount();
    const retry = await inbound(body);
    expect(retry.body).to.deep.equal(first.body);
    expect(await eventCount()).to.equal(events);
    expect(await t.db('case_events').where({ case_id: kase.id, type: 'sms.received' })).to.have.length(0);
  });

  it('Given a message attached to a case, when it is delivered again, then the history holds it once', async () => {
    const kase = await h.intake({ title: 'Đèn đường không sáng', field: 'XAY-DUNG', citizenPhone: '0977 000 555' });
    const body = { from: '+84977000555', text: 'Cảm ơn tổng đài', providerId: 'mo-900002' };
    const [first, retry] = [await inbound(body), await inbound(body)];
    expect(first.body).to.deep.equal({ matched: true, code: kase.code, as: 'message' });
    expect(retry.body).to.deep.equal(first.body);
    expect(await t.db('case_events').where({ case_id: kase.id, type: 'sms.received' })).to.have.length(1);
  });

  it('Given an SMS that went to no case, when it is delivered again after the phone has a case, then it still goes to none', async () => {
    const body = { from: '0988 111 222', text: 'Xin chào', providerId: 'mo-900003' };
    const first = await inbound(body);
    expect(first.body).to.deep.equal({ matched: false, reason: 'no running case of this phone' });
    const kase = await h.intake({ title: 'Rác thải ven đường', field: 'XAY-DUNG', citizenPhone: '0988111222' });
    expect((await inbound(body)).body).to.deep.equal(first.body);
    expect(await t.db('case_events').where({ case_id: kase.id, type: 'sms.received' })).to.have.length(0);
  });

  it('Given a providerId already received, when it comes from another number or with another text, then 409 and nothing changes', async () => {
    const kase = await h.intake({ title: 'Vỉa hè bị lấn chiếm', field: 'XAY-DUNG', citizenPhone: '0911 000 999' });
    await inbound({ from: '0911000999', text: 'Xin xử lý sớm', providerId: 'mo-900004' });
    const events = await eventCount();
    const otherSender = await inbound({ from: '0911000888', text: 'Xin xử lý sớm', providerId: 'mo-900004' });
    expect(otherSender.status).to.equal(409);
    expect(otherSender.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(otherSender.body.detail).to.include('mo-900004');
    expect((await inbound({ from: '0911000999', text: 'Nội dung khác', providerId: 'mo-900004' })).status).to.equal(409);
    expect(await eventCount()).to.equal(events);
    expect(await t.db('case_events').where({ case_id: kase.id, type: 'sms.received' })).to.have.length(1);
  });

  it('Given SMS without a providerId, then each delivery is a new message (nothing can tell them apart)', async () => {
    const kase = await h.intake({ title: 'Cây đổ chắn đường', field: 'XAY-DUNG', citizenPhone: '0933 000 777' });
    await inbound({ from: '0933000777', text: 'Cây vẫn chưa được dọn' });
    await inbound({ from: '0933000777', text: 'Cây vẫn chưa được dọn' });
    expect(await t.db('case_events').where({ case_id: kase.id, type: 'sms.received' })).to.have.length(2);
  });

  it('Given the command an SMS triggers is refused, then its providerId is not kept, so the message can still be delivered', async () => {
    const kase = await h.intake({ title: 'Cột điện nghiêng', field: 'XAY-DUNG', citizenPhone: '0944 000 321' });
    const citizen = { id: 'citizen:sms', name: 'Công dân', roles: ['citizen'], agency: null };
    const claim = async (trx: any) => {
      await claimInboundSms(trx, { providerId: 'mo-900005', hash: 'x', response: { matched: true, code: kase.code, as: 'rating' }, at: h.s.clock.now() });
    };
    let refused: any;
    try {
      // Not waiting for a rating: the command is refused after the claim, in the same transaction.
      await h.s.runtime.correlateMessage({ code: kase.code, name: 'citizen-rating', payload: { satisfied: true, ratingChannel: 'sms' }, actor: citizen, claim });
    } catch (err) {
      refused = err;
    }
    expect(refused?.status).to.equal(409);
    expect(await t.db('inbound_sms').where({ provider_id: 'mo-900005' })).to.have.length(0);
    const delivered = await inbound({ from: '0944000321', text: 'Cột điện sắp đổ', providerId: 'mo-900005' });
    expect(delivered.body).to.deep.equal({ matched: true, code: kase.code, as: 'message' });
  });

  it('Given two nodes receive the same "1" at once, then both answer the first delivery’s outcome, the case is rated once and no other case gets it', async function () {
    if (!ON_POSTGRES) this.skip(); // PGlite has one connection: requests cannot overlap there
    const second = supertest(createApp(await testSystem(t.another(), {}, { clock: h.s.clock })).callback());
    for (const [i, phone] of ['0955 000 111', '0955 000 222', '0955 000 333'].entries()) {
      const other = await h.intake({ title: `Phản ánh khác số ${i + 1}`, field: 'XAY-DUNG', citizenPhone: phone });
      const rated = await waitingForRating(phone, `Phản ánh chờ đánh giá số ${i + 1}`);
      const body = { from: phone.replace(/ /g, ''), text: '1', providerId: `mo-race-${i}` };
      const [a, b] = await Promise.all([inbound(body), inbound(body, second)]);
      expect([a.status, b.status]).to.deep.equal([200, 200]);
      expect(a.body).to.deep.equal({ matched: true, code: rated.code, as: 'rating' });
      expect(b.body).to.deep.equal(a.body);
      expect(await t.db('case_events').where({ case_id: rated.id, type: 'message.correlated' })).to.have.length(1);
      expect(await t.db('case_events').where({ case_id: other.id, type: 'sms.received' })).to.have.length(0);
    }
  });
});

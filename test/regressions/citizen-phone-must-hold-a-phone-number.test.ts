import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Found by a check of the operator guide: a phone was checked only for its
 * characters (^[+0-9 ().-]{6,20}$), so intake took citizenPhone "+++ ... ---"
 * (201) and an SMS later went to "+++"; an inbound SMS from "abcdefgh" was
 * taken too. Wherever a citizen's phone comes in (intake, Open311, the case
 * search, an inbound SMS's sender, a start that skips the HTTP schema) it
 * must now hold 9 to 15 digits, optionally after one leading +, with only
 * spaces, dots, dashes or parentheses between; a refusal names the field.
 */
describe('Regression: a citizen’s phone must hold a phone number', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  const count = async () => Number(((await t.db('cases').count('* as n').first()) as any).n);
  const intake = (citizenPhone: unknown) =>
    h.s.http
      .post('/v1/cases')
      .set(h.keys.operator)
      .send({ variables: { title: 'Đèn đường hỏng', description: 'Đèn đường trước nhà số 12 không sáng.', channel: 'call', citizenPhone } });

  const NOT_PHONES = ['+++ ... ---', '+++', 'abcdefgh', '09120-ABC', '12345678', '0912 000 111 222 333 4', '++84912000111', '0912+000111', '0912/000/111', ' '];
  const PHONES = ['0912000111', '0912 000 111', '0912.000.111', '091-200-0111', '+84 912 000 111', '(+84) 912 000 111', '84909333444', '(0251) 3822 123'];

  it('Given a phone without a phone’s digits, when a case is taken in, then 400 names /variables/citizenPhone in words and no case is opened', async () => {
    const before = await count();
    for (const phone of NOT_PHONES) {
      const res = await intake(phone);
      expect(res.status, `${phone}: ${JSON.stringify(res.body)}`).to.equal(400);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(res.body.errors, phone).to.have.length(1);
      expect(res.body.errors[0].path).to.equal('/variables/citizenPhone');
      expect(res.body.errors[0].message).to.match(/^must be a phone number: 9 to 15 digits/);
    }
    expect(await count()).to.equal(before);
  });

  it('Given the usual ways of writing a Vietnamese number, when a case is taken in, then it opens', async () => {
    for (const phone of PHONES) {
      const res = await intake(phone);
      expect(res.status, `${phone}: ${JSON.stringify(res.body)}`).to.equal(201);
      expect(res.body.variables.citizenPhone).to.equal(phone);
    }
  });

  it('Given a start that skips the HTTP schema (a script, the seed), then the runtime refuses the phone the same way', async () => {
    const before = await count();
    const operator = { id: h.keys.operator.id, name: 'Tổng đài viên', roles: ['operator'], agency: 'TONG-DAI-1022' };
    let refused: any;
    try {
      await h.s.runtime.startCase({ processKey: 'complaint-handling', variables: { title: 'Đèn đường hỏng', description: 'Đèn đường không sáng.', channel: 'call', citizenPhone: '+++ ... ---' }, actor: operator });
    } catch (err) {
      refused = err;
    }
    expect(refused?.status).to.equal(400);
    expect(refused.errors.map((e: any) => e.path)).to.deep.equal(['/variables/citizenPhone']);
    expect(await count()).to.equal(before);
  });

  it('Given an Open311 request with such a phone, then 400 names phone and no case is opened', async () => {
    const before = await count();
    const app = await h.s.as('operator', 'TONG-DAI-1022', 'Ứng dụng Đồng Nai số');
    const res = await h.s.http
      .post('/open311/v2/requests.json')
      .type('form')
      .send({ api_key: app.Authorization.slice('Bearer '.length), service_code: 'DAT-DAI', lat: '10.9574', long: '106.8427', description: 'Lấn chiếm vỉa hè', phone: '+++ ... ---' });
    expect(res.status, JSON.stringify(res.body)).to.equal(400);
    expect(JSON.stringify(res.body)).to.include('phone: must be a phone number');
    expect(await count()).to.equal(before);
  });

  it('Given a search by such a phone, then 400 names /phone', async () => {
    const res = await h.s.http.get(`/v1/cases?phone=${encodeURIComponent('+++ ... ---')}`).set(h.keys.operator);
    expect(res.status, JSON.stringify(res.body)).to.equal(400);
    expect(res.body.errors.map((e: any) => e.path)).to.deep.equal(['/phone']);
    expect((await h.s.http.get(`/v1/cases?phone=${encodeURIComponent('+84 912 000 111')}`).set(h.keys.operator)).status).to.equal(200);
  });

  it('Given an inbound SMS from a sender that is not a phone number, then 400 names /from and nothing is recorded', async () => {
    const gateway = await h.s.as('gateway', null, 'Nhà cung cấp SMS');
    const events = Number(((await t.db('case_events').count('* as n').first()) as any).n);
    for (const from of ['abcdefgh', '+++ ... ---']) {
      const res = await h.s.http.post('/v1/sms/inbound').set(gateway).send({ from, text: '1', providerId: `mo-${from}` });
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.errors.map((e: any) => e.path)).to.deep.equal(['/from']);
    }
    expect(Number(((await t.db('case_events').count('* as n').first()) as any).n)).to.equal(events);
    expect((await h.s.http.post('/v1/sms/inbound').set(gateway).send({ from: '84909333444', text: 'Xin chào' })).status).to.equal(200);
  });
});

import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Issue 15: intake accepted an empty body and a case without title,
 * description or channel, which nobody could then route, answer or count by
 * channel. Now POST /v1/cases requires the three (400 naming each missing
 * one), the runtime refuses a start of the hotline's process without them
 * whoever calls it, and Open311 (where description is optional) still opens
 * a case, described by its title.
 */
describe('Regression: intake requires title, description and channel', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  const count = async () => Number(((await t.db('cases').count('* as n').first()) as any).n);
  const post = (body: unknown) => h.s.http.post('/v1/cases').set(h.keys.operator).send(body as object);

  it('Given an empty body, when posted, then 400 names variables and no case is opened', async () => {
    const before = await count();
    const res = await post({});
    expect(res.status, JSON.stringify(res.body)).to.equal(400);
    expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(res.body.errors).to.deep.include({ path: '/variables', message: 'is required' });
    expect(await count()).to.equal(before);
  });

  it('Given variables with only a title, when posted, then 400 names description and channel', async () => {
    const before = await count();
    const res = await post({ variables: { title: 'Đèn đường hỏng' } });
    expect(res.status, JSON.stringify(res.body)).to.equal(400);
    expect(res.body.errors.map((e: any) => e.path).sort()).to.deep.equal(['/variables/channel', '/variables/description']);
    expect(res.body.errors.every((e: any) => e.message === 'is required')).to.equal(true);
    expect(await count()).to.equal(before);
  });

  it('Given a title or description of spaces only, when posted, then 400 names the field', async () => {
    const res = await post({ variables: { title: '   ', description: 'Đèn đường trước nhà số 12 không sáng.', channel: 'call' } });
    expect(res.status, JSON.stringify(res.body)).to.equal(400);
    expect(res.body.errors.map((e: any) => e.path)).to.deep.equal(['/variables/title']);
  });

  it('Given a start of the hotline process that skips the HTTP schema (a script, the seed), then the runtime refuses it naming the missing fields', async () => {
    const before = await count();
    const operator = { id: h.keys.operator.id, name: 'Tổng đài viên', roles: ['operator'], agency: 'TONG-DAI-1022' };
    let refused: any;
    try {
      await h.s.runtime.startCase({ processKey: 'complaint-handling', variables: { title: 'Đèn đường hỏng', channel: 'call' }, actor: operator });
    } catch (err) {
      refused = err;
    }
    expect(refused?.status).to.equal(400);
    expect(refused.errors).to.deep.equal([{ path: '/variables/description', message: 'is required' }]);
    expect(await count()).to.equal(before);
  });

  it('Given title, description and channel, then the case opens', async () => {
    const res = await post({ variables: { title: 'Đèn đường hỏng', description: 'Đèn đường trước nhà số 12 không sáng.', channel: 'call', field: 'GIAO-THONG' } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.variables).to.include({ title: 'Đèn đường hỏng', channel: 'call' });
  });

  it('Given an Open311 request without a description, then the case opens, described by its title', async () => {
    const app = await h.s.as('operator', 'TONG-DAI-1022', 'Ứng dụng Đồng Nai số');
    const res = await h.s.http
      .post('/open311/v2/requests.json')
      .type('form')
      .send({ api_key: app.Authorization.slice('Bearer '.length), service_code: 'DAT-DAI', lat: '10.9574', long: '106.8427' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const kase = await h.case(res.body[0].service_request_id);
    expect(kase.variables.channel).to.equal('app');
    expect(kase.variables.description).to.equal(kase.variables.title);
  });
});

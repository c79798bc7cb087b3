import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Issue 15: Open311 POST ignored Idempotency-Key (an app retrying after a
 * network error opened a second case), and the public request list, read
 * without any key, enumerated every case code.
 */
describe('Regression: Open311 honours Idempotency-Key, and its keyless list shows published requests only', () => {
  let t: TestDb;
  let h: Hotline;
  let apiKey: string;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    apiKey = h.keys.operator.Authorization.replace('Bearer ', '');
  });
  after(() => t.close());

  const report = { service_code: 'DAT-DAI', lat: '10.9574', long: '106.8427', description: 'Lấn chiếm vỉa hè', phone: '0911222444' };

  it('Given an app sends the same request twice with one Idempotency-Key, then one case exists and both answers name it', async () => {
    const count = async () => Number(((await t.db('cases').count('* as n').first()) as any).n);
    const before = await count();
    const send = () => h.s.http.post('/open311/v2/requests.json').type('form').set('Idempotency-Key', 'app-7f3c-0001').send({ api_key: apiKey, ...report });
    const a = await send();
    const b = await send();
    expect([a.status, b.status]).to.deep.equal([201, 201]);
    expect(b.headers['idempotent-replayed']).to.equal('true');
    expect(b.body[0].service_request_id).to.equal(a.body[0].service_request_id);
    expect(await count()).to.equal(before + 1);
  });

  it('Given open cases, when the list is read without a key, then none of their codes appear; with a staff key they do; by id a request is always found', async () => {
    const open = await h.s.http.post('/open311/v2/requests.json').type('form').send({ api_key: apiKey, ...report, description: 'Rác thải bên đường' });
    const code = open.body[0].service_request_id;
    const anonymous = await h.s.http.get('/open311/v2/requests.json');
    expect(anonymous.status).to.equal(200);
    expect(anonymous.body.map((r: any) => r.service_request_id)).not.to.include(code);
    const staff = await h.s.http.get(`/open311/v2/requests.json?api_key=${apiKey}`);
    expect(staff.body.map((r: any) => r.service_request_id)).to.include(code);
    const byId = await h.s.http.get(`/open311/v2/requests/${code}.json`);
    expect(byId.status).to.equal(200);
  });
});

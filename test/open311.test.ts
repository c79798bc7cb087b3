import { expect } from 'chai';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline, type Key } from './helpers/scenario.js';

describe('Open311 GeoReport v2', () => {
  let t: TestDb;
  let h: Hotline;
  let app: Key;
  let apiKey: string;

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    app = await h.s.as('operator', 'TONG-DAI-1022', 'Ứng dụng Đồng Nai số');
    apiKey = app.Authorization.slice('Bearer '.length);
  });
  after(() => t.close());

  it('Given GET services.json and services.xml, the catalogue fields in force are listed as services', async () => {
    const json = await h.s.http.get('/open311/v2/services.json');
    expect(json.status).to.equal(200);
    const land = json.body.find((s: any) => s.service_code === 'DAT-DAI');
    expect(land).to.include({ service_name: 'Đất đai', metadata: false, type: 'realtime' });
    const xml = await h.s.http.get('/open311/v2/services.xml');
    expect(xml.type).to.equal('text/xml');
    expect(xml.text).to.match(/<services>\s*<service>/);
    expect(xml.text).to.contain('<service_code>DAT-DAI</service_code>');
    expect(xml.text).to.contain('<service_name>Đất đai</service_name>');
    const def = await h.s.http.get('/open311/v2/services/DAT-DAI.json');
    expect(def.body).to.deep.equal({ service_code: 'DAT-DAI', attributes: [] });
  });

  it('Given the spec’s POST example (form-urlencoded, api_key, location), a case is opened and its id returned at once', async () => {
    const res = await h.s.http
      .post('/open311/v2/requests.json')
      .type('form')
      .send({ api_key: apiKey, service_code: 'DAT-DAI', lat: '10.9574', long: '106.8427', address_string: 'Phường Tam Hiệp, Biên Hòa', description: 'Lấn chiếm vỉa hè làm bãi giữ xe', first_name: 'Hà', last_name: 'Nguyễn', phone: '0911222333', media_url: 'https://anh.example.vn/1.jpg' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.have.length(1);
    const id = res.body[0].service_request_id;
    expect(id).to.match(/^PA\d{4}-/);
    const kase = await h.case(id);
    expect(kase.variables).to.include({ field: 'DAT-DAI', channel: 'app', citizenName: 'Nguyễn Hà', citizenPhone: '0911222333', lat: 10.9574, agency: 'SNNMT' });

    const one = await h.s.http.get(`/open311/v2/requests/${id}.json`);
    expect(one.body[0]).to.include({ service_request_id: id, status: 'open', service_code: 'DAT-DAI', agency_responsible: 'Sở Nông nghiệp và Môi trường', lat: 10.9574 });
    expect(JSON.stringify(one.body)).not.to.match(/0911222333|Nguyễn Hà|vỉa hè/);
    const xml = await h.s.http.get(`/open311/v2/requests/${id}.xml`);
    expect(xml.text).to.contain(`<service_request_id>${id}</service_request_id>`);
    expect(xml.text).to.contain('<status>open</status>');
    const list = await h.s.http.get(`/open311/v2/requests.json?service_request_id=${id},PA0000-NONE`);
    expect(list.body.map((r: any) => r.service_request_id)).to.deep.equal([id]);
    const token = await h.s.http.get(`/open311/v2/tokens/${id}.json`);
    expect(token.body).to.deep.equal([{ service_request_id: id, token: id }]);
  });

  it('Given the spec’s error cases, errors come back as a list of {code, description} in the requested format', async () => {
    const noKey = await h.s.http.post('/open311/v2/requests.json').type('form').send({ service_code: 'DAT-DAI', lat: '10.9', long: '106.8' });
    expect(noKey.status).to.equal(403);
    expect(noKey.body[0]).to.have.keys('code', 'description');
    const noLocation = await h.s.http.post('/open311/v2/requests.json').type('form').send({ api_key: apiKey, service_code: 'DAT-DAI' });
    expect(noLocation.status).to.equal(400);
    expect(noLocation.body[0].description).to.match(/location is required/);
    const unknown = await h.s.http.post('/open311/v2/requests.xml').type('form').send({ api_key: apiKey, service_code: 'KHONG-CO', lat: '10.9', long: '106.8' });
    expect(unknown.status).to.equal(404);
    expect(unknown.text).to.match(/<errors>\s*<error>\s*<code>404<\/code>/);
    const missing = await h.s.http.get('/open311/v2/requests/PA0000-NONE.json');
    expect(missing.status).to.equal(404);
    const badFormat = await h.s.http.get('/open311/v2/services.csv');
    expect(badFormat.status).to.equal(404);
  });
});

import { expect } from 'chai';
import supertest from 'supertest';
import { createApp } from '../api/app.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline } from './helpers/scenario.js';
import { childText, parseXmlStrict, type XmlElement } from './helpers/xml.js';

/**
 * GeoReport v2 exchanges as the three client libraries make them (georeport:
 * form body with api_key; open311: api_key in the query; three: multipart,
 * with a photo as `media`), in JSON and XML, every endpoint and every error.
 * Every XML answer goes through a strict XML parser; every answer is also
 * checked against the served OpenAPI document (the test app's checkResponses).
 */
describe('Open311 GeoReport v2 conformance', () => {
  let t: TestDb;
  let h: Hotline;
  let apiKey: string;
  const B = '/open311/v2';

  /** A strict parse of an XML answer, with the spec's declaration and content type. */
  function xml(res: supertest.Response): XmlElement {
    expect(res.type, res.text).to.equal('text/xml');
    expect(res.headers['content-type']).to.match(/charset=utf-8/i);
    const { declaration, root } = parseXmlStrict(res.text);
    expect(declaration).to.deep.equal({ version: '1.0', encoding: 'UTF-8' });
    return root;
  }

  function errorsOf(root: XmlElement) {
    expect(root.name).to.equal('errors');
    return root.children.map((e) => {
      expect(e.name).to.equal('error');
      return { code: Number(childText(e, 'code')), description: childText(e, 'description') };
    });
  }

  const form = (fields: Record<string, string>) => ({ service_code: 'DAT-DAI', lat: '10.9574', long: '106.8427', description: 'Lấn chiếm vỉa hè', ...fields });

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    apiKey = (await h.s.as('operator', 'TONG-DAI-1022', 'Ứng dụng')).Authorization.slice('Bearer '.length);
  });
  after(() => t.close());

  describe('Discovery and services', () => {
    it('Given discovery.json and discovery.xml, the GeoReport v2 endpoint is listed with its formats', async () => {
      const json = await h.s.http.get(`${B}/discovery.json`);
      expect(json.status).to.equal(200);
      expect(json.body.endpoints[0]).to.include({ specification: 'http://wiki.open311.org/GeoReport_v2', type: 'production' });
      expect(json.body.endpoints[0].url).to.match(/\/open311\/v2$/);
      expect(json.body.endpoints[0].formats).to.deep.equal(['text/xml', 'application/json']);
      const root = xml(await h.s.http.get(`${B}/discovery.xml`));
      expect(root.name).to.equal('discovery');
      const endpoint = root.children.find((c) => c.name === 'endpoints')!.children[0];
      expect(endpoint.name).to.equal('endpoint');
      expect(childText(endpoint, 'specification')).to.equal('http://wiki.open311.org/GeoReport_v2');
      expect(endpoint.children.find((c) => c.name === 'formats')!.children.map((f) => [f.name, f.text])).to.deep.equal([
        ['format', 'text/xml'],
        ['format', 'application/json'],
      ]);
    });

    it('Given services and a service definition in both formats, the XML has the spec’s elements and the JSON the same data', async () => {
      const json = await h.s.http.get(`${B}/services.json`);
      const root = xml(await h.s.http.get(`${B}/services.xml`));
      expect(root.name).to.equal('services');
      expect(root.children.map((c) => c.name)).to.satisfy((names: string[]) => names.every((n) => n === 'service'));
      expect(root.children.map((c) => childText(c, 'service_code'))).to.deep.equal(json.body.map((s: any) => s.service_code));
      expect(json.body.map((s: any) => s.service_code)).to.include('CHUA-PHAN-LOAI');
      const def = xml(await h.s.http.get(`${B}/services/DAT-DAI.xml`));
      expect(def.name).to.equal('service_definition');
      expect(childText(def, 'service_code')).to.equal('DAT-DAI');
      const missing = await h.s.http.get(`${B}/services/KHONG-CO.xml`);
      expect(missing.status).to.equal(404);
      expect(errorsOf(xml(missing))).to.deep.equal([{ code: 404, description: 'service_code KHONG-CO not found' }]);
    });
  });

  describe('POST requests', () => {
    it('Given georeport’s form body with api_key, the request is created (JSON and XML)', async () => {
      const res = await h.s.http.post(`${B}/requests.json`).type('form').send(form({ api_key: apiKey }));
      expect(res.status, res.text).to.equal(201);
      expect(res.body[0].service_request_id).to.match(/^PA\d{4}-/);
      const x = await h.s.http.post(`${B}/requests.xml`).type('form').send(form({ api_key: apiKey }));
      expect(x.status).to.equal(201);
      const root = xml(x);
      expect(root.name).to.equal('service_requests');
      expect(root.children[0].name).to.equal('request');
      expect(childText(root.children[0], 'service_request_id')).to.match(/^PA\d{4}-/);
    });

    it('Given the open311 client’s api_key in the query string, the request is created', async () => {
      const res = await h.s.http.post(`${B}/requests.json?api_key=${encodeURIComponent(apiKey)}`).type('form').send(form({}));
      expect(res.status, res.text).to.equal(201);
    });

    it('Given three’s multipart body, fields are read; with a photo as media, a GeoReport 400 says photos are not accepted yet and nothing is created', async () => {
      const ok = await h.s.http.post(`${B}/requests.xml`).field(form({ api_key: apiKey }));
      expect(ok.status, ok.text).to.equal(201);
      expect(childText(xml(ok).children[0], 'service_request_id')).to.match(/^PA/);
      const before = await t.db('cases').count('* as n').first();
      const photo = await h.s.http
        .post(`${B}/requests.json`)
        .field(form({ api_key: apiKey }))
        .attach('media', Buffer.from([0xff, 0xd8, 0xff, 0xe0]), { filename: 'pho.jpg', contentType: 'image/jpeg' });
      expect(photo.status).to.equal(400);
      expect(photo.body).to.deep.equal([{ code: 400, description: 'media: photos are not accepted yet; send media_url instead' }]);
      expect(await t.db('cases').count('* as n').first()).to.deep.equal(before);
      const broken = await h.s.http.post(`${B}/requests.xml`).set('Content-Type', 'multipart/form-data; boundary=x').send('--x\r\nnot a part');
      expect(broken.status).to.equal(400);
      expect(errorsOf(xml(broken))[0].description).to.match(/multipart/);
    });

    it('Given control characters, a NUL, a lone lat, a hexadecimal lat or an unknown key, each is a GeoReport error naming the field', async () => {
      const cases: Array<[Record<string, string>, number, RegExp]> = [
        [{ api_key: apiKey, media_url: 'https://anh.example.vn/\u0001\u000b\u001f.jpg' }, 400, /^media_url: /],
        [{ api_key: apiKey, description: 'a\u0000b' }, 400, /^description: must not contain U\+0000/],
        [{ api_key: apiKey, first_name: 'Hà\u0007' }, 400, /^first_name: /],
        [{ api_key: apiKey, lat: '10.9', long: '' }, 400, /^long: is required when the other coordinate is given/],
        [{ api_key: apiKey, lat: '0x10', long: '106.8' }, 400, /^lat: /],
        [{ api_key: apiKey, lat: '91', long: '106.8' }, 400, /^lat: must be between -90 and 90/],
        [{ api_key: 'pakn_khong-dung' }, 403, /api_key is missing, unknown/],
      ];
      for (const [fields, status, description] of cases) {
        for (const format of ['json', 'xml'] as const) {
          const res = await h.s.http.post(`${B}/requests.${format}`).type('form').send(form(fields));
          expect(res.status, `${JSON.stringify(fields)} ${res.text}`).to.equal(status);
          const list = format === 'json' ? res.body : errorsOf(xml(res));
          expect(list[0].code).to.equal(status);
          expect(list[0].description).to.match(description);
        }
      }
    });

    it('Given empty lat and long with an address, they count as absent: no 0,0 is stored', async () => {
      const res = await h.s.http.post(`${B}/requests.json`).type('form').send(form({ api_key: apiKey, lat: '', long: '', address_string: 'Phường Trấn Biên', media_url: '' }));
      expect(res.status, res.text).to.equal(201);
      const kase = await h.case(res.body[0].service_request_id);
      expect(kase.variables).not.to.have.any.keys('lat', 'long', 'mediaUrl');
      const one = await h.s.http.get(`${B}/requests/${res.body[0].service_request_id}.json`);
      expect(one.body[0]).to.include({ lat: null, long: null });
    });

    it('Given a request for CHUA-PHAN-LOAI, the case waits for classification and is shown under that service, never with a null code', async () => {
      const res = await h.s.http.post(`${B}/requests.json`).type('form').send(form({ api_key: apiKey, service_code: 'CHUA-PHAN-LOAI' }));
      expect(res.status, res.text).to.equal(201);
      const id = res.body[0].service_request_id;
      expect((await h.case(id)).variables).not.to.have.property('field');
      const one = await h.s.http.get(`${B}/requests/${id}.json`);
      expect(one.body[0]).to.include({ service_code: 'CHUA-PHAN-LOAI', service_name: 'Chưa phân loại' });
      const list = await h.s.http.get(`${B}/requests.json?api_key=${apiKey}&service_code=CHUA-PHAN-LOAI`);
      expect(list.body.map((r: any) => r.service_request_id)).to.include(id);
      expect(list.body.every((r: any) => r.service_code === 'CHUA-PHAN-LOAI')).to.equal(true);
    });
  });

  describe('GET requests', () => {
    let land: string;
    let health: string;

    before(async () => {
      land = (await h.s.http.post(`${B}/requests.json`).type('form').send(form({ api_key: apiKey }))).body[0].service_request_id;
      health = (await h.s.http.post(`${B}/requests.json`).type('form').send(form({ api_key: apiKey, service_code: 'Y-TE' }))).body[0].service_request_id;
    });

    it('Given several service codes, comma-separated or repeated, requests of each are listed', async () => {
      for (const query of ['service_code=DAT-DAI,Y-TE', 'service_code=DAT-DAI&service_code=Y-TE']) {
        const res = await h.s.http.get(`${B}/requests.json?api_key=${apiKey}&${query}`);
        expect(res.status, res.text).to.equal(200);
        const ids = res.body.map((r: any) => r.service_request_id);
        expect(ids).to.include.members([land, health]);
        expect(new Set(res.body.map((r: any) => r.service_code))).to.deep.equal(new Set(['DAT-DAI', 'Y-TE']));
      }
    });

    it('Given service_request_id (repeated, or with filters that would exclude it), it overrides every other filter', async () => {
      const res = await h.s.http.get(`${B}/requests.json?service_request_id=${land}&service_request_id=${health}&service_code=GIAO-THONG&status=closed&start_date=2020-01-01T00:00:00Z&end_date=2020-01-02T00:00:00Z`);
      expect(res.status, res.text).to.equal(200);
      expect(res.body.map((r: any) => r.service_request_id).sort()).to.deep.equal([land, health].sort());
      const root = xml(await h.s.http.get(`${B}/requests.xml?service_request_id=${land}`));
      expect(root.children.map((c) => childText(c, 'service_request_id'))).to.deep.equal([land]);
    });

    it('Given dates, only W3C date-times spanning at most 90 days are taken', async () => {
      const start = '2026-10-01T00:00:00+07:00';
      const ok = await h.s.http.get(`${B}/requests.json?api_key=${apiKey}&start_date=${encodeURIComponent(start)}&end_date=${encodeURIComponent('2026-12-30T00:00:00+07:00')}`);
      expect(ok.status, ok.text).to.equal(200);
      expect(ok.body.map((r: any) => r.service_request_id)).to.include(land);
      const tooLong = await h.s.http.get(`${B}/requests.json?api_key=${apiKey}&start_date=2026-01-01T00:00:00Z&end_date=2026-12-01T00:00:00Z`);
      expect(tooLong.status).to.equal(400);
      expect(tooLong.body[0].description).to.match(/90 days/);
      const reversed = await h.s.http.get(`${B}/requests.xml?api_key=${apiKey}&start_date=2026-12-01T00:00:00Z&end_date=2026-11-01T00:00:00Z`);
      expect(errorsOf(xml(reversed))[0]).to.deep.equal({ code: 400, description: 'start_date: must not be after end_date' });
      const american = await h.s.http.get(`${B}/requests.json?api_key=${apiKey}&start_date=12/01/2026`);
      expect(american.status).to.equal(400);
      expect(american.body[0].description).to.match(/^start_date: /);
      const noZone = await h.s.http.get(`${B}/requests.json?api_key=${apiKey}&end_date=2026-12-01T00:00:00`);
      expect(noZone.status).to.equal(400);
    });

    it('Given status open and closed filters, unknown status values are refused', async () => {
      const open = await h.s.http.get(`${B}/requests.json?api_key=${apiKey}&status=open`);
      expect(open.body.every((r: any) => r.status === 'open')).to.equal(true);
      const closed = await h.s.http.get(`${B}/requests.json?api_key=${apiKey}&status=closed`);
      expect(closed.body.every((r: any) => r.status === 'closed')).to.equal(true);
      expect((await h.s.http.get(`${B}/requests.json?api_key=${apiKey}&status=pending`)).status).to.equal(400);
    });

    it('Given a stored case whose variables hold control characters, the public XML list stays well-formed', async () => {
      const kase = await h.intake({ title: 'Đèn đường hỏng', field: 'GIAO-THONG', mediaUrl: 'https://anh.example.vn/\u0001.jpg' });
      const root = xml(await h.s.http.get(`${B}/requests.xml?api_key=${apiKey}`));
      const mine = root.children.find((c) => childText(c, 'service_request_id') === kase.code)!;
      expect(childText(mine, 'media_url')).to.equal('');
      const one = xml(await h.s.http.get(`${B}/requests/${kase.code}.xml`));
      expect(one.children).to.have.length(1);
    });

    it('Given a token, its request id is the token', async () => {
      const root = xml(await h.s.http.get(`${B}/tokens/${land}.xml`));
      expect([childText(root.children[0], 'service_request_id'), childText(root.children[0], 'token')]).to.deep.equal([land, land]);
      expect((await h.s.http.get(`${B}/tokens/PA0000-NONE.json`)).body).to.deep.equal([{ code: 404, description: 'token PA0000-NONE not found' }]);
    });
  });

  describe('Errors on every Open311 path', () => {
    it('Given an unmatched path, a bad format or a method a path does not take, the answer is the GeoReport error list in the path’s format', async () => {
      const nothing = await h.s.http.get(`${B}/nothing.xml`);
      expect(nothing.status).to.equal(404);
      expect(errorsOf(xml(nothing))[0].code).to.equal(404);
      const csv = await h.s.http.get(`${B}/services.csv`);
      expect(csv.status).to.equal(404);
      expect(csv.body[0].code).to.equal(404);
      const del = await h.s.http.delete(`${B}/services.xml`);
      expect(del.status).to.equal(405);
      expect(del.headers.allow).to.contain('GET');
      expect(errorsOf(xml(del))[0].description).to.match(/DELETE is not allowed/);
    });

    it('Given a failure on our side, the 500 is a GeoReport error too', async () => {
      const catalogue = Object.create(h.s.catalogue);
      catalogue.list = () => {
        throw new Error('catalogue unavailable');
      };
      const broken = supertest(createApp({ ...h.s, catalogue }).callback());
      const res = await broken.get(`${B}/services.xml`);
      expect(res.status).to.equal(500);
      const [error] = errorsOf(xml(res));
      expect(error.code).to.equal(500);
      expect(error.description).to.match(/quote request id/);
    });
  });
});

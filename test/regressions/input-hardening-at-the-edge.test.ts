import { expect } from 'chai';
import { MAX_JSON_DEPTH, MAX_PATH_PARAM_LENGTH } from '../../api/http.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Issue 15: JSON nested ~6,000 deep answered 500 (3,000 deep was stored and
 * then broke the case), lone UTF-16 surrogates and NUL in path parameters
 * answered 500, and text typed decomposed (NFD, from some phones) was not
 * found by searches typed composed (NFC). Now every string of the body, path
 * and query is checked and normalised to NFC at the edge (api/http.ts).
 */
describe('Regression: bad input is refused at the edge with 400 naming the field or limit, and text is normalised to NFC', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  const nested = (depth: number) => '{"variables":{"title":"Sâu","field":"GIAO-THONG","x":' + '['.repeat(depth) + ']'.repeat(depth) + '}}';
  const post = (raw: string) => h.s.http.post('/v1/cases').set(h.keys.operator).set('Content-Type', 'application/json').send(raw);

  it(`Given intake bodies nested 3,000 and 6,000 deep, when posted, then each answers 400 naming the limit of ${MAX_JSON_DEPTH} levels and no case is opened`, async () => {
    const before = (await h.s.http.get('/v1/cases').set(h.keys.operator)).body.items.length;
    for (const depth of [MAX_JSON_DEPTH + 1, 3_000, 6_000]) {
      const res = await post(nested(depth));
      expect(res.status, `${depth}: ${JSON.stringify(res.body).slice(0, 300)}`).to.equal(400);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(res.body.detail).to.include(`limit of ${MAX_JSON_DEPTH} levels`);
    }
    expect((await h.s.http.get('/v1/cases').set(h.keys.operator)).body.items.length).to.equal(before);
  });

  it('Given a lone UTF-16 surrogate in a body string, or a body key, when sent, then each answers 400 naming the field', async () => {
    const body = await post('{"variables":{"title":"Đèn \\ud800 hỏng","field":"GIAO-THONG"}}');
    expect(body.status, JSON.stringify(body.body)).to.equal(400);
    expect(body.body.errors).to.deep.equal([{ path: '/variables/title', message: 'must be well-formed Unicode (no lone surrogate)' }]);
    const key = await post('{"variables":{"title":"Đèn hỏng","field":"GIAO-THONG","a\\udc00":1}}');
    expect(key.status).to.equal(400);
    expect(key.body.errors[0].path).to.equal('/variables/a\udc00');
    const query = await h.s.http.get('/v1/cases').query({ q: 'đèn \ud800' }).set(h.keys.operator);
    // A lone surrogate cannot travel as UTF-8 in a URL: the client's encoder turns it into U+FFFD, which is valid text.
    expect(query.status).to.equal(200);
  });

  it(`Given a NUL or a parameter longer than ${MAX_PATH_PARAM_LENGTH} characters in a path, when requested, then it answers 400 naming the parameter`, async () => {
    const nul = await h.s.http.get('/v1/cases/PA2611%00X').set(h.keys.operator);
    expect(nul.status, JSON.stringify(nul.body)).to.equal(400);
    expect(nul.body.errors).to.deep.equal([{ path: 'code', message: 'must not contain U+0000' }]);
    const task = await h.s.http.post('/v1/tasks/1%00/complete').set(h.keys.operator).send({});
    expect(task.status, JSON.stringify(task.body)).to.equal(400);
    expect(task.body.detail).to.include('path parameter');
    const long = await h.s.http.get(`/v1/cases/${'A'.repeat(MAX_PATH_PARAM_LENGTH + 1)}`).set(h.keys.operator);
    expect(long.status).to.equal(400);
    expect(long.body.detail).to.include(`The path parameter code is longer than the limit of ${MAX_PATH_PARAM_LENGTH} characters`);
  });

  it('Given a title typed in NFD (decomposed, as some phones send it), when the case is opened, then it is stored in NFC and a search typed in NFC finds it', async () => {
    const title = 'Cống thoát nước bị tắc ở ngõ Huỳnh Thúc Kháng';
    const nfd = title.normalize('NFD');
    expect(nfd).not.to.equal(title);
    const kase = await h.intake({ title: nfd, field: 'MOI-TRUONG', channel: 'call', citizenPhone: '0912345678' });
    expect((await h.case(kase.code)).variables.title).to.equal(title);
    const res = await h.s.http.get('/v1/cases').query({ q: 'Huỳnh Thúc Kháng' }).set(h.keys.operator);
    expect(res.status).to.equal(200);
    expect(res.body.items.map((c: any) => c.code)).to.include(kase.code);
    // …and the other way round: a search typed in NFD finds the NFC text.
    const nfdSearch = await h.s.http.get('/v1/cases').query({ q: 'Cống thoát'.normalize('NFD') }).set(h.keys.operator);
    expect(nfdSearch.body.items.map((c: any) => c.code)).to.include(kase.code);
  });
});

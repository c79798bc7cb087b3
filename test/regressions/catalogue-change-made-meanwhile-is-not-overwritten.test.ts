import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the catalogue (2026-12-08): two analysts who read the same entry and each saved a change
 * overwrote each other silently (no ETag, If-Match ignored). A GET of one entry now gives its ETag; a PUT with
 * If-Match is refused with 412 when the entry changed since, and writes nothing. A PUT without If-Match still works.
 */
describe('Regression: a catalogue change made meanwhile is not overwritten by a PUT with If-Match', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given two analysts who read SYT, when both save with If-Match, then the first is kept and the second gets 412; If-Match * on a new code is 412', async () => {
    const a = await h.s.as('analyst', 'SNV', 'Chuyên viên A');
    const b = await h.s.as('analyst', 'SNV', 'Chuyên viên B');
    const read = await h.s.http.get('/v1/catalogue/agencies/SYT').set(a);
    const tag = read.headers.etag;
    expect(tag).to.match(/^"[0-9a-f]{20}"$/);
    const { code: _code, ...entry } = read.body;
    const first = await h.s.http.put('/v1/catalogue/agencies/SYT').set(a).set('If-Match', tag).send({ ...entry, nameEn: 'Department of Health (A)' });
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    expect(first.headers.etag).to.match(/^"[0-9a-f]{20}"$/).and.not.equal(tag);
    const second = await h.s.http.put('/v1/catalogue/agencies/SYT').set(b).set('If-Match', tag).send({ ...entry, nameEn: 'Department of Health (B)' });
    expect(second.status, JSON.stringify(second.body)).to.equal(412);
    expect(second.headers['content-type']).to.match(/^application\/problem\+json/);
    expect((await h.s.http.get('/v1/catalogue/agencies/SYT').set(a)).body.nameEn).to.equal('Department of Health (A)');
    const again = await h.s.http.put('/v1/catalogue/agencies/SYT').set(b).set('If-Match', first.headers.etag).send({ ...entry, nameEn: 'Department of Health (B)' });
    expect(again.status, JSON.stringify(again.body)).to.equal(200);
    const created = await h.s.http.put('/v1/catalogue/agencies/CQ-MOI').set(a).set('If-Match', '*').send({ name: 'Cơ quan mới', nameEn: 'New agency', kind: 'department', level: 1, validFrom: '2026-01-01', validTo: null });
    expect(created.status).to.equal(412);
    const plain = await h.s.http.put('/v1/catalogue/agencies/CQ-MOI').set(a).send({ name: 'Cơ quan mới', nameEn: 'New agency', kind: 'department', level: 1, validFrom: '2026-01-01', validTo: null });
    expect(plain.status, JSON.stringify(plain.body)).to.equal(201);
  });
});

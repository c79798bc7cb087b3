import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the catalogue (2026-12-08): PUT /v1/catalogue/… stored a unit whose formerUnits named no
 * unit ("NOPE"), a blank name ("   "), a successor retired before the entry ended (STTTT) or starting months
 * later, and a successor chain that loops (A → B → A). The catalogue README says formerUnits name units, and the
 * heir is in force from the day after validTo. Each is now 422 naming the field, and nothing is stored.
 */
describe('Regression: a catalogue entry’s references are checked in full', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given bad formerUnits, a blank name, an heir not in force the day after, or a loop, when put, then 422 names the field and nothing is stored', async () => {
    const admin = await h.s.as('admin');
    const put = (kind: string, code: string, body: Record<string, unknown>) => h.s.http.put(`/v1/catalogue/${kind}/${code}`).set(admin).send(body);
    const unit = { name: 'Xã Thử', nameEn: 'Thu Commune', kind: 'commune', parent: null, validFrom: '2025-07-01', validTo: null, formerUnits: [] };
    const refused = async (res: { status: number; body: any }, path: string) => {
      expect(res.status, JSON.stringify(res.body)).to.equal(422);
      expect(res.body.errors.map((e: { path: string }) => e.path)).to.include(path);
    };
    await refused(await put('units', 'X-THU', { ...unit, formerUnits: ['NOPE'] }), '/formerUnits/0');
    await refused(await put('units', 'X-THU', { ...unit, name: '   ' }), '/name');
    const agency = { name: 'Cơ quan thử', nameEn: 'Test agency', kind: 'department', level: 1, validFrom: '2020-01-01' };
    await refused(await put('agencies', 'CQ-THU', { ...agency, validTo: '2026-06-30', successor: 'STTTT' }), '/successor');
    expect((await put('agencies', 'CQ-A', { ...agency, validTo: null })).status).to.equal(201);
    expect((await put('agencies', 'CQ-B', { ...agency, validTo: '2026-06-30', successor: 'CQ-A' })).status).to.equal(201);
    await refused(await put('agencies', 'CQ-A', { ...agency, validTo: '2026-06-30', successor: 'CQ-B' }), '/successor');
    expect((await h.s.http.get('/v1/catalogue/units/X-THU').set(admin)).status).to.equal(404);
    expect((await h.s.http.get('/v1/catalogue/agencies/CQ-THU').set(admin)).status).to.equal(404);
    expect((await h.s.http.get('/v1/catalogue/agencies/CQ-A').set(admin)).body.validTo).to.equal(null);
  });
});

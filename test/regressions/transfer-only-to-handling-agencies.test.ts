import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline, type Key } from '../helpers/scenario.js';

/**
 * Issue 15: an agency could transfer a task to the hotline's own code or to the
 * coordinator's office, which answer no complaints (catalogue level null).
 */
describe('Regression: a transfer goes only to an agency that handles complaints', () => {
  let t: TestDb;
  let h: Hotline;
  let clerk: Key;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    clerk = await h.s.as('agency', 'SYT', 'Cán bộ Sở Y tế');
  });
  after(() => t.close());

  for (const [code, what] of [
    ['TONG-DAI-1022', 'the hotline itself'],
    ['VP-UBND', 'the coordinator'],
  ]) {
    it(`Given a handling step at SYT, when the clerk transfers it to ${code} (${what}), then 422 names /toAgency and the case is unchanged`, async () => {
      const kase = await h.intake({ title: 'Nhà thuốc bán thuốc hết hạn', field: 'Y-TE' });
      const before = await h.case(kase.code);
      const res = await h.s.http.post(`/v1/tasks/${kase.tasks[0].id}/transfer`).set(clerk).send({ toAgency: code, reason: 'Thử chuyển sai nơi' });
      expect(res.status).to.equal(422);
      expect(res.body.errors).to.deep.include({ path: '/toAgency', message: `"${code}" does not handle complaints: transfer to a department or a local focal point (catalogue level 1 or 2)` });
      const after = await h.case(kase.code);
      expect(after.version).to.equal(before.version);
      expect(after.tasks.map((x: any) => x.id)).to.deep.equal(before.tasks.map((x: any) => x.id));
    });
  }

  it('Given a transfer to a level-1 department, then it goes through', async () => {
    const kase = await h.intake({ title: 'Cơ sở sản xuất xả thải', field: 'Y-TE' });
    const res = await h.s.http.post(`/v1/tasks/${kase.tasks[0].id}/transfer`).set(clerk).send({ toAgency: 'SNNMT', reason: 'Thuộc lĩnh vực môi trường' });
    expect(res.status).to.equal(200);
    expect(res.body.nextTasks[0].candidateGroups).to.deep.equal(['SNNMT']);
  });
});

import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the agency guide (2026-12-08): the inbox's ?q= needed the diacritics (`q=ranh gioi` found
 * nothing for "Tranh chấp ranh giới") while the case search ignores them (`GET /v1/cases?q=lan chiem`). The
 * inbox now matches the task's name, or the case's title and description folded as the case search folds them.
 */
describe('Regression: the inbox text filter ignores diacritics and case, as the case search does', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given an agency task for "Tranh chấp ranh giới", when its inbox is filtered by words without diacritics, then the task is found, by the agency and by a reader of every inbox', async () => {
    const { code } = await h.intake({ title: 'Tranh chấp ranh giới đất', description: 'Hàng xóm lấn chiếm lối đi chung.', field: 'DAT-DAI' });
    await h.intake({ title: 'Ô nhiễm tiếng ồn', field: 'DAT-DAI' });
    const agency = await h.agency('SNNMT');
    for (const key of [agency, h.keys.auditor]) {
      for (const q of ['ranh gioi', 'RANH GIỚI', 'lan chiem', 'Xử lý']) {
        const res = await h.s.http.get(`/v1/tasks?q=${encodeURIComponent(q)}`).set(key);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        const codes = res.body.items.map((i: { caseCode: string }) => i.caseCode);
        if (q === 'Xử lý') expect(codes, q).to.include(code); // the task's own name still matches
        else expect(codes, q).to.deep.equal([code]);
      }
    }
  });
});

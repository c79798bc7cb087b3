import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the agency guide (2026-12-08): a comment's attachment with the URL `javascript:alert(1)`
 * was accepted (201) — it is a valid absolute URI — and is handed to every reader of the case, whose system may
 * show it as a link. An attachment's URL must now be an http(s) address, as Open311's media_url already was.
 */
describe('Regression: an attachment URL must be an http(s) address', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given an agency task, when a comment carries a javascript:, data: or file: link, then it answers 400 naming the URL and nothing is recorded; an https link is kept', async () => {
    const { code } = await h.intake({ title: 'Đất đai lấn chiếm', field: 'DAT-DAI' });
    const task = await h.task(code, 'handle', 'SNNMT');
    const agency = await h.agency('SNNMT');
    const before = await h.case(code);
    for (const url of ['javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'file:///etc/passwd', 'https://example.org/a b.pdf']) {
      const res = await h.s.http.post(`/v1/tasks/${task.id}/comments`).set(agency).send({ text: 'Biên bản kiểm tra', attachments: [{ name: 'bien-ban.pdf', url }] });
      expect(res.status, `${url}: ${JSON.stringify(res.body)}`).to.equal(400);
      expect(res.body.errors).to.deep.include({ path: '/attachments/0/url', message: 'must be an http(s) address (no other scheme, no spaces)' });
    }
    expect((await h.case(code)).version).to.equal(before.version);
    const ok = await h.s.http.post(`/v1/tasks/${task.id}/comments`).set(agency).send({ text: 'Biên bản kiểm tra', attachments: [{ name: 'bien-ban.pdf', url: 'https://snnmt.dongnai.gov.vn/files/bien-ban.pdf' }] });
    expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
  });
});

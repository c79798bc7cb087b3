import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { freshDb, type TestDb } from './helpers/db.js';
import { openPage, servePages } from './helpers/browser.js';
import { Hotline } from './helpers/scenario.js';

describe('Analysts’ modeler page: dry run in a real browser (headless Chromium)', function () {
  this.timeout(120_000);
  let t: TestDb;
  let h: Hotline;
  let pages: Awaited<ReturnType<typeof servePages>>;
  let browser: Browser;
  let base: string;

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    pages = await servePages(h.s);
    ({ base, browser } = pages);
    // One finished land case to replay.
    const kase = await h.intake({ title: 'Tranh chấp lối đi chung', field: 'DAT-DAI', citizenPhone: '0911000222', channel: 'call' });
    await h.act(kase.code, 'handle', 'SNNMT', { outcome: 'answer', answer: 'Đã hòa giải tại cơ sở.' });
    await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve', publish: false });
    await h.message(kase.code, 'citizen-rating', { satisfied: true });
  });
  after(async () => {
    await pages?.close();
    await t?.close();
  });

  it('Given an edit that hands the handling step to another agency, when the analyst runs a dry run, then the page lists the case that would go elsewhere and marks the step; nothing is deployed', async () => {
    const analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
    const page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization);
    await page.evaluate(() => {
      const modeler = (window as any).paknModeler;
      modeler.get('modeling').updateProperties(modeler.get('elementRegistry').get('handle'), { 'camunda:candidateGroups': 'SXD' });
    });
    await page.click('#dryrun');
    await page.waitForSelector('body[data-dry-run="1"]');
    expect(await page.locator('#dryrun-summary').innerText()).to.equal('Đã chạy lại 1 hồ sơ: 0 đi đúng đường cũ, 1 đi khác, 0 bị lỗi.');
    const item = await page.locator('#dryrun-cases li.diverged').innerText();
    expect(item).to.contain('trước: «Xử lý, trả lời phản ánh» (handle) — giao SNNMT').and.contain('nay: «Xử lý, trả lời phản ánh» (handle) — giao SXD');
    expect(await page.locator('[data-element-id="handle"].diverges').count()).to.equal(1);
    expect(Number((await t.db('definitions').where({ key: 'complaint-handling' }).count('* as n').first())!.n)).to.equal(1);
    await page.close();
  });
});

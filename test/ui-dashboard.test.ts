import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { openPage, servePages } from './helpers/browser.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline } from './helpers/scenario.js';

describe('Saturday-review dashboard in a real browser (headless Chromium)', function () {
  this.timeout(120_000);
  let t: TestDb;
  let h: Hotline;
  let pages: Awaited<ReturnType<typeof servePages>>;
  let browser: Browser;
  let base: string;

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    const fields = ['DAT-DAI', 'XAY-DUNG', 'Y-TE', 'DAT-DAI', 'GIAO-DUC', 'DAT-DAI', 'MOI-TRUONG', 'XAY-DUNG'];
    for (const [i, field] of fields.entries()) {
      const kase = await h.intake({ title: `Phản ánh minh họa ${i + 1}`, field, procedure: field === 'DAT-DAI' ? 'DD-CAP-GCN-LAN-DAU' : undefined });
      const agency = kase.variables.agency as string;
      if (i % 3 === 0) {
        await h.act(kase.code, 'handle', agency, { outcome: 'answer', answer: 'Đã giải quyết dứt điểm.' });
        await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve' });
      } else if (i % 3 === 1) {
        await h.act(kase.code, 'handle', agency, { outcome: 'notCompetent', returnReason: 'Không thuộc thẩm quyền' }); // escalated
      }
    }
    pages = await servePages(h.s);
    ({ base, browser } = pages);
  });
  after(async () => {
    await pages?.close();
    await t?.close();
  });

  it('Given a coordinator opens the dashboard, then the week’s totals, charts, escalated cases and top procedures are shown', async () => {
    const page = await openPage(browser, `${base}/ui/dashboard`, h.keys.coordinator.Authorization, { width: 1600, height: 1100 });
    const tiles = await page.locator('#totals .tile').allInnerTexts();
    expect(tiles[0]).to.match(/^8\s*Tiếp nhận/);
    expect(tiles.find((x) => x.includes('Chuyển VP UBND tỉnh'))).to.match(/^3/);
    for (const id of ['byDay', 'onTime', 'topFields']) {
      const drawn = await page.evaluate((cid) => {
        const c = document.getElementById(cid) as HTMLCanvasElement;
        return c.width > 0 && c.toDataURL().length > 1000;
      }, id);
      expect(drawn, `${id} chart drawn`).to.equal(true);
    }
    expect(await page.locator('#attention tbody tr').count()).to.equal(3);
    expect(await page.locator('#procedures tbody tr').first().innerText()).to.contain('3');
    await page.close();
  });
});

import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { openPage, hotlineInBrowser } from './helpers/browser.js';
import { Hotline } from './helpers/scenario.js';

describe('Saturday-review dashboard in a real browser (headless Chromium)', function () {
  this.timeout(120_000);
  let h: Hotline;
  let close = async () => {};
  let browser: Browser;
  let base: string;

  before(async () => {
    ({ h, base, browser, close } = await hotlineInBrowser());
    await h.sampleWeek();
  });
  after(() => close());

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

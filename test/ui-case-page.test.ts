import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { openPage, hotlineInBrowser } from './helpers/browser.js';
import { Hotline } from './helpers/scenario.js';

describe('Case page in a real browser (headless Chromium)', function () {
  this.timeout(90_000);
  let h: Hotline;
  let close = async () => {};
  let browser: Browser;
  let base: string;
  let code: string;

  before(async () => {
    ({ h, base, browser, close } = await hotlineInBrowser());
    const kase = await h.intake({ title: 'Xe tải chở cát làm hỏng đường', field: 'GIAO-THONG', citizenName: 'Đỗ Văn Hùng', citizenPhone: '0977000111' });
    code = kase.code;
    await h.act(code, 'handle', 'SXD', { outcome: 'transfer', toAgency: 'CONG-AN', transferReason: 'Xử lý vi phạm tải trọng' });
    await h.act(code, 'handle', 'CONG-AN', { outcome: 'transfer', toAgency: 'SXD', transferReason: 'Sửa chữa mặt đường' });
  });
  after(() => close());

  it('Given an auditor opens the case page, then the diagram shows the path taken with loop counts and the waiting step, and the timeline lists the transfers', async () => {
    const key = h.keys.auditor.Authorization.slice('Bearer '.length);
    const page = await openPage(browser, `${base}/ui/cases/${code}`, h.keys.auditor.Authorization, { width: 1600, height: 900 });
    expect(page.url()).not.to.contain(key); // the key left the address bar
    expect(await page.locator('h1').innerText()).to.contain(code);
    // handle was entered three times; it waits now, for SXD.
    expect(await page.locator('[data-element-id="handle"].visited').count()).to.equal(1);
    expect(await page.locator('[data-element-id="handle"].active').count()).to.equal(1);
    expect(await page.locator('.djs-overlays[data-container-id="handle"] .visit-count').innerText()).to.equal('×3');
    expect(await page.locator('[data-element-id="route"].visited').count()).to.equal(1);
    expect(await page.locator('[data-element-id="review"].visited').count()).to.equal(0);
    const timeline = await page.locator('#timeline li').allInnerTexts();
    expect(timeline.some((l) => l.includes('→ CONG-AN'))).to.equal(true);
    expect(timeline.some((l) => l.includes('→ SXD'))).to.equal(true);
    expect(timeline.join('\n')).not.to.contain('0977000111');
    await page.close();
  });

  it('Given no key, the page asks for one; given an agency that never held the case, it says the case does not exist', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/ui/cases/${code}`);
    await page.waitForSelector('#login:not([hidden])');
    await page.fill('#key', (await h.agency('SYT')).Authorization.slice('Bearer '.length));
    await page.click('#login button');
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.locator('#error').innerText()).to.match(/does not exist/);
    await page.close();
  });
});

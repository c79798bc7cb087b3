import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { hotlineInBrowser } from './helpers/browser.js';
import { Hotline } from './helpers/scenario.js';

describe('Front page / in a real browser (headless Chromium)', function () {
  this.timeout(120_000);
  let h: Hotline;
  let close = async () => {};
  let browser: Browser;
  let base: string;

  before(async () => {
    ({ h, base, browser, close } = await hotlineInBrowser());
  });
  after(() => close());

  it('Given a newcomer opens /, then a Vietnamese page links the dashboard, the modeler and the API reference, each of which answers', async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${base}/`);
    expect(res!.status()).to.equal(200);
    expect(await page.locator('html').getAttribute('lang')).to.equal('vi');
    expect(await page.title()).to.contain('Tổng đài dịch vụ công 1022');
    const links = await page.locator('a').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).getAttribute('href')));
    expect(links).to.include.members(['/ui/dashboard', '/ui/modeler', '/docs']);
    for (const href of ['/ui/dashboard', '/ui/modeler', '/docs', '/openapi.json']) {
      expect((await h.s.http.get(href)).status, href).to.equal(200);
    }
    await page.close();
  });

  it('Given a citizen with a case code and phone, when they look it up on the front page, then the status, agency and deadline are shown; a wrong phone says it was not found', async () => {
    const kase = await h.intake({ title: 'Rác thải ùn ứ', field: 'MOI-TRUONG', citizenPhone: '0912 345 678', citizenName: 'Lê Văn Cường' });
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.fill('#public-code', kase.code);
    await page.fill('#public-phone', '5678');
    await page.click('#public-lookup button');
    await page.waitForSelector('#public-result:not([hidden])');
    const shown = await page.locator('#public-result').innerText();
    expect(shown).to.contain(kase.code);
    expect(shown).to.match(/Tiếp nhận ngày \d{2}\/\d{2}\/\d{4}/);
    expect(shown).to.contain('hạn trả lời');
    await page.fill('#public-phone', '0000');
    await page.click('#public-lookup button');
    await page.waitForFunction(() => document.getElementById('public-result')!.classList.contains('error'));
    expect(await page.locator('#public-result').innerText()).to.contain('Không tìm thấy');
    await page.close();
  });

  it('Given staff with a case code, when they open it from the front page, then the case page of that code opens', async () => {
    const kase = await h.intake({ title: 'Đường ngập nước', field: 'GIAO-THONG' });
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.fill('#staff-code', kase.code);
    await page.click('#staff-lookup button');
    await page.waitForURL(`${base}/ui/cases/${kase.code}`);
    await page.close();
  });
});

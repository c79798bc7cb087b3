import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { hotlineInBrowser, openPage } from '../helpers/browser.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the pages (2026-12-08): the case page's timeline showed raw event types
 * ("variables.changed") and raw role names ("→ operator", "→ coordinator") to officials who read Vietnamese.
 * Every event a case records now has a Vietnamese label, and the task roles are named in words.
 */
describe('Regression: the case page’s timeline speaks Vietnamese', function () {
  this.timeout(120_000);
  let h: Hotline;
  let browser: Browser;
  let base: string;
  let close = async () => {};
  before(async () => {
    ({ h, base, browser, close } = await hotlineInBrowser());
  });
  after(() => close());

  it('Given a case classified by the operator and routed, when the case page opens, then no line shows an event type or a role code', async () => {
    const { code } = await h.intake({ title: 'Đèn đường hỏng' });
    const classify = await h.task(code, 'classify', 'operator');
    await h.complete(classify.id, h.keys.operator, { field: 'GIAO-THONG' });
    const page = await openPage(browser, `${base}/ui/cases/${code}`, h.keys.auditor.Authorization);
    const lines = await page.locator('#timeline li').allInnerTexts();
    expect(lines.length).to.be.greaterThan(2);
    const text = lines.join('\n');
    expect(text).to.include('tổng đài viên');
    expect(text).to.include('Cập nhật thông tin hồ sơ');
    expect(text, text).to.not.match(/\b(variables|task|case|activity|sms|job|timer|message)\.[a-z-]+\b/);
    expect(text, text).to.not.match(/→ (operator|coordinator|reviewer)\b/);
    await page.close();
  });
});

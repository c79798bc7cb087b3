import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { hotlineInBrowser } from '../helpers/browser.js';

/**
 * A black-box check of the pages (2026-12-08): the front page's case-code fields had pattern="[A-Za-z0-9-]{4,40}",
 * which Chromium now compiles with the v flag, where a trailing "-" in a class must be escaped: every keystroke
 * logged "Pattern attribute value … is not a valid regular expression" and the format check was skipped.
 */
describe('Regression: the front page checks a case code’s format without console errors', function () {
  this.timeout(120_000);
  let browser: Browser;
  let base: string;
  let close = async () => {};
  before(async () => {
    ({ base, browser, close } = await hotlineInBrowser());
  });
  after(() => close());

  it('Given the front page, when codes are typed, then a well-formed one is valid, one with a space is not, and nothing is logged', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
    });
    await page.goto(`${base}/`);
    for (const id of ['#public-code', '#staff-code']) {
      await page.fill(id, 'PA2611-7K3QX');
      expect(await page.$eval(id, (el) => (el as HTMLInputElement).validity.valid), id).to.equal(true);
      await page.fill(id, 'PA 2611');
      expect(await page.$eval(id, (el) => (el as HTMLInputElement).validity.patternMismatch), id).to.equal(true);
    }
    expect(errors).to.deep.equal([]);
    await page.close();
  });
});

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { hotlineInBrowser, openPage } from '../helpers/browser.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the pages (2026-12-08): the dashboard's "Tải CSV" was a plain link to
 * /v1/reports/weekly?format=csv, which a browser follows without the key (it lives in the page, from the
 * #key= fragment, never in a URL): the coordinator got a 401 problem instead of the file. The page now fetches
 * the file with the key and saves it as sent (its BOM included, for Excel).
 */
describe('Regression: the dashboard downloads the weekly CSV with the key', function () {
  this.timeout(120_000);
  let h: Hotline;
  let browser: Browser;
  let base: string;
  let close = async () => {};
  before(async () => {
    ({ h, base, browser, close } = await hotlineInBrowser());
    await h.sampleWeek();
  });
  after(() => close());

  it('Given a coordinator on the dashboard, when they click Tải CSV, then the weekly report is saved as CSV with a BOM and Vietnamese headers', async () => {
    const page = await openPage(browser, `${base}/ui/dashboard`, h.keys.coordinator.Authorization);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
    const bytes = readFileSync((await download.path())!);
    expect([...bytes.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8');
    expect(text).to.not.include('unauthorized');
    expect(download.suggestedFilename()).to.match(/\.csv$/);
    expect(text.split('\n').length).to.be.greaterThan(2);
    expect(text).to.match(/Tiếp nhận|Cơ quan/);
    await page.close();
  });
});

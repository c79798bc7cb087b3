import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { openPage, hotlineInBrowser } from './helpers/browser.js';
import type { Hotline, Key } from './helpers/scenario.js';

describe('Catalogue page in a real browser (headless Chromium): an analyst edits an agency and a year’s holidays', function () {
  this.timeout(180_000);
  let h: Hotline;
  let close = async () => {};
  let browser: Browser;
  let base: string;
  let analyst: Key;

  before(async () => {
    ({ h, base, browser, close } = await hotlineInBrowser());
    analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
  });
  after(() => close());

  it('Given an analyst renames Sở Y tế in the page, then the API serves the new name and the page lists it', async () => {
    const page = await openPage(browser, `${base}/ui/catalogue`, analyst.Authorization);
    await page.fill('#filter', 'SYT');
    await page.locator('#agencies tr[data-code="SYT"] button').click();
    await page.fill('#agency-form input[name="name"]', 'Sở Y tế tỉnh Đồng Nai');
    await page.click('#agency-form button[type="submit"]');
    await page.waitForSelector('#saved:not([hidden])');
    expect(await page.locator('#saved').innerText()).to.contain('Đã lưu cơ quan SYT');
    const entry = await h.s.http.get('/v1/catalogue/agencies/SYT').set(h.keys.operator);
    expect(entry.body.name).to.equal('Sở Y tế tỉnh Đồng Nai');
    expect(await page.locator('#agencies tr[data-code="SYT"]').innerText()).to.contain('Sở Y tế tỉnh Đồng Nai');
    await page.close();
  });

  it('Given 2028 has no holidays, when the analyst opens it, adds a day off with a mistake and then fixes it, then the problem is shown in Vietnamese and the year is stored', async () => {
    const page = await openPage(browser, `${base}/ui/catalogue?year=2028`, analyst.Authorization);
    expect(await page.locator('#calendar-state').innerText()).to.contain('chưa có lịch nghỉ');
    await page.click('#add-holiday');
    await page.locator('#holidays tbody tr').last().locator('.day-date').fill('2027-12-31');
    await page.locator('#holidays tbody tr').last().locator('.day-name').fill('Tết Dương lịch');
    await page.click('#calendar-form button[type="submit"]');
    await page.waitForSelector('#calendar-problems li');
    expect(await page.locator('#calendar-problems').innerText()).to.contain('Ngày nghỉ, dòng 1, ngày: 2027-12-31 không thuộc năm 2028');
    await page.locator('#holidays tbody tr').last().locator('.day-date').fill('2028-01-03');
    await page.click('#calendar-form button[type="submit"]');
    await page.waitForSelector('#saved:not([hidden])');
    expect(await page.locator('#calendar-state').innerText()).to.contain('Năm 2028: 1 ngày nghỉ');
    const year = await h.s.http.get('/v1/catalogue/calendar?year=2028').set(h.keys.operator);
    expect(year.body).to.include({ covered: true, updatedBy: analyst.id });
    expect(year.body.holidays).to.deep.equal([{ date: '2028-01-03', name: 'Tết Dương lịch' }]);
    await page.close();
  });
});

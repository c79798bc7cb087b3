import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { openPage, hotlineInBrowser } from './helpers/browser.js';
import type { Hotline, Key } from './helpers/scenario.js';

describe('Catalogue page in a real browser (headless Chromium): an analyst edits and adds catalogue entries of every kind and a year’s holidays', function () {
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
    await page.locator('#entries tr[data-code="SYT"] button').click();
    await page.fill('#entry-form input[name="name"]', 'Sở Y tế tỉnh Đồng Nai');
    await page.click('#entry-form button[type="submit"]');
    await page.waitForSelector('#saved:not([hidden])');
    expect(await page.locator('#saved').innerText()).to.contain('Đã lưu cơ quan SYT');
    const entry = await h.s.http.get('/v1/catalogue/agencies/SYT').set(h.keys.operator);
    expect(entry.body.name).to.equal('Sở Y tế tỉnh Đồng Nai');
    expect(await page.locator('#entries tr[data-code="SYT"]').innerText()).to.contain('Sở Y tế tỉnh Đồng Nai');
    await page.close();
  });

  it('Given an analyst adds a field (lĩnh vực) with a default agency, typing an English name with diacritics first, then the problem shows next to the field in Vietnamese and the API serves the new field', async () => {
    const page = await openPage(browser, `${base}/ui/catalogue`, analyst.Authorization);
    await page.selectOption('#kind', 'fields');
    expect(await page.locator('#entries thead').innerText()).to.contain('Cơ quan mặc định');
    expect(await page.locator('#entries tr[data-code="DAT-DAI"]').innerText()).to.contain('STNMT');
    await page.click('#entry-add');
    expect(await page.locator('#entry-title').innerText()).to.contain('Thêm mới — Lĩnh vực');
    await page.fill('#entry-form input[name="code"]', 'CHUYEN-DOI-SO');
    await page.fill('#entry-form input[name="name"]', 'Chuyển đổi số');
    await page.fill('#entry-form input[name="nameEn"]', 'Chuyển đổi số');
    await page.selectOption('#entry-form select[name="defaultAgency"]', 'SKHCN');
    await page.fill('#entry-form input[name="validFrom"]', '2026-12-01');
    await page.click('#entry-form button[type="submit"]');
    await page.waitForSelector('#entry-problems li');
    expect(await page.locator('#entry-problems').innerText()).to.contain('Tên tiếng Anh: chỉ dùng chữ không dấu (ASCII)');
    expect(await page.locator('#entry-form [data-field="nameEn"] .field-problem').innerText()).to.equal('chỉ dùng chữ không dấu (ASCII)');
    const refused = await h.s.http.get('/v1/catalogue/fields/CHUYEN-DOI-SO').set(h.keys.operator);
    expect(refused.status, 'a refused entry is not stored').to.equal(404);

    await page.fill('#entry-form input[name="nameEn"]', 'Digital transformation');
    await page.click('#entry-form button[type="submit"]');
    await page.waitForSelector('#saved:not([hidden])');
    expect(await page.locator('#saved').innerText()).to.contain('Đã thêm lĩnh vực CHUYEN-DOI-SO — Chuyển đổi số');
    const entry = await h.s.http.get('/v1/catalogue/fields/CHUYEN-DOI-SO').set(h.keys.operator);
    expect(entry.status).to.equal(200);
    expect(entry.body).to.deep.equal({ code: 'CHUYEN-DOI-SO', name: 'Chuyển đổi số', nameEn: 'Digital transformation', defaultAgency: 'SKHCN', validFrom: '2026-12-01', validTo: null });
    expect(await page.locator('#entries tr[data-code="CHUYEN-DOI-SO"]').innerText()).to.contain('SKHCN');

    // Adding a code that exists never overwrites it: the page sends nothing and says so.
    await page.click('#entry-add');
    await page.fill('#entry-form input[name="code"]', 'DAT-DAI');
    await page.fill('#entry-form input[name="name"]', 'Đất');
    await page.fill('#entry-form input[name="nameEn"]', 'Land');
    await page.selectOption('#entry-form select[name="defaultAgency"]', 'SXD');
    await page.fill('#entry-form input[name="validFrom"]', '2026-12-01');
    await page.click('#entry-form button[type="submit"]');
    await page.waitForSelector('#entry-problems li');
    expect(await page.locator('#entry-problems').innerText()).to.contain('Mã: đã có trong danh mục');
    const kept = await h.s.http.get('/v1/catalogue/fields/DAT-DAI').set(h.keys.operator);
    expect(kept.body).to.include({ name: 'Đất đai', defaultAgency: 'STNMT' });
    await page.close();
  });

  it('Given an analyst retires the commune Xã Tân An in favour of Xã Phú Lý through the page, then the API serves the unit with its successor and keeps what the form did not change', async () => {
    const page = await openPage(browser, `${base}/ui/catalogue?kind=units`, analyst.Authorization);
    expect(await page.locator('#kind').inputValue()).to.equal('units');
    await page.fill('#filter', 'X-TAN-AN');
    expect(await page.locator('#entries tr[data-code="X-TAN-AN"]').innerText()).to.contain('Xã');
    await page.locator('#entries tr[data-code="X-TAN-AN"] button').click();
    expect(await page.locator('#entry-form select[name="kind"]').inputValue()).to.equal('commune');
    expect(await page.locator('#entry-form input[name="formerUnits"]').inputValue()).to.equal('H-VINH-CUU');
    await page.fill('#entry-form input[name="validTo"]', '2026-12-31');
    await page.selectOption('#entry-form select[name="successor"]', 'X-PHU-LY');
    await page.fill('#entry-form textarea[name="note"]', 'Sáp nhập vào xã Phú Lý từ 01/01/2027.');
    await page.click('#entry-form button[type="submit"]');
    await page.waitForSelector('#saved:not([hidden])');
    expect(await page.locator('#saved').innerText()).to.contain('Đã lưu đơn vị hành chính X-TAN-AN');
    const unit = await h.s.http.get('/v1/catalogue/units/X-TAN-AN').set(h.keys.operator);
    expect(unit.body).to.deep.equal({
      code: 'X-TAN-AN', name: 'Xã Tân An', nameEn: 'Tan An Commune', kind: 'commune', parent: null, formerUnits: ['H-VINH-CUU'],
      successor: 'X-PHU-LY', validFrom: '2025-07-01', validTo: '2026-12-31', note: 'Sáp nhập vào xã Phú Lý từ 01/01/2027.',
    });
    expect(await page.locator('#entries tr[data-code="X-TAN-AN"]').innerText()).to.contain('2026-12-31');
    await page.close();
  });

  it('Given an entry of each kind opened and saved unchanged through the page, then the API serves it exactly as before (the form loses no field); and a procedure’s levels change through its check boxes', async () => {
    const page = await openPage(browser, `${base}/ui/catalogue`, analyst.Authorization);
    const samples: Array<[string, string]> = [
      ['agencies', 'VP-TP-BIEN-HOA'], // local government: level 2 and a (retired) unit
      ['agencies', 'VP-UBND'], // coordinator: level null
      ['units', 'P-DONG-XOAI'], // a ward with no former units (an empty list, required)
      ['units', 'X-PHU-LY'],
      ['fields', 'XAY-DUNG'],
      ['procedures', 'DD-CAP-GCN-LAN-DAU'],
    ];
    for (const [kind, code] of samples) {
      const before = await h.s.http.get(`/v1/catalogue/${kind}/${code}`).set(h.keys.operator);
      expect(before.status).to.equal(200);
      await page.selectOption('#kind', kind);
      await page.fill('#filter', code);
      await page.locator(`#entries tr[data-code="${code}"] button`).click();
      await page.evaluate(() => {
        document.getElementById('saved')!.hidden = true;
      });
      await page.click('#entry-form button[type="submit"]');
      await page.waitForSelector('#saved:not([hidden])');
      const after = await h.s.http.get(`/v1/catalogue/${kind}/${code}`).set(h.keys.operator);
      expect(after.body, `${kind}/${code}`).to.deep.equal(before.body);
    }

    await page.locator('#entries tr[data-code="DD-CAP-GCN-LAN-DAU"] button').click();
    await page.uncheck('#entry-form input[name="implementedAt"][value="commune"]');
    await page.click('#entry-form button[type="submit"]');
    await page.waitForSelector('#entry-form', { state: 'hidden' });
    const procedure = await h.s.http.get('/v1/catalogue/procedures/DD-CAP-GCN-LAN-DAU').set(h.keys.operator);
    expect(procedure.body.implementedAt).to.deep.equal(['province', 'district']);
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

import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { openPage, hotlineInBrowser } from './helpers/browser.js';
import type { Hotline } from './helpers/scenario.js';

describe('Analysts’ form editor page in a real browser (headless Chromium)', function () {
  this.timeout(180_000);
  let h: Hotline;
  let close = async () => {};
  let browser: Browser;
  let base: string;

  before(async () => {
    ({ h, base, browser, close } = await hotlineInBrowser());
  });
  after(() => close());

  it('Given an analyst, when they edit a form, see a mistake in Vietnamese, fix it and deploy, then a new case’s task uses the new version’s form and a running case keeps the old one', async () => {
    const running = await h.intake({ title: 'Cống thoát nước bị tắc', field: 'MOI-TRUONG' });
    const analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
    const page = await openPage(browser, `${base}/ui/forms?process=complaint-handling&form=handle`, analyst.Authorization);
    expect(await page.locator('#form-key').inputValue()).to.equal('handle');
    expect(await page.locator('#preview [data-field="answer"] label').innerText()).to.equal('Nội dung trả lời');
    const original = JSON.parse(await page.locator('#schema').inputValue());

    // A broken edit: the page says what is wrong, in Vietnamese, and will not deploy.
    await page.fill('#schema', '{ "type": "object", "properties": { "answer": { "type": "text" } }, }');
    await page.waitForSelector('body[data-valid="false"]');
    expect(await page.locator('#form-errors li').first().innerText()).to.match(/^Lỗi cú pháp JSON ở dòng 1, cột \d+/);
    expect(await page.locator('#deploy').isDisabled()).to.equal(true);
    await page.fill('#schema', '{ "type": "object", "properties": { "answer": { "type": "text" } } }');
    expect(await page.locator('#form-errors li').first().innerText()).to.equal('Trường "answer": kiểu "text" không hợp lệ (dùng string, number, integer, boolean, array hoặc object).');

    // The edit: a longer minimum answer, and a new label.
    const edited = { ...original, properties: { ...original.properties, answer: { ...original.properties.answer, title: 'Nội dung trả lời chi tiết', minLength: 60 } } };
    await page.fill('#schema', JSON.stringify(edited, null, 2));
    await page.waitForSelector('body[data-valid="true"]');
    expect(await page.locator('#preview [data-field="answer"] label').innerText()).to.equal('Nội dung trả lời chi tiết');
    expect(await page.locator('#preview [data-field="answer"] .hint').innerText()).to.contain('tối thiểu 60 ký tự');
    await page.click('#check');
    await page.waitForFunction(() => document.getElementById('message')!.textContent!.startsWith('Không có lỗi'));

    await page.fill('#comment', 'Trả lời tối thiểu 60 ký tự');
    await page.click('#deploy');
    await page.waitForSelector('body[data-deployed="2"]');
    expect(await page.locator('#version option:checked').innerText()).to.equal('v2 (đang áp dụng) — Trả lời tối thiểu 60 ký tự');
    expect(await page.locator('#message').innerText()).to.contain('Đã triển khai phiên bản v2');
    await page.close();

    // Then: a new case's handling task carries and enforces version 2's form.
    const fresh = await h.intake({ title: 'Đèn tín hiệu giao thông hỏng', field: 'MOI-TRUONG' });
    const task = await h.task(fresh.code, 'handle');
    const agency = await h.agency((await h.case(fresh.code)).variables.agency);
    const detail = await h.s.http.get(`/v1/tasks/${task.id}`).set(agency);
    expect(detail.body.form.properties.answer).to.include({ title: 'Nội dung trả lời chi tiết', minLength: 60 });
    const refused = await h.complete(task.id, agency, { outcome: 'answer', answer: 'Đã sửa xong đèn.' }, 422);
    expect(refused.errors.map((e: any) => e.path)).to.deep.equal(['/answer']);

    // And the case that was already running keeps version 1's form.
    const old = await h.task(running.code, 'handle');
    const oldAgency = await h.agency((await h.case(running.code)).variables.agency);
    expect((await h.s.http.get(`/v1/tasks/${old.id}`).set(oldAgency)).body.form.properties.answer.minLength).to.equal(10);
    await h.complete(old.id, oldAgency, { outcome: 'answer', answer: 'Đã thông cống.' });
  });

  it('Given a key without the analyst role, then the form is shown read-only and cannot be deployed', async () => {
    const auditor = await h.s.as('auditor', null, 'Kiểm tra viên');
    const page = await openPage(browser, `${base}/ui/forms?process=complaint-handling&version=1&form=review`, auditor.Authorization);
    expect(await page.locator('#schema').getAttribute('readonly')).to.not.equal(null);
    expect(await page.locator('#deploy').isVisible()).to.equal(false);
    expect(await page.locator('#preview [data-field="reviewDecision"]').count()).to.equal(1);
    await page.close();
  });
});

import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import type { TestDb } from './helpers/db.js';
import { openPage, hotlineInBrowser } from './helpers/browser.js';
import { Hotline } from './helpers/scenario.js';

describe('Analysts’ modeler page in a real browser (headless Chromium)', function () {
  this.timeout(120_000);
  let t: TestDb;
  let h: Hotline;
  let close = async () => {};
  let browser: Browser;
  let base: string;

  before(async () => {
    ({ t, h, base, browser, close } = await hotlineInBrowser());
  });
  after(() => close());

  it('Given an analyst, when they rename a task, validate and deploy, then the new version is listed, applied, and stored with the new name', async () => {
    const analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
    const page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization);
    expect(await page.locator('#version option').allInnerTexts()).to.deep.equal(['v1 (đang áp dụng) — seed from complaint-handling.bpmn']);

    await page.evaluate(() => {
      const modeler = (window as any).paknModeler;
      const element = modeler.get('elementRegistry').get('review');
      modeler.get('modeling').updateLabel(element, 'Duyệt và ký nội dung trả lời');
    });
    await page.click('#validate');
    await page.waitForFunction(() => document.getElementById('message')!.textContent!.startsWith('Không có lỗi'));
    expect(await page.locator('#problems li.warning').count()).to.be.greaterThan(0);

    await page.fill('#comment', 'Đổi tên bước duyệt');
    await page.click('#deploy');
    await page.waitForSelector('body[data-deployed="2"]');
    expect(await page.locator('#version option').first().innerText()).to.equal('v2 (đang áp dụng) — Đổi tên bước duyệt');
    const stored = await t.db('definitions').where({ key: 'complaint-handling', version: 2 }).first('xml', 'comment');
    expect(stored.xml).to.contain('name="Duyệt và ký nội dung trả lời"');
    expect(stored.comment).to.equal('Đổi tên bước duyệt');

    // Switch back to v1 from the page: a rollback.
    await page.selectOption('#version', '1');
    await page.click('#activate');
    await page.waitForFunction(() => document.getElementById('status')!.textContent === 'phiên bản đang áp dụng: v1');
    expect((await h.s.definitions.latest('complaint-handling')).version).to.equal(1);
    await page.close();
  });

  it('Given a diagram with an error, validation marks the element on the diagram and deploy is refused', async () => {
    const analyst = await h.s.as('analyst', 'SNV');
    const page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization, { width: 1400, height: 900 });
    await page.evaluate(() => {
      const modeler = (window as any).paknModeler;
      const element = modeler.get('elementRegistry').get('handle');
      modeler.get('modeling').updateProperties(element, { 'camunda:formKey': 'khong-co-mau' });
    });
    await page.click('#validate');
    await page.waitForSelector('#problems li.error');
    expect(await page.locator('#problems li.error').first().innerText()).to.contain('[handle]');
    expect(await page.locator('[data-element-id="handle"].has-problem').count()).to.equal(1);
    await page.click('#deploy');
    await page.waitForSelector('#error:not([hidden])');
    expect(await t.db('definitions').where({ key: 'complaint-handling' }).count('* as n').first()).to.deep.equal({ n: 2 });
    await page.close();
  });

  it('Given an edit that hands the handling step to another agency, when the analyst runs a dry run, then the page lists the case that would go elsewhere and marks the step; nothing is deployed', async () => {
    // One finished land case to replay.
    const kase = await h.intake({ title: 'Tranh chấp lối đi chung', field: 'DAT-DAI', citizenPhone: '0911000222', channel: 'call' });
    await h.act(kase.code, 'handle', 'SNNMT', { outcome: 'answer', answer: 'Đã hòa giải tại cơ sở.' });
    await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve', publish: false });
    await h.message(kase.code, 'citizen-rating', { satisfied: true });
    const versions = Number((await t.db('definitions').count('* as n').first())!.n);
    const analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
    const page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization);
    await page.evaluate(() => {
      const modeler = (window as any).paknModeler;
      modeler.get('modeling').updateProperties(modeler.get('elementRegistry').get('handle'), { 'camunda:candidateGroups': 'SXD' });
    });
    await page.click('#dryrun');
    await page.waitForSelector('body[data-dry-run="1"]');
    expect(await page.locator('#dryrun-summary').innerText()).to.equal('Đã chạy lại 1 hồ sơ: 0 đi đúng đường cũ, 1 đi khác, 0 bị lỗi.');
    const item = await page.locator('#dryrun-cases li.diverged').innerText();
    expect(item).to.contain('trước: «Xử lý, trả lời phản ánh» (handle) — giao SNNMT').and.contain('nay: «Xử lý, trả lời phản ánh» (handle) — giao SXD');
    expect(await page.locator('[data-element-id="handle"].diverges').count()).to.equal(1);
    expect(Number((await t.db('definitions').count('* as n').first())!.n)).to.equal(versions);
    await page.close();
  });

  it('Given the routing table, when an analyst changes an agency cell, dry-runs and deploys it staged, then the land cases are shown going elsewhere and the new version waits to be switched on', async () => {
    const kase = await h.intake({ title: 'Tranh chấp đất vườn', field: 'DAT-DAI', citizenPhone: '0911000333', channel: 'call' });
    await h.act(kase.code, 'handle', 'SNNMT', { outcome: 'answer', answer: 'Đã hòa giải thành tại xã.' });
    await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve', publish: false });
    await h.message(kase.code, 'citizen-rating', { satisfied: true });
    const analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
    const page = await openPage(browser, `${base}/ui/modeler?process=routing`, analyst.Authorization);
    expect(await page.locator('#kind').innerText()).to.equal('Bảng quyết định');
    const cell = page.locator('td[data-element-id="r-dat-dai-agency"]');
    expect(await cell.innerText()).to.contain('"SNNMT"');

    await cell.locator('[contenteditable]').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('"SXD"');
    await page.click('#validate');
    await page.waitForFunction(() => document.getElementById('message')!.textContent!.startsWith('Không có lỗi'));
    await page.click('#dryrun');
    await page.waitForSelector('body[data-dry-run]');
    expect(await page.locator('#dryrun-cases li.diverged').first().innerText()).to.contain('agency SNNMT').and.contain('agency SXD');

    await page.check('#staged');
    await page.fill('#comment', 'Đất đai chuyển Sở Xây dựng');
    await page.click('#deploy');
    await page.waitForSelector('body[data-deployed="2"]');
    const stored = await t.db('definitions').where({ key: 'routing', version: 2 }).first('xml', 'comment');
    expect(stored.xml).to.contain('<text>"SXD"</text>');
    expect(stored.comment).to.equal('Đất đai chuyển Sở Xây dựng');
    expect(await page.locator('#status').innerText()).to.equal('phiên bản đang áp dụng: v1');
    await page.close();
  });

  it('Given no key in the address, the page asks for one and opens with the key typed in (regression: a select once shared the login field’s id)', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/ui/modeler`);
    await page.waitForSelector('#login:not([hidden])');
    await page.fill('#login #key', h.keys.auditor.Authorization.slice('Bearer '.length));
    await page.click('#login button');
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.locator('#definition option').allInnerTexts()).to.include.members(['Quy trình complaint-handling', 'Bảng quyết định routing']);
    await page.close();
  });

  it('Given an auditor, the page opens read-only: no deploy buttons, no palette', async () => {
    const page = await openPage(browser, `${base}/ui/modeler`, h.keys.auditor.Authorization);
    expect(await page.locator('#deploy').isVisible()).to.equal(false);
    expect(await page.locator('.djs-palette').isVisible()).to.equal(false);
    expect(await page.locator('#message').innerText()).to.match(/Chế độ xem/);
    await page.close();
  });
});

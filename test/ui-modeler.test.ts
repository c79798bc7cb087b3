import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import type { TestDb } from './helpers/db.js';
import { openPage, hotlineInBrowser } from './helpers/browser.js';
import { Hotline } from './helpers/scenario.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/system.js';
import { buildUi } from '../scripts/build-ui.mjs';

const SHIPPED = readFileSync(join(ROOT, 'processes', 'complaint-handling.bpmn'), 'utf8');
/** Load XML into the page's modeler, as if the analyst had edited the diagram that way. */
const loadXml = (xml: string) => (window as any).paknModeler.importXML(xml);

describe('Analysts’ modeler page in a real browser (headless Chromium)', function () {
  this.timeout(120_000);
  let t: TestDb;
  let h: Hotline;
  let close = async () => {};
  let browser: Browser;
  let base: string;

  before(async () => {
    await buildUi(); // the page's bundle from the current source, as `npm install` builds it
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
  it('Given a timer reading a misspelt variable, validation shows the problem on the element in Vietnamese, with the name meant', async () => {
    const analyst = await h.s.as('analyst', 'SNV');
    const page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization, { width: 1400, height: 900 });
    await page.evaluate(loadXml, SHIPPED.replace('<bpmn:timeDate xsi:type="bpmn:tFormalExpression">=dueAt</bpmn:timeDate>', '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">=dueAtt</bpmn:timeDate>'));
    await page.click('#validate');
    await page.waitForSelector('#problems li.error[data-rule="feel-unknown-name"]');
    const text = await page.locator('#problems li.error[data-rule="feel-unknown-name"]').innerText();
    expect(text).to.contain('[overdue]').and.to.contain('«dueAtt»').and.to.contain('Có phải ý là «dueAt»?');
    expect(await page.locator('[data-element-id="overdue"].has-problem').count()).to.equal(1);
    expect(await page.locator('.problem-count').first().getAttribute('title')).to.contain('chưa có gì đặt giá trị');
    await page.close();
  });

  it('Given a version that would fire a timer at once for open cases, the page shows the impact and deploys it only once confirmed with a reason, which the history keeps', async () => {
    const kase = await h.intake({ title: 'Đang chờ cơ quan xử lý', field: 'DAT-DAI', channel: 'call' });
    const analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
    const page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization, { width: 1400, height: 900 });
    await page.evaluate(loadXml, SHIPPED.replace('<bpmn:timeDate xsi:type="bpmn:tFormalExpression">=dueAt</bpmn:timeDate>', '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">=receivedAt</bpmn:timeDate>'));
    await page.click('#impact');
    await page.waitForSelector('body[data-impact="risky"]');
    expect(await page.locator('#impact-summary').innerText()).to.contain('sẽ kích hoạt hẹn giờ ngay');
    const before = Number((await t.db('definitions').where({ key: 'complaint-handling' }).count('* as n').first())!.n);
    await page.click('#deploy');
    await page.waitForSelector('#impact-confirm:not([hidden])');
    expect(await page.locator('#problems li[data-rule="impact-timer-at-once"]').count()).to.equal(1);
    expect(Number((await t.db('definitions').where({ key: 'complaint-handling' }).count('* as n').first())!.n)).to.equal(before);
    await page.check('#confirm-impact');
    await page.fill('#impact-reason', 'Xử lý ngay các hồ sơ tồn');
    await page.click('#deploy');
    await page.waitForSelector(`body[data-deployed="${before + 1}"]`);
    const event = await t.db('case_events').where({ type: 'definition.activated' }).orderBy('id', 'desc').first();
    expect(event.actor_id).to.equal(analyst.id);
    expect(event.payload.impact).to.include({ confirmed: true, reason: 'Xử lý ngay các hồ sơ tồn' });
    expect(kase.code).to.be.a('string');
    // Back to the shipped version for the other tests (safe: nothing is at risk on it).
    await h.s.definitions.activate('complaint-handling', 1, { id: 'test', name: 'test', roles: ['analyst'], agency: null });
    await page.close();
  });

  it('Given the page open with one key, when another key is put in the address, the page reloads for that key (issue 18)', async () => {
    const analyst = await h.s.as('analyst', 'SNV');
    const page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization);
    expect(await page.locator('#deploy').isVisible()).to.equal(true);
    await page.evaluate(() => {
      document.body.dataset.ready = 'reloading';
    });
    await page.evaluate((key) => {
      window.location.hash = '#key=' + encodeURIComponent(key);
    }, h.keys.auditor.Authorization.slice('Bearer '.length));
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.locator('#deploy').isVisible()).to.equal(false);
    expect(await page.locator('#message').innerText()).to.match(/Chế độ xem/);
    expect(page.url()).to.not.contain('key=');
    await page.close();
  });
});

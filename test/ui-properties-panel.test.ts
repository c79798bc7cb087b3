import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import type { TestDb } from './helpers/db.js';
import { openPage, hotlineInBrowser } from './helpers/browser.js';
import { Hotline } from './helpers/scenario.js';
import { buildUi } from '../scripts/build-ui.mjs';

const FORM_MISSING = 'Không có biểu mẫu (formKey) này: không gửi kèm, không có ở phiên bản trước, không có trong bộ cài sẵn processes/forms.';

/** Select a diagram element as the analyst's click would (flows and boundary events are small targets). */
async function select(page: Page, id: string) {
  await page.evaluate((elementId) => {
    const modeler = (window as any).paknModeler;
    modeler.get('selection').select(modeler.get('elementRegistry').get(elementId));
  }, id);
  await page.waitForSelector(`#properties .bio-properties-panel-header-label`);
}

/** The edited diagram as the page would deploy it. */
const currentXml = (page: Page) => page.evaluate(async () => (await (window as any).paknModeler.saveXML({ format: true })).xml as string);

/** Replace the text of a FEEL entry's editor (CodeMirror) by typing, as an analyst does. */
async function typeFeel(page: Page, entry: string, text: string) {
  const editor = page.locator(`#properties [data-entry-id="${entry}"] .cm-content`);
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  // Inserted whole: typed key by key, the editor would close brackets and quotes itself.
  await page.keyboard.insertText(text);
  // Leaving the field commits it (the page's clock is fixed, so the typing debounce never elapses).
  await page.keyboard.press('Tab');
}

describe('Properties panel of the modeler page in a real browser (headless Chromium)', function () {
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

  it('Given an analyst, when they give the handling step to another agency in the panel and deploy, then a new case lands in that agency’s inbox and not in the routed one’s', async () => {
    const analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
    const page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization);
    await page.click('[data-element-id="handle"]');
    const groups = page.locator('#bio-properties-panel-pakn-candidateGroups');
    expect(await groups.inputValue()).to.equal('=agency');
    // The agencies come from the catalogue (in force today), with their Vietnamese names.
    expect(await groups.locator('optgroup[label="Cơ quan (danh mục)"] option').allInnerTexts()).to.include('Sở Xây dựng (SXD)');
    await groups.selectOption('SXD');
    expect(await currentXml(page)).to.match(/<bpmn:userTask id="handle"[^>]* camunda:candidateGroups="SXD"/);

    await page.fill('#comment', 'Giao Sở Xây dựng xử lý');
    await page.click('#deploy');
    await page.waitForSelector('body[data-deployed="2"]');

    const kase = await h.intake({ title: 'Công trình xây dựng lấn chiếm vỉa hè', field: 'DAT-DAI', citizenPhone: '0911000444', channel: 'call' });
    const inbox = async (agency: string) => {
      const res = await h.s.http.get('/v1/tasks').set(await h.agency(agency));
      expect(res.status).to.equal(200);
      return (res.body.items as { caseCode: string; elementId: string }[]).filter((task) => task.caseCode === kase.code).map((task) => task.elementId);
    };
    expect(await inbox('SXD')).to.deep.equal(['handle']);
    expect(await inbox('SNNMT')).to.deep.equal([]);
    // Back to the shipped version for the other tests.
    await h.s.definitions.activate('complaint-handling', 1, { id: 'test', name: 'test', roles: ['analyst'], agency: null });
    await page.close();
  });

  it('Given a due date typed with a FEEL mistake, the panel offers the diagram’s variables, says in Vietnamese what is wrong and where, and takes the corrected expression', async () => {
    const analyst = await h.s.as('analyst', 'SNV');
    const page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization);
    await select(page, 'review');
    const entry = page.locator('#properties [data-entry-id="pakn-dueDate"]');
    expect(await entry.locator('.cm-content').innerText()).to.equal('add working days(now(), reviewDays)');

    await typeFeel(page, 'pakn-dueDate', 'add working days(now(, reviewDays)');
    await entry.locator('.bio-properties-panel-error').waitFor();
    expect(await entry.locator('.bio-properties-panel-error').innerText()).to.match(/^Biểu thức FEEL viết sai ở ký tự thứ \d+/);

    // Names the diagram sets are offered as one types (here an output parameter of the start event).
    await entry.locator('.cm-content').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type('add working days(now(), transferLi');
    await page.locator('.cm-tooltip-autocomplete').waitFor();
    expect(await page.locator('.cm-tooltip-autocomplete').innerText()).to.contain('transferLimit');
    await page.keyboard.press('Escape');

    await typeFeel(page, 'pakn-dueDate', 'add working days(now(), 3)');
    await entry.locator('.bio-properties-panel-error').waitFor({ state: 'detached' });
    await page.waitForFunction(() => (window as any).paknModeler.get('elementRegistry').get('review').businessObject.get('camunda:dueDate') === '=add working days(now(), 3)');
    await page.close();
  });

  it('Given a gateway’s flow, its condition is edited as FEEL and written the way the engine reads it (language="feel", no "=")', async () => {
    const analyst = await h.s.as('analyst', 'SNV');
    const page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization);
    await select(page, 'transferRequested');
    const entry = page.locator('#properties [data-entry-id="pakn-condition"]');
    expect(await entry.locator('.cm-content').innerText()).to.equal('outcome = "transfer"');
    await typeFeel(page, 'pakn-condition', 'outcome = "transfer" and transferCount < 5');
    await page.waitForFunction(() => (window as any).paknModeler.get('elementRegistry').get('transferRequested').businessObject.conditionExpression.body === 'outcome = "transfer" and transferCount < 5');
    expect(await currentXml(page)).to.contain('<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="feel">outcome = "transfer" and transferCount &lt; 5</bpmn:conditionExpression>');
    await page.close();
  });

  it('Given a timer and an SMS step, the panel shows the timer’s FEEL and kind, and picks the SMS template among the server’s, with its text', async () => {
    const analyst = await h.s.as('analyst', 'SNV');
    const page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization);
    await select(page, 'remind');
    expect(await page.locator('#bio-properties-panel-pakn-timerKind').inputValue()).to.equal('timeDate');
    expect(await page.locator('#properties [data-entry-id="pakn-timerValue"] .cm-content').innerText()).to.equal('add working days(dueAt, -2)');

    await select(page, 'askCitizen');
    const template = page.locator('#bio-properties-panel-pakn-template');
    expect(await template.inputValue()).to.equal('more-info');
    expect(await template.locator('option').allInnerTexts()).to.include.members(['more-info', 'reminder']);
    // The text comes from the server's templates (GET /v1/sms/templates), shown under the field.
    expect(await page.locator('#properties [data-entry-id="pakn-template"]').innerText()).to.contain('Nội dung: Tổng đài 1022: Để xử lý phản ánh {{code}}');
    await template.selectOption('reminder');
    expect(await currentXml(page)).to.match(/<bpmn:sendTask id="askCitizen"[\s\S]*?<camunda:property name="template" value="reminder" \/>/);
    // One undo puts the property back as it was.
    await page.evaluate(() => (window as any).paknModeler.get('commandStack').undo());
    expect(await currentXml(page)).to.match(/<bpmn:sendTask id="askCitizen"[\s\S]*?<camunda:property name="template" value="more-info" \/>/);
    await page.close();
  });

  it('Given a form key no deployed form has, the server’s problem is shown in the panel of the step, under the form field, in Vietnamese', async () => {
    const analyst = await h.s.as('analyst', 'SNV');
    const page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization);
    await page.evaluate(() => {
      const modeler = (window as any).paknModeler;
      modeler.get('modeling').updateProperties(modeler.get('elementRegistry').get('handle'), { 'camunda:formKey': 'khong-co-mau' });
    });
    await page.click('#validate');
    await page.waitForSelector('#problems li.error');
    await select(page, 'handle');
    const problem = page.locator('#properties .pakn-problem.error[data-rule="form-missing"]');
    expect(await problem.innerText()).to.equal('Lỗi: ' + FORM_MISSING);
    expect(await page.locator('#properties [data-entry-id="pakn-formKey"] .bio-properties-panel-error').innerText()).to.equal(FORM_MISSING);
    // The unknown key stays visible (and selectable) next to the deployed forms.
    const form = page.locator('#bio-properties-panel-pakn-formKey');
    expect(await form.inputValue()).to.equal('khong-co-mau');
    expect(await form.locator('option').allInnerTexts()).to.include.members(['handle', 'classify', 'review', 'coordinate', 'khong-co-mau — chưa được triển khai']).and.not.include('message-citizen-info');
    await form.selectOption('handle');
    await page.click('#validate');
    await page.waitForFunction(() => document.getElementById('message')!.textContent!.startsWith('Không có lỗi'));
    expect(await page.locator('#properties .pakn-problem.error').count()).to.equal(0);
    await page.close();
  });

  it('Given the page, the palette and the panel speak Vietnamese; an auditor gets no panel', async () => {
    const analyst = await h.s.as('analyst', 'SNV');
    const page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization);
    expect(await page.locator('.djs-palette [data-action="create.task"]').getAttribute('aria-label')).to.equal('Thêm công việc');
    await select(page, 'classify');
    expect(await page.locator('#properties .bio-properties-panel-group-header-title').allInnerTexts()).to.include.members(['Chung', 'Giao việc', 'Mô tả', 'Tham số đầu ra (đặt biến hồ sơ)', 'Thuộc tính mở rộng']);
    expect(await page.locator('#bio-properties-panel-pakn-publicStatus').inputValue()).to.equal('received');
    expect(await page.locator('#properties .bio-properties-panel-header-type').innerText()).to.match(/^công việc của người$/i);
    await select(page, 'remind');
    expect(await page.locator('#properties .bio-properties-panel-header-type').innerText()).to.match(/^hẹn giờ trên bước \(không dừng bước\)$/i);
    await page.close();

    const viewer = await openPage(browser, `${base}/ui/modeler`, h.keys.auditor.Authorization);
    expect(await viewer.locator('#properties').isVisible()).to.equal(false);
    await viewer.close();
    expect(t).to.not.equal(undefined);
  });
});

/**
 * Screenshots of the pages for the user guides, taken in headless Chromium from
 * a throwaway system: an embedded in-memory database (PGlite), the shipped
 * processes/ deployed, demo data made through the HTTP API, the pages served on
 * a loopback port. Nothing is read from or written to ./data.
 *
 *   npm run screenshots                        every picture below
 *   npm run screenshots -- modeler dashboard   only the named groups
 *
 * Groups and the files they write (in docs/images/):
 *   modeler    modeler.png           an analyst opens /ui/modeler (the active version)
 *              modeler-problems.png  "Kiểm tra" on a diagram with an error: the element is
 *                                    marked, the problems are listed
 *              modeler-deployed.png  after a staged deploy ("chỉ lưu, chưa áp dụng"): v2 in
 *                                    the version list, v1 still applied
 *              modeler-viewer.png    an auditor opens the same page: read-only
 *              modeler-dry-run.png   "Chạy thử" on a staged version that gives the handling step
 *                                    to SXD: both finished cases would go elsewhere, the step is marked
 *              modeler-routing.png   the routing table (?process=routing) with the agency cell of row
 *                                    r-dat-dai changed to "SXD", after "Chạy thử": the land cases listed,
 *                                    diverging at the decision step route (agency SNNMT → SXD)
 *   modeler-panel modeler-panel.png  the properties panel of the handling step, its candidate group
 *                                    changed to SXD (Sở Xây dựng) from the catalogue list
 *              modeler-panel-problem.png  a due date typed with a FEEL mistake and, after "Kiểm tra",
 *                                    the server's problem on an unknown form key, both in the panel
 *   forms      forms-editor.png      an analyst opens /ui/forms on the handling form and edits the answer
 *                                    field (new label, at least 60 characters): schema left, preview right
 *   case-page  case-page.png         an auditor opens /ui/cases/{code} of a case transferred twice
 *   dashboard  dashboard.png         a coordinator opens /ui/dashboard (whole page)
 *   catalogue  catalogue.png         an analyst opens /ui/catalogue?year=2028 on 2 October 2027 (the warning that
 *                                    2028 has no holidays), edits Sở Y tế and adds New Year's Day 2028
 *   call-activity case-page-call.png a coordinator opens /ui/cases/{code} of a case whose call
 *                                    activity called the shared quality check (test/fixtures/call-*.bpmn),
 *                                    waiting there: the called process's diagram below (whole page)
 *
 * The browser tests (test/ui-*.test.ts) check what these pages show; this
 * script only takes the pictures, so running the tests never rewrites files
 * under docs/. The browser is the tests' (launchBrowser): the Chromium that
 * the devDependency @sparticuz/chromium ships, with its Open Sans font, or
 * PAKN_CHROMIUM's. Exit codes: 0 written, 1 failure, 2 wrong usage.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { connect } from '../../db/connect.js';
import { openPage, servePages } from '../../test/helpers/browser.js';
import { Hotline } from '../../test/helpers/scenario.js';
import { ROOT } from '../../test/helpers/system.js';
import { buildUi } from '../../scripts/build-ui.mjs';

const IMAGES = join(ROOT, 'docs', 'images');
const GROUPS = ['modeler', 'modeler-panel', 'forms', 'case-page', 'dashboard', 'call-activity', 'catalogue'] as const;
type Group = (typeof GROUPS)[number];
const USAGE = `usage: npm run screenshots [-- ${GROUPS.join(' | ')} …]`;

interface Stage {
  h: Hotline;
  base: string;
  browser: Browser;
}

async function shoot(page: Page, file: string, fullPage = false): Promise<void> {
  const path = join(IMAGES, file);
  await page.screenshot({ path, fullPage });
  const size = page.viewportSize();
  console.log(`docs/images/${file}${size && !fullPage ? `  ${size.width}×${size.height} px` : '  whole page'}`);
}

/** The analysts' page: open, a refused diagram, a staged deploy, the page for an auditor, a dry run, the routing table. */
async function modeler({ h, base, browser }: Stage): Promise<void> {
  const analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
  const viewport = { width: 1400, height: 860 };

  // 1. Open: the active version v1, fitted to the window.
  let page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization, viewport);
  await shoot(page, 'modeler.png');
  await page.close();

  // 2. An error: the handling task names a form the server does not have. "Kiểm tra" marks it.
  page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization, viewport);
  await page.evaluate(() => {
    const modeler = (window as any).paknModeler;
    const handle = modeler.get('elementRegistry').get('handle');
    modeler.get('modeling').updateProperties(handle, { 'camunda:formKey': 'xu-ly' });
    // As a user would with the mouse wheel: zoom in on the marked task so that its outline and badge read.
    const canvas = modeler.get('canvas');
    canvas.zoom(1.1);
    const box = canvas.viewbox();
    canvas.viewbox({ x: handle.x + handle.width / 2 - box.width / 2.6, y: handle.y + handle.height / 2 - box.height / 3, width: box.width, height: box.height });
  });
  await page.click('#validate');
  await page.waitForSelector('#problems li.error');
  await page.waitForSelector('[data-element-id="handle"].has-problem');
  await shoot(page, 'modeler-problems.png');
  await page.close();

  // 3. A visible change, validated, deployed staged with a comment: v2 is listed, v1 stays applied.
  page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization, viewport);
  await page.evaluate(() => {
    const modeler = (window as any).paknModeler;
    modeler.get('modeling').updateLabel(modeler.get('elementRegistry').get('review'), 'Duyệt và ký nội dung trả lời');
  });
  await page.click('#validate');
  await page.waitForFunction(() => document.getElementById('message')!.textContent!.startsWith('Không có lỗi'));
  await page.check('#staged');
  await page.fill('#comment', 'Đổi tên bước duyệt thành "Duyệt và ký"');
  await page.click('#deploy');
  await page.waitForSelector('body[data-deployed="2"]');
  await shoot(page, 'modeler-deployed.png');
  await page.close();

  // 4. The same page for an auditor: no palette, no deploy buttons.
  page = await openPage(browser, `${base}/ui/modeler`, h.keys.auditor.Authorization, viewport);
  await page.waitForFunction(() => /Chế độ xem/.test(document.getElementById('message')!.textContent ?? ''));
  await shoot(page, 'modeler-viewer.png');
  await page.close();

  // 5. "Chạy thử": two finished cases, one of them transferred once (SXD → CONG-AN). A version deployed
  //    staged from Camunda Modeler (as a CI job would) gives the handling step to the fixed group SXD
  //    instead of =agency — validation accepts it. The analyst opens that version on the page and
  //    replays the finished cases: both would go to SXD at a handling step they took elsewhere.
  const transferred = await h.intake({ title: 'Xe quá tải phá hỏng mặt đường', field: 'GIAO-THONG', citizenPhone: '0911000333', channel: 'call' });
  await h.act(transferred.code, 'handle', 'SXD', { outcome: 'transfer', toAgency: 'CONG-AN', transferReason: 'Xử lý vi phạm tải trọng' });
  await h.act(transferred.code, 'handle', 'CONG-AN', { outcome: 'answer', answer: 'Đã xử phạt và yêu cầu sửa mặt đường.' });
  const plain = await h.intake({ title: 'Tranh chấp lối đi chung', field: 'DAT-DAI', citizenPhone: '0911000222', channel: 'call' });
  await h.act(plain.code, 'handle', 'SNNMT', { outcome: 'answer', answer: 'Đã hòa giải tại cơ sở.' });
  for (const code of [transferred.code, plain.code]) {
    await h.act(code, 'review', 'coordinator', { reviewDecision: 'approve' });
    await h.message(code, 'citizen-rating', { satisfied: true });
  }
  const shipped = readFileSync(join(ROOT, 'processes', 'complaint-handling.bpmn'), 'utf8');
  const fixedGroup = shipped.replace('camunda:candidateGroups="=agency"', 'camunda:candidateGroups="SXD"');
  if (fixedGroup === shipped) throw new Error('processes/complaint-handling.bpmn no longer gives handle to "=agency": update this scenario');
  const staged = await h.s.http
    .post('/v1/definitions')
    .set(analyst)
    .send({ xml: fixedGroup, comment: 'Giao bước xử lý cho Sở Xây dựng', activate: false });
  if (staged.status !== 201) throw new Error(`staged deploy answered ${staged.status}: ${JSON.stringify(staged.body)}`);
  const version = String(staged.body.version);
  page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization, viewport);
  await page.selectOption('#version', version);
  await page.click('#open');
  await page.waitForFunction((v) => document.getElementById('message')!.textContent === `Đã mở phiên bản v${v}.`, version);
  await page.evaluate(() => {
    const modeler = (window as any).paknModeler;
    const canvas = modeler.get('canvas');
    canvas.zoom(0.9);
    const handle = modeler.get('elementRegistry').get('handle');
    const box = canvas.viewbox();
    canvas.viewbox({ x: handle.x - box.width / 3, y: handle.y - box.height / 3, width: box.width, height: box.height });
  });
  await page.click('#dryrun');
  await page.waitForSelector('body[data-dry-run="2"]');
  await page.waitForSelector('[data-element-id="handle"].diverges');
  await shoot(page, 'modeler-dry-run.png');
  await page.close();

  // 6. The routing table on the page, as test/ui-modeler.test.ts edits it: one more finished land case,
  //    the agency cell of row r-dat-dai changed from "SNNMT" to "SXD" (a contenteditable cell of dmn-js),
  //    then "Chạy thử": the table would answer agency SXD for the land cases (they diverge at the decision
  //    step route, before handle), the transport case keeps its path and its answer.
  const land = await h.intake({ title: 'Tranh chấp đất vườn', field: 'DAT-DAI', citizenPhone: '0911000444', channel: 'call' });
  await h.act(land.code, 'handle', 'SNNMT', { outcome: 'answer', answer: 'Đã hòa giải thành tại xã.' });
  await h.act(land.code, 'review', 'coordinator', { reviewDecision: 'approve', publish: false });
  await h.message(land.code, 'citizen-rating', { satisfied: true });
  //    Same 1400 px window as the other pictures: the table (about 1800 px wide) scrolls inside its own
  //    area, and clicking the cell scrolls that area to it; "Kết quả kiểm tra" and the dry-run list stay
  //    on the right.
  page = await openPage(browser, `${base}/ui/modeler?process=routing`, analyst.Authorization, viewport);
  const cell = page.locator('td[data-element-id="r-dat-dai-agency"]');
  if (!(await cell.innerText()).includes('"SNNMT"')) throw new Error('processes/routing.dmn no longer gives r-dat-dai to "SNNMT": update this scenario');
  await cell.locator('[contenteditable]').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('"SXD"');
  await page.click('#dryrun');
  await page.waitForSelector('body[data-dry-run]');
  await page.waitForSelector('#dryrun-cases li.diverged');
  await shoot(page, 'modeler-routing.png');
  await page.close();
}

/** The properties panel, as test/ui-properties-panel.test.ts uses it. */
async function modelerPanel({ h, base, browser }: Stage): Promise<void> {
  const analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
  const viewport = { width: 1400, height: 860 };
  // Run in the page: zoom in on the element and select it, as a click would.
  const focus = (elementId: string) => {
    const modeler = (window as any).paknModeler;
    const element = modeler.get('elementRegistry').get(elementId);
    const canvas = modeler.get('canvas');
    canvas.zoom(1.2);
    const box = canvas.viewbox();
    canvas.viewbox({ x: element.x + element.width / 2 - box.width / 2, y: element.y + element.height / 2 - box.height / 3, width: box.width, height: box.height });
    modeler.get('selection').select(element);
  };

  // 1. The handling step selected; its candidate group picked from the catalogue list: SXD.
  let page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization, viewport);
  await page.evaluate(focus, 'handle');
  await page.selectOption('#bio-properties-panel-pakn-candidateGroups', 'SXD');
  await shoot(page, 'modeler-panel.png');
  await page.close();

  // 2. The review step: a form key the server does not have, "Kiểm tra", then a due date typed with a FEEL mistake.
  page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization, viewport);
  await page.evaluate(() => {
    const modeler = (window as any).paknModeler;
    modeler.get('modeling').updateProperties(modeler.get('elementRegistry').get('review'), { 'camunda:formKey': 'duyet-cu' });
  });
  await page.click('#validate');
  await page.waitForSelector('#problems li.error');
  await page.evaluate(focus, 'review');
  await page.locator('#properties [data-entry-id="pakn-dueDate"] .cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText('add working days(now(, reviewDays)');
  await page.keyboard.press('Tab');
  await page.waitForSelector('#properties [data-entry-id="pakn-dueDate"] .bio-properties-panel-error');
  await page.waitForSelector('#properties [data-entry-id="pakn-formKey"] .bio-properties-panel-error');
  await shoot(page, 'modeler-panel-problem.png');
  await page.close();
}

/** The case page of a case transferred SXD → CONG-AN → SXD, as test/ui-case-page.test.ts builds it. */
async function casePage({ h, base, browser }: Stage): Promise<void> {
  const kase = await h.intake({ title: 'Xe tải chở cát làm hỏng đường', field: 'GIAO-THONG', citizenName: 'Đỗ Văn Hùng', citizenPhone: '0977000111' });
  await h.act(kase.code, 'handle', 'SXD', { outcome: 'transfer', toAgency: 'CONG-AN', transferReason: 'Xử lý vi phạm tải trọng' });
  await h.act(kase.code, 'handle', 'CONG-AN', { outcome: 'transfer', toAgency: 'SXD', transferReason: 'Sửa chữa mặt đường' });
  const page = await openPage(browser, `${base}/ui/cases/${kase.code}`, h.keys.auditor.Authorization, { width: 1600, height: 900 });
  await page.waitForSelector('.djs-overlays[data-container-id="handle"] .visit-count');
  await shoot(page, 'case-page.png');
  await page.close();
}

/** The Saturday-review dashboard over the sample week test/ui-dashboard.test.ts uses too. */
async function dashboard({ h, base, browser }: Stage): Promise<void> {
  await h.sampleWeek();
  const page = await openPage(browser, `${base}/ui/dashboard`, h.keys.coordinator.Authorization, { width: 1600, height: 1100 });
  await shoot(page, 'dashboard.png', true);
  await page.close();
}

/** The catalogue page on 2 October 2027: 2028 has no holidays yet (the warning), an agency being edited, a day off being added. */
async function cataloguePage({ h, base, browser }: Stage): Promise<void> {
  h.s.clock.set('2027-10-02T02:00:00.000Z');
  const analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
  const page = await openPage(browser, `${base}/ui/catalogue?year=2028`, analyst.Authorization, { width: 1600, height: 1000 });
  await page.fill('#filter', 'S');
  await page.locator('#entries tr[data-code="SYT"] button').click();
  await page.fill('#entry-form input[name="name"]', 'Sở Y tế tỉnh Đồng Nai');
  await page.click('#add-holiday');
  await page.locator('#holidays tbody tr').last().locator('.day-date').fill('2028-01-01');
  await page.locator('#holidays tbody tr').last().locator('.day-name').fill('Tết Dương lịch');
  await shoot(page, 'catalogue.png');
  await page.close();
}

/** A case whose call activity called the shared quality check (the fixtures of test/call-activity.test.ts), waiting in it. */
async function callActivity({ h, base, browser }: Stage): Promise<void> {
  const analyst = await h.s.as('analyst');
  for (const file of ['call-quality-check.bpmn', 'call-parent.bpmn']) {
    const res = await h.s.http.post('/v1/definitions').set(analyst).send({ xml: readFileSync(join(ROOT, 'test', 'fixtures', file), 'utf8') });
    if (res.status !== 201) throw new Error(`deploy ${file}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const operator = await h.s.as('operator');
  const started = await h.s.http.post('/v1/cases').set(operator).send({ process: 'call-parent', variables: { title: 'Nước thải chảy ra đường Lê Lợi', description: 'Cống bị tắc, nước thải tràn ra mặt đường.', channel: 'call', agency: 'SNNMT' } });
  if (started.status !== 201) throw new Error(`start: ${started.status} ${JSON.stringify(started.body)}`);
  const clerk = await h.s.as('agency', 'SNNMT', 'Cán bộ Sở Nông nghiệp và Môi trường');
  const done = await h.s.http.post(`/v1/tasks/${started.body.tasks[0].id}/complete`).set(clerk).send({ answerText: 'Đã nạo vét cống.' });
  if (done.status !== 200) throw new Error(`complete: ${done.status} ${JSON.stringify(done.body)}`);
  const page = await openPage(browser, `${base}/ui/cases/${started.body.code}`, h.keys.coordinator.Authorization, { width: 1600, height: 900 });
  await page.waitForSelector('#calls .called [data-element-id="qcReview"].active');
  await shoot(page, 'case-page-call.png', true);
  await page.close();
}

/** The form editor: the handling form of v1 with an edited answer field, its preview updated. */
async function formsEditor({ h, base, browser }: Stage): Promise<void> {
  const analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
  const page = await openPage(browser, `${base}/ui/forms?process=complaint-handling&form=handle`, analyst.Authorization, { width: 1400, height: 860 });
  const schema = JSON.parse(await page.locator('#schema').inputValue());
  schema.properties.answer = { ...schema.properties.answer, title: 'Nội dung trả lời chi tiết', minLength: 60 };
  await page.fill('#schema', JSON.stringify(schema, null, 2));
  await page.fill('#comment', 'Trả lời tối thiểu 60 ký tự');
  await page.waitForSelector('body[data-valid="true"]');
  await page.locator('#schema').evaluate((el) => (el.scrollTop = 0));
  await shoot(page, 'forms-editor.png');
  await page.close();
}

const TAKE: Record<Group, (stage: Stage) => Promise<void>> = { modeler, 'modeler-panel': modelerPanel, forms: formsEditor, 'case-page': casePage, dashboard, 'call-activity': callActivity, catalogue: cataloguePage };

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => !(GROUPS as readonly string[]).includes(a));
  if (unknown.length) {
    console.error(`unknown group(s): ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  const chosen = argv.length ? GROUPS.filter((g) => argv.includes(g)) : [...GROUPS];
  mkdirSync(IMAGES, { recursive: true });
  if (chosen.some((g) => g.startsWith('modeler'))) await buildUi(); // the modeler page's bundle, from the current source
  // Each group on its own system, so that one group's cases never show in another's picture.
  for (const group of chosen) {
    const db = connect({ dataDir: 'memory' });
    const h = await Hotline.open(db);
    const pages = await servePages(h.s);
    try {
      await TAKE[group]({ h, base: pages.base, browser: pages.browser });
    } finally {
      await pages.close();
      await h.close();
      await db.destroy();
    }
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);

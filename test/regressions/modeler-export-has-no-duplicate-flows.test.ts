import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openPage, hotlineInBrowser } from '../helpers/browser.js';
import { Hotline, type Key } from '../helpers/scenario.js';
import { ROOT } from '../helpers/system.js';

// Bug: validating the diagram the modeler exported reported every sequence flow as a duplicate
// ("SequenceFlow is a duplicate", "Duplicate incoming/outgoing sequence flows"), although the
// export holds each <incoming>/<outgoing> once, exactly as the shipped file does. bpmnlint's
// no-duplicate-sequence-flows keeps the flows it has seen inside the rule, and a Linter makes each
// rule once: our single, shared linter still remembered the shipped diagram from its deploy.
const DUPLICATE_RULE = 'bpmnlint/no-duplicate-sequence-flows';
const SHIPPED = readFileSync(join(ROOT, 'processes', 'complaint-handling.bpmn'), 'utf8');
const refs = (xml: string) => (xml.match(/<bpmn:(incoming|outgoing)>/g) ?? []).length;

describe('Regression: a diagram exported by the modeler is not reported as duplicating its own flows', function () {
  this.timeout(120_000);
  let h: Hotline;
  let close = async () => {};
  let browser: Browser;
  let base: string;
  let analyst: Key;

  before(async () => {
    ({ h, base, browser, close } = await hotlineInBrowser()); // deploys, and so lints, the shipped diagram once
    analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
  });
  after(() => close());

  const exported = (page: Page) => page.evaluate(async () => (await (window as any).paknModeler.saveXML({ format: true })).xml as string);
  const validate = async (xml: string) => {
    const res = await h.s.http.post('/v1/definitions/validate').set(analyst).set('content-type', 'application/xml').send(xml);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.problems as Array<{ elementId: string | null; rule: string; severity: string; message: string }>;
  };

  it('Given the shipped diagram deployed, when an analyst opens it in the modeler and exports it, then validation (twice, and from the page) reports no duplicate flow and the export deploys', async () => {
    const page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization);
    const xml = await exported(page);
    expect(refs(xml), 'bpmn-js writes each incoming/outgoing reference once').to.equal(refs(SHIPPED));

    for (const round of [1, 2]) {
      const problems = await validate(xml);
      expect(problems.filter((p) => p.rule === DUPLICATE_RULE), `validation ${round}`).to.deep.equal([]);
      expect(problems.filter((p) => p.severity === 'error'), `validation ${round}`).to.deep.equal([]);
    }
    await page.click('#validate');
    await page.waitForFunction(() => document.getElementById('message')!.textContent!.startsWith('Không có lỗi'));
    expect(await page.locator(`#problems li[data-rule="${DUPLICATE_RULE}"]`).count()).to.equal(0);
    await page.close();

    const deployed = await h.s.http.post('/v1/definitions').set(analyst).set('content-type', 'application/xml').send(xml);
    expect(deployed.status, JSON.stringify(deployed.body)).to.equal(201);
    expect(deployed.body).to.include({ key: 'complaint-handling', version: 2, created: true });
  });

  it('Given an analyst draws a second flow between the same two steps, when exported and validated, then that real duplicate is still reported', async () => {
    const page = await openPage(browser, `${base}/ui/modeler`, analyst.Authorization);
    const flowId = await page.evaluate(() => {
      const modeler = (window as any).paknModeler;
      const registry = modeler.get('elementRegistry');
      return modeler.get('modeling').connect(registry.get('classify'), registry.get('route')).id as string;
    });
    const problems = (await validate(await exported(page))).filter((p) => p.rule === DUPLICATE_RULE);
    await page.close();
    expect(problems.map((p) => [p.elementId, p.message.split(' (')[0]])).to.have.deep.members([
      [flowId, 'SequenceFlow is a duplicate'],
      ['classify', 'Duplicate outgoing sequence flows'],
      ['route', 'Duplicate incoming sequence flows'],
    ]);
  });
});

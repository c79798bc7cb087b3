import { expect } from 'chai';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployProcesses } from '../../api/system.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { ROOT, testSystem, type TestSystem } from '../helpers/system.js';

/**
 * Issue 14 gap: the names an SMS template reads ({{question}}, {{answer}}…)
 * and the message names the hotline delivers by name (citizen-rating,
 * citizen-info) were not checked at validate time. A diagram that sent a
 * template reading a variable nothing set deployed, and every citizen got
 * the text with a blank; a renamed rating message deployed, and SMS ratings
 * found no case. Now the hotline declares what each template placeholder
 * reads (engine/hotline/contract.ts TEMPLATE_PLACEHOLDERS, READ_MESSAGES) and
 * validation refuses both (rules sms-template-variable,
 * message-template-missing, read-message-missing).
 */
describe('Regression: what SMS templates read, and the message names the hotline delivers, are checked when a diagram is validated', () => {
  let t: TestDb;
  let s: TestSystem;
  let dir: string;
  const shipped = readFileSync(join(ROOT, 'processes', 'complaint-handling.bpmn'), 'utf8');
  /** The shipped diagram with the answer SMS sending another template. */
  const sendingTemplate = (template: string) => {
    const xml = shipped.replace(/(<bpmn:sendTask id="sendAnswer"[\s\S]*?<camunda:property name="template" value=")answer(")/, `$1${template}$2`);
    expect(xml).not.to.equal(shipped);
    return xml;
  };

  before(async () => {
    // The shipped processes, plus a template that reads a variable no step of the diagram sets.
    dir = mkdtempSync(join(tmpdir(), 'pakn-sms-templates-'));
    cpSync(join(ROOT, 'processes'), dir, { recursive: true });
    const templates = JSON.parse(readFileSync(join(dir, 'sms', 'templates.json'), 'utf8'));
    templates['hen-lich'] = 'Tổng đài 1022: Phản ánh {{code}} được hẹn làm việc ngày {{appointmentDate}} tại {{agencyName}}.';
    writeFileSync(join(dir, 'sms', 'templates.json'), JSON.stringify(templates, null, 2));
    t = await freshDb();
    s = await testSystem(t.db, { processesDir: dir });
    await deployProcesses(s, dir);
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const validate = async (xml: string) => {
    const res = await s.http.post('/v1/definitions/validate').set(await s.as('analyst')).send({ xml });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as { valid: boolean; problems: Array<{ elementId: string | null; rule: string; severity: string; message: string; name?: string }> };
  };

  it('Given the shipped diagram and templates, then nothing is reported by these rules', async () => {
    const report = await validate(shipped);
    expect(report.problems.filter((p) => /template|read-message/.test(p.rule))).to.deep.equal([]);
  });

  it('Given the answer SMS sending a template that reads appointmentDate, which no step sets, when validated, then sms-template-variable names the step, the template and the variable; deploying it is refused and stores nothing', async () => {
    const xml = sendingTemplate('hen-lich');
    const report = await validate(xml);
    expect(report.valid).to.equal(false);
    const problems = report.problems.filter((p) => p.rule === 'sms-template-variable');
    expect(problems.map((p) => [p.elementId, p.severity, p.name])).to.deep.equal([['sendAnswer', 'error', 'appointmentDate']]);
    expect(problems[0].message).to.include('"hen-lich"').and.to.include('"appointmentDate"');
    // {{agencyName}} reads agency and {{code}} is the case code: neither is reported.

    const before = await t.db('definitions').count('* as n').first();
    const deploy = await s.http.post('/v1/definitions').set(await s.as('analyst')).send({ xml });
    expect(deploy.status).to.equal(422);
    expect(deploy.body.problems.map((p: any) => p.rule)).to.include('sms-template-variable');
    expect(await t.db('definitions').count('* as n').first()).to.deep.equal(before);
  });

  it('Given the answer SMS sending a template that does not exist, then message-template-missing names the step', async () => {
    const report = await validate(sendingTemplate('khong-co'));
    const problems = report.problems.filter((p) => p.rule === 'message-template-missing');
    expect(problems.map((p) => [p.elementId, p.severity])).to.deep.equal([['sendAnswer', 'error']]);
    expect(problems[0].message).to.include('"khong-co"');
  });

  it('Given the rating message renamed, when validated, then read-message-missing names the message the SMS and web ratings are delivered as', async () => {
    const renamed = shipped.replace('name="citizen-rating"', 'name="danh-gia"');
    expect(renamed).not.to.equal(shipped);
    const report = await validate(renamed);
    const problems = report.problems.filter((p) => p.rule === 'read-message-missing');
    expect(problems).to.have.length(1);
    expect(problems[0].severity).to.equal('error');
    expect(problems[0].message).to.include('"citizen-rating"');
  });
});

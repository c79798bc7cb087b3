import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline, type Key } from '../helpers/scenario.js';
import { ROOT } from '../helpers/system.js';

const shippedBpmn = readFileSync(join(ROOT, 'processes', 'complaint-handling.bpmn'), 'utf8');
const shippedDmn = readFileSync(join(ROOT, 'processes', 'routing.dmn'), 'utf8');
const ANSWER = 'Cơ quan đã xử lý và trả lời công dân.';

/** Change one row of the shipped routing table, as an analyst would in the DMN editor. */
function editLandRow(dmn: string, edit: (row: string) => string): string {
  const start = dmn.indexOf('<rule id="r-dat-dai">');
  const end = dmn.indexOf('</rule>', start);
  expect(start).to.be.greaterThan(0);
  return dmn.slice(0, start) + edit(dmn.slice(start, end)) + dmn.slice(end);
}

describe('Process agility: Home Affairs changes the process by redeploying files in processes/, no code', () => {
  let t: TestDb;
  let h: Hotline;
  let analyst: Key;

  async function deploy(xml: string, comment: string) {
    const res = await h.s.http.post('/v1/definitions').set(analyst).set('Content-Type', 'application/xml').set('X-Deploy-Comment', encodeURIComponent(comment)).send(xml);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const stored = await h.s.db('definitions').where({ id: res.body.id }).first('comment');
    expect(stored.comment).to.equal(comment);
    return res.body;
  }

  async function finish(code: string, agency: string) {
    await h.act(code, 'handle', agency, { outcome: 'answer', answer: ANSWER });
    await h.act(code, 'review', 'coordinator', { reviewDecision: 'approve' });
    await h.message(code, 'citizen-rating', { satisfied: true });
    expect((await h.case(code)).status).to.equal('completed');
  }

  beforeEach(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    analyst = await h.s.as('analyst', 'SNV');
  });
  afterEach(() => t.close());

  it('Given land complaints go to SNNMT, when the routing table moves the field to SXD, then new cases go to SXD and an open case stays and finishes with SNNMT', async () => {
    const before = await h.intake({ title: 'Tranh chấp ranh giới đất', field: 'DAT-DAI' });
    await deploy(editLandRow(shippedDmn, (row) => row.replace('"SNNMT"', '"SXD"')), 'Chuyển lĩnh vực đất đai sang Sở Xây dựng');
    const after = await h.intake({ title: 'Cấp sổ đỏ chậm', field: 'DAT-DAI' });
    await h.task(after.code, 'handle', 'SXD');
    await h.task(before.code, 'handle', 'SNNMT');
    await finish(before.code, 'SNNMT');
    await finish(after.code, 'SXD');
  });

  it('Given a 10-working-day deadline, when the table says 7, then new cases are due in 7 working days and an open case keeps its deadline', async () => {
    const before = await h.intake({ title: 'Thu hồi đất chưa bồi thường', field: 'DAT-DAI' });
    await deploy(editLandRow(shippedDmn, (row) => row.replace('<outputEntry id="r-dat-dai-days"><text>10</text>', '<outputEntry id="r-dat-dai-days"><text>7</text>')), 'Rút ngắn thời hạn 10 → 7 ngày');
    const after = await h.intake({ title: 'Đo đạc sai diện tích', field: 'DAT-DAI' });
    const dueBefore = new Date((await h.task(before.code, 'handle')).due).getTime();
    const dueAfter = new Date((await h.task(after.code, 'handle')).due).getTime();
    const cal = h.s.calendar!;
    expect(dueBefore).to.equal(cal.addWorkingDays(h.s.clock.now(), 10).getTime());
    expect(dueAfter).to.equal(cal.addWorkingDays(h.s.clock.now(), 7).getTime());
    expect((await h.case(after.code)).variables.answerDays).to.equal(7);
  });

  it('Given no quality check, when a diagram with one is deployed, then new cases pass it and an open case finishes on its old version without it', async () => {
    const before = await h.intake({ title: 'Ngập nước khu dân cư', field: 'XAY-DUNG' });
    const withCheck = shippedBpmn
      .replace('<bpmn:sequenceFlow id="approved" name="Đạt" sourceRef="reviewGw" targetRef="sendAnswer" />',
        '<bpmn:sequenceFlow id="approved" name="Đạt" sourceRef="reviewGw" targetRef="qualityCheck" />\n' +
        '    <bpmn:userTask id="qualityCheck" name="Kiểm tra chất lượng trả lời (Sở Nội vụ)" camunda:candidateGroups="reviewer" camunda:formKey="review" />\n' +
        '    <bpmn:sequenceFlow id="toSendAnswer" sourceRef="qualityCheck" targetRef="sendAnswer" />');
    expect(withCheck).not.to.equal(shippedBpmn);
    const deployed = await deploy(withCheck, 'Thêm bước kiểm tra chất lượng');
    expect(deployed.version).to.equal(2);

    const after = await h.intake({ title: 'Cấp phép xây dựng chậm', field: 'XAY-DUNG' });
    expect((await h.case(after.code)).process).to.deep.equal({ key: 'complaint-handling', version: 2 });
    expect((await h.case(before.code)).process).to.deep.equal({ key: 'complaint-handling', version: 1 });

    await finish(before.code, 'SXD'); // version 1: straight from review to the SMS

    await h.act(after.code, 'handle', 'SXD', { outcome: 'answer', answer: ANSWER });
    await h.act(after.code, 'review', 'coordinator', { reviewDecision: 'approve' });
    await h.act(after.code, 'qualityCheck', 'reviewer', { reviewDecision: 'approve', reviewComment: 'Đạt' });
    await h.message(after.code, 'citizen-rating', { satisfied: true });
    expect((await h.case(after.code)).status).to.equal('completed');
  });

  it('Given a transfer limit of 2, when the diagram raises it to 3, then a new case allows a third transfer while an open case escalates at its third', async () => {
    const before = await h.intake({ title: 'Xả thải ra suối', field: 'MOI-TRUONG' });
    await deploy(shippedBpmn.replace('<camunda:outputParameter name="transferLimit">=2</camunda:outputParameter>', '<camunda:outputParameter name="transferLimit">=3</camunda:outputParameter>'), 'Nâng giới hạn chuyển lên 3');
    const after = await h.intake({ title: 'Khói bụi nhà máy', field: 'MOI-TRUONG' });
    expect((await h.case(after.code)).variables.transferLimit).to.equal(3);

    const bounce = async (code: string) => {
      await h.act(code, 'handle', 'SNNMT', { outcome: 'transfer', toAgency: 'SCT', transferReason: 'Cơ sở công nghiệp' });
      await h.act(code, 'handle', 'SCT', { outcome: 'transfer', toAgency: 'SNNMT', transferReason: 'Lĩnh vực môi trường' });
      await h.act(code, 'handle', 'SNNMT', { outcome: 'transfer', toAgency: 'SCT', transferReason: 'Đề nghị Sở Công Thương' });
    };
    await bounce(before.code);
    await h.task(before.code, 'coordinate', 'coordinator');
    await bounce(after.code);
    await h.task(after.code, 'handle', 'SCT');
    expect((await h.case(after.code)).variables).to.include({ transferCount: 3, transferLimitExceeded: false });
  });
});

import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

const CITIZEN = { citizenName: 'Nguyễn Thị Hoa', citizenPhone: '0912345678', channel: 'call' };
const ANSWER = 'Sở đã kiểm tra thực địa và yêu cầu khắc phục trong 15 ngày.';

describe('Scenario: the complaint-handling process of directive 1407/UBND-HCC, through the HTTP API', () => {
  let t: TestDb;
  let h: Hotline;

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  /** review approve → SMS → citizen rating → (accountability if flagged) → closed */
  async function approveAndRate(code: string, satisfied: boolean) {
    await h.act(code, 'review', 'coordinator', { reviewDecision: 'approve', publish: true });
    return h.message(code, 'citizen-rating', { satisfied });
  }

  it('Given a land complaint whose channel gives the field, when the department answers on time, then it is reviewed, sent by SMS, rated and closed without review', async () => {
    const kase = await h.intake({ ...CITIZEN, title: 'Lấn chiếm đất công ở phường Tam Hiệp', field: 'DAT-DAI' });
    expect(kase.tasks.map((x) => x.elementId)).to.deep.equal(['handle']);
    const handle = kase.tasks[0];
    expect(handle.candidateGroups).to.deep.equal(['SNNMT']);
    expect(new Date(handle.due).getTime()).to.equal(h.s.calendar!.addWorkingDays(h.s.clock.now(), 10).getTime());
    expect(kase.variables).to.include({ level: 1, agency: 'SNNMT', answerDays: 10, transferCount: 0, transferLimit: 2 });

    await h.complete(handle.id, await h.agency('SNNMT'), { outcome: 'answer', answer: ANSWER, legalBasis: 'Luật Đất đai 2024' });
    await h.task(kase.code, 'review', 'coordinator');
    const rated = await approveAndRate(kase.code, true);
    expect(rated.status).to.equal('completed');
    expect(rated.variables).to.include({ late: false, escalated: false, satisfied: true, publish: true, answer: ANSWER });

    const sms = await h.jobs(kase.id, 'sms');
    expect(sms.map((j) => j.payload.template)).to.deep.equal(['answer']);
    expect(sms[0].payload).to.include({ to: '0912345678', caseCode: kase.code });
    const types = (await h.events(kase.id)).map((e) => `${e.type}:${e.element_id}`);
    expect(types).to.include.members(['task.completed:handle', 'task.completed:review', 'sms.queued:sendAnswer', 'message.correlated:rated', 'case.completed:null']);
    expect(types).not.to.include('task.created:accountability');
  });

  it('Given a complaint without a field, when the operator classifies a commune-level procedure, then it routes to the level-2 focal point of the unit with 7 working days', async () => {
    const kase = await h.intake({ ...CITIZEN, title: 'Chậm đăng ký khai sinh', channel: 'web' });
    expect(kase.tasks.map((x) => x.elementId)).to.deep.equal(['classify']);
    await h.act(kase.code, 'classify', 'operator', { field: 'TU-PHAP', unit: 'X-LONG-THANH', procedure: 'HT-DANG-KY-KHAI-SINH' });
    const handle = await h.task(kase.code, 'handle', 'VP-X-LONG-THANH');
    const after = await h.case(kase.code);
    expect(after.variables).to.include({ level: 2, agency: 'VP-X-LONG-THANH', answerDays: 7 });
    expect(new Date(handle.due).getTime()).to.equal(h.s.calendar!.addWorkingDays(h.s.clock.now(), 7).getTime());
  });

  it('Given a classification naming a code that is not in the catalogue, then 422 names the field and the task stays open', async () => {
    const kase = await h.intake({ ...CITIZEN, title: 'Phản ánh chưa phân loại' });
    const task = await h.task(kase.code, 'classify', 'operator');
    const res = await h.complete(task.id, h.keys.operator, { field: 'KHONG-CO' }, 422);
    expect(res.errors).to.deep.equal([{ path: '/field', message: '"KHONG-CO" is not in the fields catalogue' }]);
    await h.task(kase.code, 'classify', 'operator');
  });

  it('Given the department transfers once with a reason, then the new agency gets the task with a fresh deadline, and the case is answered', async () => {
    const kase = await h.intake({ ...CITIZEN, title: 'Công trình xây dựng không phép', field: 'DAT-DAI' });
    await h.act(kase.code, 'handle', 'SNNMT', { outcome: 'transfer', toAgency: 'SXD', transferReason: 'Thuộc lĩnh vực trật tự xây dựng' });
    await h.task(kase.code, 'handle', 'SXD');
    expect((await h.case(kase.code)).variables).to.include({ transferCount: 1, previousAgency: 'SNNMT', agency: 'SXD', transferLimitExceeded: false });
    // The first agency held the case: it may still read it.
    expect((await h.s.http.get(`/v1/cases/${kase.code}`).set(await h.agency('SNNMT'))).status).to.equal(200);
    await h.act(kase.code, 'handle', 'SXD', { outcome: 'answer', answer: ANSWER });
    const done = await approveAndRate(kase.code, true);
    expect(done.status).to.equal('completed');
  });

  it('Given agencies pass the case past the transfer limit, then it escalates to the coordinator, is flagged, and ends with a buck-passing finding', async () => {
    const kase = await h.intake({ ...CITIZEN, title: 'Ô nhiễm tiếng ồn từ xưởng gỗ', field: 'MOI-TRUONG' });
    await h.act(kase.code, 'handle', 'SNNMT', { outcome: 'transfer', toAgency: 'SCT', transferReason: 'Cơ sở sản xuất công nghiệp' });
    await h.act(kase.code, 'handle', 'SCT', { outcome: 'transfer', toAgency: 'SNNMT', transferReason: 'Thuộc lĩnh vực môi trường' });
    await h.act(kase.code, 'handle', 'SNNMT', { outcome: 'transfer', toAgency: 'SCT', transferReason: 'Đề nghị Sở Công Thương' });
    const coordinate = await h.task(kase.code, 'coordinate', 'coordinator');
    expect((await h.case(kase.code)).variables).to.include({ transferCount: 2, transferLimitExceeded: true, escalated: true, escalationReason: 'transfer-limit' });
    await h.complete(coordinate.id, h.keys.coordinator, { decision: 'reassign', toAgency: 'SNNMT', coordinationNote: 'Sở NN&MT chủ trì xử lý' });
    await h.act(kase.code, 'handle', 'SNNMT', { outcome: 'answer', answer: ANSWER });
    await approveAndRate(kase.code, true);
    await h.act(kase.code, 'accountability', 'reviewer', { finding: 'buck-passing', findingAgency: 'SNNMT', findingNote: 'Chuyển qua lại 3 lần' });
    const done = await h.case(kase.code);
    expect(done.status).to.equal('completed');
    expect(done.variables).to.include({ finding: 'buck-passing', findingAgency: 'SNNMT' });
    const events = await h.events(kase.id);
    const escalated = events.filter((e) => e.type === 'case.escalated');
    expect(escalated.map((e) => [e.element_id, e.payload.escalationReason])).to.deep.equal([['limitExceeded', 'transfer-limit']]);
    const finding = events.filter((e) => e.type === 'finding.recorded');
    expect(finding).to.have.length(1);
    expect(finding[0].payload).to.include({ finding: 'buck-passing', findingAgency: 'SNNMT' });
    expect(finding[0].actor_id).to.equal(h.keys.reviewer.id);
  });

  it('Given the agency returns the case as not competent, then the coordinator re-routes it to the competent agency', async () => {
    const kase = await h.intake({ ...CITIZEN, title: 'Trộm cắp tài sản tại khu dân cư', field: 'DAT-DAI' });
    await h.act(kase.code, 'handle', 'SNNMT', { outcome: 'notCompetent', returnReason: 'Vụ việc về an ninh trật tự' });
    expect((await h.case(kase.code)).variables).to.include({ escalationReason: 'not-competent' });
    await h.act(kase.code, 'coordinate', 'coordinator', { decision: 'reassign', toAgency: 'CONG-AN' });
    await h.task(kase.code, 'handle', 'CONG-AN');
    expect((await h.case(kase.code)).variables).to.include({ agency: 'CONG-AN', previousAgency: 'SNNMT' });
  });

  it('Given the agency needs more information, then the citizen gets an SMS, the case waits for the message and resumes with the same agency', async () => {
    const kase = await h.intake({ ...CITIZEN, title: 'Nước sinh hoạt có mùi', field: 'CAP-NUOC' });
    await h.act(kase.code, 'handle', 'CAP-NUOC', { outcome: 'moreInfo', question: 'Xin cho biết số danh bạ khách hàng' });
    const waiting = await h.case(kase.code);
    expect(waiting.tasks).to.deep.equal([]);
    expect((await h.jobs(kase.id, 'sms')).map((j) => j.payload.template)).to.deep.equal(['more-info']);
    expect((await h.jobs(kase.id, 'timer')).map((j) => j.element_id)).to.deep.equal(['infoTimeout']);
    await h.message(kase.code, 'citizen-info', { citizenInfo: 'Số danh bạ 0123456' });
    await h.task(kase.code, 'handle', 'CAP-NUOC');
    expect((await h.case(kase.code)).variables).to.include({ citizenInfo: 'Số danh bạ 0123456' });
    expect(await h.jobs(kase.id, 'timer')).to.satisfy((jobs: any[]) => jobs.every((j) => j.element_id !== 'infoTimeout'));
  });

  it('Given the coordinator sends the answer back, then the agency answers again and the case goes to accountability review', async () => {
    const kase = await h.intake({ ...CITIZEN, title: 'Hóa đơn tiền điện tăng bất thường', field: 'DIEN' });
    await h.act(kase.code, 'handle', 'DIEN-LUC', { outcome: 'answer', answer: 'Đã ghi nhận phản ánh.' + ' Sẽ kiểm tra.' });
    const review = await h.task(kase.code, 'review', 'coordinator');
    await h.complete(review.id, h.keys.coordinator, { reviewDecision: 'sendBack' }, 422); // a send-back needs a comment
    await h.complete(review.id, h.keys.coordinator, { reviewDecision: 'sendBack', reviewComment: 'Chưa trả lời nguyên nhân tăng hóa đơn' });
    await h.task(kase.code, 'handle', 'DIEN-LUC');
    expect((await h.case(kase.code)).variables).to.include({ sentBack: true });
    await h.act(kase.code, 'handle', 'DIEN-LUC', { outcome: 'answer', answer: ANSWER });
    await approveAndRate(kase.code, true);
    await h.act(kase.code, 'accountability', 'reviewer', { finding: 'wrong-answer', findingAgency: 'DIEN-LUC' });
    expect((await h.case(kase.code)).status).to.equal('completed');
  });

  it('Given the citizen is dissatisfied, then the case reopens once to the coordinator; dissatisfied again, it goes to accountability and the finding is recorded', async () => {
    const kase = await h.intake({ ...CITIZEN, title: 'Trường học thu phí sai quy định', field: 'GIAO-DUC' });
    await h.act(kase.code, 'handle', 'SGDDT', { outcome: 'answer', answer: ANSWER });
    await approveAndRate(kase.code, false);
    const coordinate = await h.task(kase.code, 'coordinate', 'coordinator');
    expect((await h.case(kase.code)).variables).to.include({ reopened: true, reopenCount: 1, escalationReason: 'dissatisfied' });
    await h.complete(coordinate.id, h.keys.coordinator, { decision: 'answer', answer: 'VP UBND tỉnh đã chỉ đạo hoàn trả khoản thu sai.' });
    await approveAndRate(kase.code, false); // a second dissatisfaction does not reopen again
    await h.act(kase.code, 'accountability', 'reviewer', { finding: 'irresponsibility', findingAgency: 'SGDDT', findingNote: 'Trả lời không giải quyết đúng yêu cầu' });
    const done = await h.case(kase.code);
    expect(done.status).to.equal('completed');
    const finding = (await h.events(kase.id)).find((e) => e.type === 'task.completed' && e.element_id === 'accountability');
    expect(finding?.payload.output).to.include({ finding: 'irresponsibility', findingAgency: 'SGDDT' });
    expect((await h.jobs(kase.id, 'sms')).map((j) => j.payload.template)).to.deep.equal(['answer', 'answer']);
  });

  it('Given an agency key, when it completes a step meant for the coordinator, then it cannot even see it', async () => {
    const kase = await h.intake({ ...CITIZEN, title: 'Phản ánh kiểm tra quyền', field: 'Y-TE' });
    await h.act(kase.code, 'handle', 'SYT', { outcome: 'answer', answer: ANSWER });
    const review = await h.task(kase.code, 'review', 'coordinator');
    await h.complete(review.id, await h.agency('SYT'), { reviewDecision: 'approve' }, 404);
  });
});

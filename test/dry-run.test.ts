import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline, type Key } from './helpers/scenario.js';
import { ROOT } from './helpers/system.js';

const CITIZEN = { citizenName: 'Lê Thị Mai', citizenPhone: '0911222333', channel: 'call' };
const DIAGRAM = readFileSync(join(ROOT, 'processes', 'complaint-handling.bpmn'), 'utf8');
const ROUTING = readFileSync(join(ROOT, 'processes', 'routing.dmn'), 'utf8');

describe('Dry run: replaying finished cases against a candidate', function () {
  this.timeout(60_000);
  let t: TestDb;
  let h: Hotline;
  let analyst: Key;
  const codes: Record<string, string> = {};

  /** One case through answer → review → rating, as the API records it. */
  async function finish(variables: Record<string, unknown>, classify?: Record<string, unknown>) {
    const kase = await h.intake({ ...CITIZEN, ...variables });
    if (classify) await h.act(kase.code, 'classify', 'operator', classify);
    const handle = (await h.case(kase.code)).tasks[0];
    await h.complete(handle.id, await h.agency(handle.candidateGroups[0]), { outcome: 'answer', answer: 'Đã kiểm tra và xử lý theo quy định.' });
    await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve', publish: true });
    expect((await h.message(kase.code, 'citizen-rating', { satisfied: true })).status).to.equal('completed');
    return kase.code;
  }

  async function counts() {
    const n = async (table: string) => Number((await t.db(table).count('* as n').first())!.n);
    return { cases: await n('cases'), events: await n('case_events'), jobs: await n('jobs'), definitions: await n('definitions'), tasks: await n('tasks') };
  }

  function dryRun(key: string, body: Record<string, unknown>) {
    return h.s.http.post(`/v1/definitions/${key}/dry-run`).set(analyst).send(body);
  }

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
    codes.land = await finish({ title: 'Tranh chấp ranh giới đất', field: 'DAT-DAI' });
    codes.traffic = await finish({ title: 'Ổ gà trên quốc lộ', field: 'GIAO-THONG' });
    // One case that asked the citizen for more information (message through an event-based gateway).
    const asked = await h.intake({ ...CITIZEN, title: 'Công trình lấn hành lang', field: 'XAY-DUNG' });
    await h.act(asked.code, 'handle', 'SXD', { outcome: 'moreInfo', question: 'Công trình ở số nhà nào?' });
    await h.message(asked.code, 'citizen-info', { citizenInfo: 'Số 12, tổ 3' });
    await h.act(asked.code, 'handle', 'SXD', { outcome: 'answer', answer: 'Đã lập biên bản và yêu cầu tháo dỡ.' });
    await h.act(asked.code, 'review', 'coordinator', { reviewDecision: 'approve', publish: true });
    await h.message(asked.code, 'citizen-rating', { satisfied: true });
    codes.asked = asked.code;
    codes.commune = await finish({ title: 'Chậm cấp giấy khai sinh' }, { field: 'TU-PHAP', unit: 'X-LONG-THANH', procedure: 'HT-DANG-KY-KHAI-SINH' });
    // A running case is not replayed: it has no recorded ending to compare with.
    await h.intake({ ...CITIZEN, title: 'Chưa xong', field: 'DAT-DAI' });
  });
  after(() => t.close());

  it('Given the deployed diagram itself as the candidate, then every finished case follows the same path', async () => {
    const res = await dryRun('complaint-handling', { xml: DIAGRAM });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ key: 'complaint-handling', replayed: 4, same: 4, diverged: 0, failed: 0 });
    const land = res.body.cases.find((c: any) => c.code === codes.land);
    expect(land.replayedPath).to.deep.equal(land.recordedPath);
    expect(land.recordedPath).to.include.members(['received', 'route', 'handle', 'review', 'rated']);
  });

  it('Given a routing row sending land complaints to another agency, then only the land case diverges, at its handling task, naming both agencies — and nothing is written', async () => {
    const changed = ROUTING.replace('<outputEntry id="r-dat-dai-agency"><text>"SNNMT"</text>', '<outputEntry id="r-dat-dai-agency"><text>"SXD"</text>');
    expect(changed).not.to.equal(ROUTING);
    const before = await counts();

    const res = await dryRun('routing', { xml: changed });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.candidate).to.deep.equal({ kind: 'dmn', key: 'routing', name: 'Phân luồng phản ánh, kiến nghị Tổng đài 1022' });
    expect(res.body).to.include({ replayed: 4, same: 3, diverged: 1, failed: 0 });
    const land = res.body.cases.find((c: any) => c.code === codes.land);
    expect(land.outcome).to.equal('diverged');
    // The first difference is the routing decision itself; the handling task follows it.
    expect(land.divergence.recorded).to.deep.include({ elementId: 'route', decision: { level: 1, agency: 'SNNMT', answerDays: 10 } });
    expect(land.divergence.replayed).to.deep.include({ elementId: 'route', decision: { level: 1, agency: 'SXD', answerDays: 10 } });
    expect(land.divergence.message).to.contain('SNNMT').and.contain('SXD');
    expect(land.recordedPath[land.divergence.step]).to.equal('route');
    expect(await counts()).to.deep.equal(before);
    // The deployed routing is untouched: a new land case still goes to SNNMT.
    expect((await h.intake({ ...CITIZEN, title: 'Lấn chiếm đất', field: 'DAT-DAI' })).tasks[0].candidateGroups).to.deep.equal(['SNNMT']);
  });

  it('Given a routing row that only shortens the answer deadline, then the case follows the same path but diverges at the decision', async () => {
    const shorter = ROUTING.replace('<outputEntry id="r-dat-dai-days"><text>10</text>', '<outputEntry id="r-dat-dai-days"><text>7</text>');
    expect(shorter).not.to.equal(ROUTING);
    const res = await dryRun('routing', { xml: shorter, cases: [codes.land] });
    const [land] = res.body.cases;
    expect(land.outcome).to.equal('diverged');
    expect(land.replayedPath).to.deep.equal(land.recordedPath);
    expect(land.divergence.replayed.decision).to.include({ answerDays: 7 });
    // The decision is history too: auditors read what the table answered.
    const recorded = await t.db('case_events as e').join('cases as c', 'c.id', 'e.case_id').where({ 'c.code': codes.land, 'e.type': 'decision.evaluated' }).first('e.element_id', 'e.payload');
    expect(recorded).to.deep.equal({ element_id: 'route', payload: { decisionRef: 'route-complaint', result: { level: 1, agency: 'SNNMT', answerDays: 10 } } });
  });

  it('Given the same routing table with its output columns in another order, then every case follows the same path (answers compare as data, not as text)', async () => {
    // Move the "level" column after "answerDays", in the header and in every row.
    const reordered = ROUTING.replace(/(\s*<output id="out-level"[^>]*\/>)((?:\s*<output [^>]*\/>)+)/, '$2$1').replace(
      /(\s*<outputEntry id="[^"]*"><text>[^<]*<\/text><\/outputEntry>)((?:\s*<outputEntry id="[^"]*"><text>[^<]*<\/text><\/outputEntry>){2})/g,
      '$2$1',
    );
    expect(reordered).not.to.equal(ROUTING);
    const res = await dryRun('routing', { xml: reordered });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ replayed: 4, same: 4, diverged: 0 });
  });

  it('Given a diagram whose review step has another id, then each replayed case diverges where it reached review; chosen cases only', async () => {
    const renamed = DIAGRAM.replace(/(\b(?:id|sourceRef|targetRef|bpmnElement)=")review"/g, '$1reviewAnswer"');
    const res = await dryRun('complaint-handling', { xml: renamed, cases: [codes.traffic] });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ replayed: 1, diverged: 1 });
    const [only] = res.body.cases;
    expect(only.code).to.equal(codes.traffic);
    expect(only.divergence.recorded.elementId).to.equal('review');
    expect(only.divergence.replayed.elementId).to.equal('reviewAnswer');
    expect(only.divergence.message).to.contain('"Duyệt nội dung trả lời" (review, for coordinator)');
  });

  it('Given a deadline expression that names a variable no step sets, then the candidate is refused naming it, with the name meant', async () => {
    const typo = DIAGRAM.replace(/(id="review"[^>]*camunda:dueDate="=add working days\(now\(\), )reviewDays/, '$1reviewDay');
    expect(typo).not.to.equal(DIAGRAM);
    const res = await dryRun('complaint-handling', { xml: typo });
    expect(res.status).to.equal(422);
    const problem = res.body.problems.find((p: any) => p.rule === 'feel-unknown-name');
    expect(problem).to.include({ elementId: 'review', severity: 'error' });
    expect(problem.message).to.contain('"reviewDay"').and.to.contain('Did you mean "reviewDays"?');
  });

  it('Given a deadline expression reading a variable only another branch sets, then the replays fail at that step and say which expression; running and unknown cases are listed as skipped', async () => {
    // infoTimedOut is set only when a citizen does not answer in time: known to the process, absent from these cases.
    const typo = DIAGRAM.replace(/(id="review"[^>]*camunda:dueDate="=add working days\(now\(\), )reviewDays/, '$1infoTimedOut');
    expect(typo).not.to.equal(DIAGRAM);
    const running = (await h.intake({ ...CITIZEN, title: 'Đang xử lý', field: 'DAT-DAI' })).code;
    const res = await dryRun('complaint-handling', { xml: typo, cases: [codes.land, running, 'PA0000-ZZZZZ'] });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ replayed: 1, failed: 1 });
    const [land] = res.body.cases;
    expect(land.outcome).to.equal('failed');
    expect(land.divergence.message).to.contain('add working days(now(), infoTimedOut)');
    expect(land.divergence.recorded.elementId).to.equal(land.recordedPath[land.divergence.step]);
    expect(res.body.skipped).to.deep.equal([
      { code: running, reason: 'The case is running: only finished cases have a recorded ending to compare with.' },
      { code: 'PA0000-ZZZZZ', reason: 'No case has this code.' },
    ]);
  });

  it('Given a candidate that does not validate or is another process, then 422 says why; operators may not dry-run', async () => {
    const broken = await dryRun('complaint-handling', { xml: DIAGRAM.replace('camunda:candidateGroups="=agency"', 'camunda:candidateGroups="=agency +"') });
    expect(broken.status).to.equal(422);
    expect(broken.body.problems.some((p: any) => p.rule === 'feel-syntax' && p.elementId === 'handle')).to.equal(true);
    const other = await dryRun('routing', { xml: DIAGRAM });
    expect(other.status).to.equal(422);
    expect(other.body.detail).to.contain('"complaint-handling", not "routing"');
    const bad = await dryRun('complaint-handling', { xml: DIAGRAM, last: 0 });
    expect(bad.status).to.equal(400);
    expect(JSON.stringify(bad.body)).to.contain('/last');
    expect((await h.s.http.post('/v1/definitions/complaint-handling/dry-run').set(h.keys.operator).send({ xml: DIAGRAM })).status).to.equal(403);
  });
  describe('Impact preview: a new version replayed against the open cases of the one it replaces', () => {
    // The overdue timer reading when the case was received: due at once for every case waiting at "handle".
    const TIMER_AT_ONCE = DIAGRAM.replace('<bpmn:timeDate xsi:type="bpmn:tFormalExpression">=dueAt</bpmn:timeDate>', '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">=receivedAt</bpmn:timeDate>');
    // The handling step sent to the agency before a transfer: nobody, for a case that was never transferred.
    const NOBODY = DIAGRAM.replace('camunda:candidateGroups="=agency" camunda:dueDate="=dueAt"', 'camunda:candidateGroups="=previousAgency" camunda:dueDate="=dueAt"');

    it('Given the active diagram itself, then every open case would wait where it is and nothing is risky', async () => {
      const res = await h.s.http.post('/v1/definitions/complaint-handling/impact').set(analyst).send({ xml: DIAGRAM });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ replacesVersion: 1, risky: false, move: 0, timerAtOnce: 0, noCandidateGroup: 0, failed: 0 });
      expect(res.body.openCases).to.be.greaterThan(0);
      expect(res.body.wait).to.equal(res.body.replayed);
      expect(res.body.cases[0].waitingAt).to.include('handle');
    });

    it('Given a version whose overdue timer would fire at once for the open cases, then the preview counts them by element and a deploy is refused unless confirmed with a reason, which the history keeps with the analyst', async () => {
      const preview = await h.s.http.post('/v1/definitions/complaint-handling/impact').set(analyst).send({ xml: TIMER_AT_ONCE });
      expect(preview.body).to.include({ risky: true });
      expect(preview.body.timerAtOnce).to.equal(preview.body.openCases);
      expect(preview.body.problems.map((p: any) => [p.rule, p.elementId])).to.deep.include(['impact-timer-at-once', 'overdue']);

      const before = await counts();
      const refused = await h.s.http.post('/v1/definitions').set(analyst).send({ xml: TIMER_AT_ONCE });
      expect(refused.status).to.equal(422);
      expect(refused.body.problems.some((p: any) => p.rule === 'impact-timer-at-once' && p.elementId === 'overdue')).to.equal(true);
      const noReason = await h.s.http.post('/v1/definitions').set(analyst).send({ xml: TIMER_AT_ONCE, confirm: true });
      expect(noReason.status).to.equal(422);
      expect(noReason.body.errors.map((e: any) => e.path)).to.include('/reason');
      expect(await counts()).to.deep.equal(before);

      const confirmed = await h.s.http.post('/v1/definitions').set(analyst).send({ xml: TIMER_AT_ONCE, confirm: true, reason: 'Đã thống nhất với VP UBND: xử lý ngay hồ sơ tồn' });
      expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(201);
      expect(confirmed.body.impact).to.include({ risky: true });
      const activated = await t.db('case_events').where({ type: 'definition.activated' }).orderBy('id', 'desc').first();
      expect(activated.actor_id).to.equal(analyst.id);
      expect(activated.payload.impact).to.include({ confirmed: true, reason: 'Đã thống nhất với VP UBND: xử lý ngay hồ sơ tồn', timerAtOnce: preview.body.timerAtOnce });
      // Switching back to version 1 is safe: the open cases are still on it.
      expect((await h.s.http.post('/v1/definitions/complaint-handling/active').set(analyst).send({ version: 1 })).status).to.equal(200);
    });

    it('Given a version whose handling task would have no candidate group for the open cases, then the preview says so and a switch to it is refused unless confirmed', async () => {
      const preview = await h.s.http.post('/v1/definitions/complaint-handling/impact').set(analyst).send({ xml: NOBODY });
      expect(preview.body).to.include({ risky: true });
      expect(preview.body.noCandidateGroup).to.be.greaterThan(0);
      expect(preview.body.problems.map((p: any) => [p.rule, p.elementId])).to.deep.include(['impact-no-candidate-group', 'handle']);
      const staged = await h.s.http.post('/v1/definitions').set(analyst).send({ xml: NOBODY, activate: false });
      expect(staged.status, JSON.stringify(staged.body)).to.equal(201);
      const refused = await h.s.http.post('/v1/definitions/complaint-handling/active').set(analyst).send({ version: staged.body.version });
      expect(refused.status).to.equal(422);
      expect(refused.body.problems.some((p: any) => p.rule === 'impact-no-candidate-group')).to.equal(true);
      const confirmed = await h.s.http.post('/v1/definitions/complaint-handling/active').set(analyst).send({ version: staged.body.version, confirm: true, reason: 'Thử nghiệm' });
      expect(confirmed.status).to.equal(200);
      expect((await h.s.http.post('/v1/definitions/complaint-handling/active').set(analyst).send({ version: 1 })).status).to.equal(200);
    });
  });
});

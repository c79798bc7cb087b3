import { expect } from 'chai';
import { openPage, servePages } from './helpers/browser.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { fixture, testSystem, type TestSystem } from './helpers/system.js';

/**
 * Call activities (issue 17, item 4): a quality check deployed once as its
 * own process, called by key from other processes; its task reaches the
 * agency's inbox, its path is in the parent case's history, its result comes
 * back through camunda:out mappings.
 */
describe('Call activities', () => {
  let t: TestDb;
  let s: TestSystem;
  let operator: { Authorization: string };
  let agency: { Authorization: string };
  let coordinator: { Authorization: string };
  let analyst: { Authorization: string };

  /** Version 2 of the quality check: another label, so the pinned call can be told apart. */
  const qualityCheckV2 = fixture('call-quality-check.bpmn').replace('Kiểm tra chất lượng trả lời', 'Kiểm tra chất lượng trả lời (phiên bản 2)');

  before(async function () {
    this.timeout(120_000);
    t = await freshDb();
    s = await testSystem(t.db);
    operator = await s.as('operator');
    agency = await s.as('agency', 'SNNMT', 'Cán bộ Sở Nông nghiệp và Môi trường');
    coordinator = await s.as('coordinator', 'VP-UBND');
    analyst = await s.as('analyst');
    const deploy = async (xml: string) => {
      const res = await s.http.post('/v1/definitions').set(analyst).send({ xml });
      expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
      return res.body;
    };
    expect(await deploy(fixture('call-quality-check.bpmn'))).to.include({ key: 'quality-check', version: 1 });
    await deploy(fixture('call-parent.bpmn'));
    await deploy(fixture('call-pinned.bpmn'));
    // The active quality check is version 2 from here on; call-pinned keeps calling version 1.
    expect(await deploy(qualityCheckV2)).to.include({ key: 'quality-check', version: 2 });
  });
  after(() => t.close());

  async function start(process: string, variables: Record<string, unknown> = {}) {
    const res = await s.http.post('/v1/cases').set(operator).send({ process, variables: { title: 'Phản ánh thử', description: 'Nội dung phản ánh thử.', channel: 'call', ...variables } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  }

  const inboxOf = async (key: { Authorization: string }) => (await s.http.get('/v1/tasks?limit=200').set(key)).body.items as any[];
  const eventsOf = (caseId: string) => t.db('case_events').where({ case_id: caseId }).orderBy('seq').select('type', 'element_id', 'payload');

  describe('Given a process that calls the shared quality check (latest version)', () => {
    let kase: any;
    let checkTask: any;

    before(async () => {
      kase = await start('call-parent', { agency: 'SNNMT' });
      const answer = kase.tasks[0];
      const done = await s.http.post(`/v1/tasks/${answer.id}/complete`).set(agency).send({ answerText: 'Đã sửa đường ống.' });
      expect(done.status, JSON.stringify(done.body)).to.equal(200);
    });

    it('When the parent reaches the call activity, the child’s task lands in the agency inbox under the parent’s case code', async () => {
      const inbox = await inboxOf(agency);
      checkTask = inbox.find((i) => i.caseCode === kase.code && i.elementId === 'qcReview');
      expect(checkTask, JSON.stringify(inbox)).to.not.equal(undefined);
      // The active version (2) was called, with reviewer = agency from the camunda:in mapping.
      expect(checkTask.name).to.equal('Kiểm tra chất lượng trả lời (phiên bản 2)');
      expect(checkTask.candidateGroups).to.deep.equal(['SNNMT']);
      const rows = await t.db('tasks').where({ case_id: kase.id }).pluck('element_id');
      expect(rows).to.deep.equal(['qcReview']);
      const view = await s.http.get(`/v1/cases/${kase.code}`).set(operator);
      expect(view.body.status).to.equal('running');
    });

    it('Then the case history names the child’s process on the child’s events', async () => {
      const events = await eventsOf(kase.id);
      const started = events.find((e: any) => e.type === 'call.started');
      expect(started).to.deep.include({ element_id: 'check' });
      expect(started.payload.called).to.deep.equal({ key: 'quality-check', version: 2 });
      const created = events.find((e: any) => e.type === 'task.created' && e.element_id === 'qcReview');
      expect(created.payload).to.include({ process: 'quality-check', processVersion: 2, calledBy: 'check' });
      const childStart = events.find((e: any) => e.type === 'activity.started' && e.element_id === 'qcStart');
      expect(childStart.payload).to.include({ process: 'quality-check', calledBy: 'check' });
      // The parent's own events carry no process tag.
      expect(events.find((e: any) => e.type === 'activity.started' && e.element_id === 'answer').payload).to.not.have.property('process');
    });

    it('When the agency completes the child’s task through the same API, the child ends and the output mapping reaches the parent', async () => {
      const done = await s.http.post(`/v1/tasks/${checkTask.id}/complete`).set(agency).send({ verdict: 'ok' });
      expect(done.status, JSON.stringify(done.body)).to.equal(200);
      const view = await s.http.get(`/v1/cases/${kase.code}`).set(operator);
      expect(view.body.variables).to.include({ qualityVerdict: 'ok', qualityResult: 'passed', answerText: 'Đã sửa đường ống.' });
      // The child's own variables (text, reviewer, verdict) stay in the child.
      expect(view.body.variables).to.not.have.property('verdict');
      expect(view.body.variables).to.not.have.property('reviewer');
      expect(view.body.tasks.map((x: any) => x.elementId)).to.deep.equal(['close']);
      const events = await eventsOf(kase.id);
      const completed = events.find((e: any) => e.type === 'call.completed');
      expect(completed.payload).to.deep.include({ called: { key: 'quality-check', version: 2 }, variables: ['qualityResult', 'qualityVerdict'] });
      const state = (await t.db('cases').where({ id: kase.id }).first('engine_state')).engine_state;
      expect(state).to.not.have.property('callActivities');
    });

    it('Then the case page’s diagram view shows the child’s diagram and its path', async () => {
      const res = await s.http.get(`/v1/cases/${kase.code}/diagram`).set(coordinator);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.visits).to.include({ answer: 1, check: 1 });
      expect(res.body.visits).to.not.have.property('qcReview');
      expect(res.body.calls).to.have.length(1);
      const call = res.body.calls[0];
      expect(call).to.deep.include({ callActivity: 'check', process: { key: 'quality-check', version: 2 } });
      expect(call.xml).to.contain('id="quality-check"');
      expect(call.visits).to.include({ qcStart: 1, qcReview: 1, qcEnd: 1 });
      expect(call.taken).to.have.members(['qf1', 'qf2']);
      expect(call.active).to.deep.equal([]);
    });

    it('When the parent’s last task is completed, the case ends', async () => {
      const close = (await s.http.get(`/v1/cases/${kase.code}`).set(operator)).body.tasks[0];
      const done = await s.http.post(`/v1/tasks/${close.id}/complete`).set(coordinator).send({});
      expect(done.status, JSON.stringify(done.body)).to.equal(200);
      expect(done.body.caseStatus).to.equal('completed');
    });
  });

  describe('Given the case page in a real browser (headless Chromium) while the called process waits', () => {
    let pages: Awaited<ReturnType<typeof servePages>>;
    before(async function () {
      this.timeout(90_000);
      pages = await servePages(s);
    });
    after(() => pages?.close());

    it('Then the case’s diagram links the call activity to the called process’s diagram below it, whose task waits, and the timeline names the process', async function () {
      this.timeout(90_000);
      const kase = await start('call-parent', { agency: 'SNNMT' });
      expect((await s.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(agency).send({ answerText: 'Đã sửa.' })).status).to.equal(200);
      const page = await openPage(pages.browser, `${pages.base}/ui/cases/${kase.code}`, coordinator.Authorization);
      try {
        expect(await page.locator('#diagram [data-element-id="check"].active').count()).to.equal(1);
        expect(await page.locator('#diagram .call-link').innerText()).to.contain('quality-check');
        const called = page.locator('#calls .called[data-process="quality-check"][data-call-activity="check"]');
        expect(await called.count()).to.equal(1);
        expect(await called.locator('h2').innerText()).to.contain('phiên bản 2').and.contain('Kiểm tra chất lượng');
        expect(await called.locator('[data-element-id="qcStart"].visited').count()).to.equal(1);
        expect(await called.locator('[data-element-id="qcReview"].active').count()).to.equal(1);
        expect(await called.locator('[data-element-id="qcEnd"].visited').count()).to.equal(0);
        const timeline = await page.locator('#timeline li[data-process="quality-check"]').allInnerTexts();
        expect(timeline.some((l) => l.includes('[quality-check] Giao nhiệm vụ: Kiểm tra chất lượng trả lời'))).to.equal(true);
      } finally {
        await page.close();
      }
    });
  });

  describe('Given a call pinned to version 1 with an interrupting timer on the call activity', () => {
    it('Then version 1 runs although version 2 is active, and its task waits in the inbox', async () => {
      const kase = await start('call-pinned', { reviewer: 'SNNMT' });
      expect(kase.tasks.map((x: any) => [x.elementId, x.name])).to.deep.equal([['qcReview', 'Kiểm tra chất lượng trả lời']]);
      const events = await eventsOf(kase.id);
      expect(events.find((e: any) => e.type === 'call.started').payload.called).to.deep.equal({ key: 'quality-check', version: 1 });
    });

    it('When the timer falls due, the child is cancelled with its task and the parent takes the timer path', async () => {
      const kase = await start('call-pinned', { reviewer: 'SNNMT' });
      const jobs = await t.db('jobs').where({ case_id: kase.id, type: 'timer' }).pluck('element_id');
      expect(jobs).to.deep.equal(['late']);
      s.clock.advance(2 * 86_400_000 + 1000);
      await s.executor.drain();
      const view = await s.http.get(`/v1/cases/${kase.code}`).set(operator);
      expect(view.body.tasks.map((x: any) => x.elementId)).to.deep.equal(['escalate']);
      expect((await inboxOf(agency)).filter((i) => i.caseCode === kase.code)).to.deep.equal([]);
      const types = (await eventsOf(kase.id)).map((e: any) => e.type);
      expect(types).to.include.members(['timer.fired', 'call.cancelled']);
      const state = (await t.db('cases').where({ id: kase.id }).first('engine_state')).engine_state;
      expect(state).to.not.have.property('callActivities');
    });

    it('When out variables="all" and the child completes, every child variable reaches the parent', async () => {
      const kase = await start('call-pinned', { reviewer: 'SNNMT' });
      const done = await s.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(agency).send({ verdict: 'rework' });
      expect(done.status, JSON.stringify(done.body)).to.equal(200);
      expect(done.body.caseStatus).to.equal('completed');
      const view = await s.http.get(`/v1/cases/${kase.code}`).set(operator);
      expect(view.body.variables).to.include({ verdict: 'rework', reviewer: 'SNNMT' });
    });
  });

  describe('Given a case whose called process waits, when the case moves to a new version of its own process', () => {
    it('Then the called process keeps running in its version, and its end moves the case on in the new version', async () => {
      const kase = await start('call-parent', { agency: 'SNNMT' });
      expect((await s.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(agency).send({ answerText: 'Đã sửa.' })).status).to.equal(200);
      const v2 = await s.http.post('/v1/definitions').set(analyst).send({ xml: fixture('call-parent.bpmn').replace('name="Đóng hồ sơ"', 'name="Đóng hồ sơ (phiên bản 2)"'), activate: false });
      expect(v2.status, JSON.stringify(v2.body)).to.equal(201);
      const moved = await s.runtime.migrateCase({ code: kase.code, toVersion: v2.body.version, actor: { id: 'test:analyst', name: 'Analyst', roles: ['analyst'], agency: null } });
      expect(moved.outcome).to.equal('migrated');
      const task = (await inboxOf(agency)).find((i) => i.caseCode === kase.code);
      expect(task.elementId).to.equal('qcReview');
      expect((await s.http.post(`/v1/tasks/${task.id}/complete`).set(agency).send({ verdict: 'ok' })).status).to.equal(200);
      const view = await s.http.get(`/v1/cases/${kase.code}`).set(operator);
      expect(view.body.tasks.map((x: any) => x.name)).to.deep.equal(['Đóng hồ sơ (phiên bản 2)']);
      expect(view.body.variables).to.include({ qualityResult: 'passed' });
    });
  });

  describe('Deploy checks the called process', () => {
    it('Given a call activity naming a process that is not deployed, then 422 called-element-unknown naming the element, and nothing is stored', async () => {
      const before = await t.db('definitions').count('* as n').first();
      const res = await s.http.post('/v1/definitions').set(analyst).send({ xml: fixture('bad/call-unknown.bpmn') });
      expect(res.status).to.equal(422);
      const problem = res.body.problems.find((p: any) => p.rule === 'called-element-unknown');
      expect(problem, JSON.stringify(res.body.problems)).to.deep.include({ elementId: 'check', severity: 'error' });
      expect(problem.message).to.contain('kiem-tra-khong-co').and.contain('Kiểm tra chất lượng (phiên bản 1)');
      expect(await t.db('definitions').count('* as n').first()).to.deep.equal(before);
    });

    it('Given a call pinned to a version that does not exist, then 422 called-element-unknown listing the versions', async () => {
      const res = await s.http.post('/v1/definitions').set(analyst).send({ xml: fixture('bad/call-unknown-version.bpmn') });
      expect(res.status).to.equal(422);
      const problem = res.body.problems.find((p: any) => p.rule === 'called-element-unknown');
      expect(problem, JSON.stringify(res.body.problems)).to.deep.include({ elementId: 'check' });
      expect(problem.message).to.contain('version 7').and.contain('1, 2');
    });

    it('Given a call activity calling its own process, then 422 called-element-recursive', async () => {
      const xml = fixture('call-parent.bpmn').replace('calledElement="quality-check"', 'calledElement="call-parent"');
      const res = await s.http.post('/v1/definitions/validate').set(analyst).send({ xml });
      expect(res.status).to.equal(200);
      expect(res.body.problems.map((p: any) => p.rule)).to.include('called-element-recursive');
    });

    it('Given a mapping with a JavaScript-style expression, then it is refused, never run', async () => {
      const xml = fixture('call-parent.bpmn').replace('sourceExpression="=agency"', 'sourceExpression="${agency}"');
      const res = await s.http.post('/v1/definitions/validate').set(analyst).send({ xml });
      expect(res.body.problems.filter((p: any) => p.severity === 'error').map((p: any) => p.rule)).to.include('not-feel');
    });
  });

  describe('Given a called process that itself calls the quality check (two levels)', () => {
    it('Then the innermost task reaches the inbox, and its end moves both processes on', async () => {
      // The middle: call-pinned under another key (calls quality-check version 1, every variable in and out).
      const middle = fixture('call-pinned.bpmn').replace('id="call-pinned-defs"', 'id="call-middle-defs"').replace('id="call-pinned"', 'id="call-middle"');
      const top = fixture('call-parent.bpmn').replace('id="call-parent-defs"', 'id="call-top-defs"').replaceAll('"call-parent"', '"call-top"').replace('calledElement="quality-check"', 'calledElement="call-middle"');
      for (const xml of [middle, top]) {
        const res = await s.http.post('/v1/definitions').set(analyst).send({ xml });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
      }
      const kase = await start('call-top', { agency: 'SNNMT' });
      expect((await s.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(agency).send({ answerText: 'Đã sửa.' })).status).to.equal(200);
      const task = (await inboxOf(agency)).find((i) => i.caseCode === kase.code);
      expect([task.elementId, task.name]).to.deep.equal(['qcReview', 'Kiểm tra chất lượng trả lời']);
      const diagram = await s.http.get(`/v1/cases/${kase.code}/diagram`).set(coordinator);
      expect(diagram.body.calls.map((c: any) => c.process.key).sort()).to.deep.equal(['call-middle', 'quality-check']);
      expect((await s.http.post(`/v1/tasks/${task.id}/complete`).set(agency).send({ verdict: 'ok' })).status).to.equal(200);
      const view = await s.http.get(`/v1/cases/${kase.code}`).set(operator);
      expect(view.body.tasks.map((x: any) => x.elementId)).to.deep.equal(['close']);
      expect(view.body.variables).to.include({ qualityVerdict: 'ok', qualityResult: 'passed' });
      const calls = (await eventsOf(kase.id)).filter((e: any) => e.type === 'call.completed').map((e: any) => e.payload.called.key);
      expect(calls).to.deep.equal(['quality-check', 'call-middle']);
    });
  });

  describe('Given an error boundary event on the call activity and an error end event in the called process', () => {
    before(async () => {
      for (const file of ['call-quality-check-strict.bpmn', 'call-error.bpmn']) {
        const res = await s.http.post('/v1/definitions').set(analyst).send({ xml: fixture(file) });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
      }
    });

    it('When the called process ends at the error end event, the boundary event catches it and the case takes its path', async () => {
      const kase = await start('call-error', { reviewer: 'SNNMT' });
      expect(kase.tasks.map((x: any) => x.elementId)).to.deep.equal(['qsReview']);
      expect((await s.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(agency).send({ verdict: 'rework' })).status).to.equal(200);
      const view = await s.http.get(`/v1/cases/${kase.code}`).set(operator);
      expect(view.body.tasks.map((x: any) => x.elementId)).to.deep.equal(['redo']);
      const error = (await eventsOf(kase.id)).find((e: any) => e.type === 'call.error');
      expect(error.payload.error).to.deep.equal({ code: 'QC-REJECTED', name: 'Không đạt' });
    });

    it('When it ends at its plain end event, the case leaves the call activity by its outgoing flow', async () => {
      const kase = await start('call-error', { reviewer: 'SNNMT' });
      const done = await s.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(agency).send({ verdict: 'ok' });
      expect(done.body.caseStatus).to.equal('completed');
    });
  });

  describe('Given the called process’s task has a form deployed with the called process only', () => {
    it('Then the task is completed with the called version’s form: wrong data 422 naming the field, right data moves the case on', async () => {
      const xml = fixture('call-quality-check.bpmn').replace('camunda:candidateGroups="=reviewer"', 'camunda:candidateGroups="=reviewer" camunda:formKey="quality-check"');
      const form = { type: 'object', additionalProperties: false, required: ['verdict'], properties: { verdict: { type: 'string', enum: ['ok', 'rework'] } } };
      const deployed = await s.http.post('/v1/definitions').set(analyst).send({ xml, forms: { 'quality-check': form } });
      expect(deployed.status, JSON.stringify(deployed.body)).to.equal(201);
      const kase = await start('call-parent', { agency: 'SNNMT' });
      expect((await s.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(agency).send({ answerText: 'Đã sửa.' })).status).to.equal(200);
      const task = (await inboxOf(agency)).find((i) => i.caseCode === kase.code);
      expect(task.elementId).to.equal('qcReview');
      // The task says which form it is completed with: the called version's.
      const shown = await s.http.get(`/v1/tasks/${task.id}`).set(agency);
      expect(shown.status, JSON.stringify(shown.body)).to.equal(200);
      expect(shown.body.form).to.deep.equal(form);
      const wrong = await s.http.post(`/v1/tasks/${task.id}/complete`).set(agency).send({ verdict: 'maybe' });
      expect(wrong.status, JSON.stringify(wrong.body)).to.equal(422);
      expect(JSON.stringify(wrong.body)).to.contain('verdict');
      const right = await s.http.post(`/v1/tasks/${task.id}/complete`).set(agency).send({ verdict: 'rework' });
      expect(right.status, JSON.stringify(right.body)).to.equal(200);
      const view = await s.http.get(`/v1/cases/${kase.code}`).set(operator);
      expect(view.body.variables).to.include({ qualityVerdict: 'rework', qualityResult: 'failed' });
    });
  });
});

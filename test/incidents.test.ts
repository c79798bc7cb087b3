import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { hotlineInBrowser, openPage } from './helpers/browser.js';
import { freshDb, type TestDb } from './helpers/db.js';
import type { Hotline } from './helpers/scenario.js';
import { fixture, testSystem, type TestSystem } from './helpers/system.js';

const operator = { id: 'op', name: 'Tổng đài viên', roles: ['operator'], agency: null };

describe('Runtime guard: an expression that gives nothing holds its timer or task as an incident', () => {
  let t: TestDb;
  let s: TestSystem;
  let coordinator: { Authorization: string; id: string };
  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    await s.definitions.deploy(fixture('timer-boundary.bpmn'), { deployedBy: 'test' });
    coordinator = await s.as('coordinator');
  });
  after(() => t.close());

  it('Given an old case without the variables a timer and a task read, then the timer is held (not fired at once), the task is not created for nobody, and both are incidents visible to coordinators', async () => {
    const started = await s.runtime.startCase({ processKey: 'timer-boundary', variables: {}, actor: operator });
    expect(started.status).to.equal('running');
    // Without the guard the null timer fired at once and the case sat at "escalate".
    expect(await t.db('tasks').where({ case_id: started.caseId })).to.have.length(0);
    expect(await t.db('jobs').where({ case_id: started.caseId, type: 'timer' })).to.have.length(0);
    s.clock.advance(60_000);
    expect(await s.executor.drain()).to.equal(0);
    const events = await t.db('case_events').where({ case_id: started.caseId }).orderBy('seq');
    expect(events.map((e) => e.type)).to.include('incident.opened');
    expect(events.some((e) => e.type === 'timer.fired')).to.equal(false);

    const res = await s.http.get(`/v1/cases/${started.code}/incidents`).set(coordinator);
    expect(res.status).to.equal(200);
    const byKind = Object.fromEntries(res.body.map((i: any) => [i.kind, i]));
    expect(byKind.timer).to.include({ elementId: 'late', expression: '=timeout', yielded: null, status: 'open' });
    expect(byKind.timer.message).to.contain('=timeout');
    expect(byKind.task).to.include({ elementId: 'answer', expression: '=agency', status: 'open' });
    const open = await s.http.get('/v1/incidents?status=open').set(coordinator);
    expect(open.body.map((i: any) => i.caseCode)).to.include(started.code);
    expect((await s.http.get('/v1/incidents').set(await s.as('agency', 'SNNMT'))).status).to.equal(403);
  });

  it('Given a timer whose calendar function fails on the missing variable, then it is held too (not a refused command): the case waits at its task', async () => {
    const xml = fixture('held-timer.bpmn')
      .replace(/id="held-timer"/g, 'id="held-reminder"')
      .replace('bpmnElement="held-timer"', 'bpmnElement="held-reminder"')
      .replace('<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">=timeout</bpmn:timeDuration>', '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">=add working days(dueAt, -2)</bpmn:timeDate>');
    await s.definitions.deploy(xml, { deployedBy: 'test' });
    const started = await s.runtime.startCase({ processKey: 'held-reminder', variables: { agency: 'SNNMT' }, actor: operator });
    expect((await t.db('tasks').where({ case_id: started.caseId })).map((r) => r.element_id)).to.deep.equal(['answer']);
    const [incident] = (await s.http.get(`/v1/cases/${started.code}/incidents`).set(coordinator)).body;
    expect(incident).to.include({ kind: 'timer', elementId: 'late', expression: '=add working days(dueAt, -2)' });
    expect(incident.message).to.contain('failed');
  });

  it('Given the incidents, when a coordinator sets the variables, then the task appears for its agency and the timer is armed from when it started; a value that still gives nothing is refused and changes nothing', async () => {
    const started = await s.runtime.startCase({ processKey: 'timer-boundary', variables: {}, actor: operator });
    const incidents = (await s.http.get(`/v1/cases/${started.code}/incidents`).set(coordinator)).body;
    const task = incidents.find((i: any) => i.kind === 'task');
    const timer = incidents.find((i: any) => i.kind === 'timer');

    const before = await t.db('cases').where({ id: started.caseId }).first();
    const still = await s.http.post(`/v1/incidents/${timer.id}/resolve`).set(coordinator).send({ variables: { timeout: 'soon' } });
    expect(still.status).to.equal(422);
    expect((await t.db('cases').where({ id: started.caseId }).first()).version).to.equal(before.version);

    const fixedTask = await s.http.post(`/v1/incidents/${task.id}/resolve`).set(coordinator).send({ variables: { agency: 'SNNMT' }, comment: 'hồ sơ cũ thiếu cơ quan' });
    expect(fixedTask.status, JSON.stringify(fixedTask.body)).to.equal(200);
    expect(fixedTask.body.incident).to.include({ status: 'resolved', resolvedBy: coordinator.id });
    const rows = await t.db('tasks').where({ case_id: started.caseId });
    expect(rows.map((r) => [r.element_id, r.candidate_groups])).to.deep.equal([['answer', ['SNNMT']]]);

    const fixedTimer = await s.http.post(`/v1/incidents/${timer.id}/resolve`).set(coordinator).send({ variables: { timeout: 'PT1H' } });
    expect(fixedTimer.status, JSON.stringify(fixedTimer.body)).to.equal(200);
    const [job] = await t.db('jobs').where({ case_id: started.caseId, type: 'timer', status: 'pending' });
    expect(job.element_id).to.equal('late');
    s.clock.advance(3_600_000);
    await s.executor.drain();
    expect((await t.db('tasks').where({ case_id: started.caseId })).map((r) => r.element_id)).to.include('escalate');
    const history = (await s.http.get(`/v1/cases/${started.code}/history`).set(coordinator)).body;
    const resolved = (history.events ?? history).filter((e: any) => e.type === 'incident.resolved');
    expect(resolved.map((e: any) => e.actor.id)).to.include(coordinator.id);
    expect((await s.http.get('/v1/incidents?status=open').set(coordinator)).body.map((i: any) => i.caseCode)).to.not.include(started.code);
  });
});

describe('Case page: a held timer or task is shown in Vietnamese on the case (headless Chromium)', function () {
  this.timeout(120_000);
  let close = async () => {};
  let h: Hotline;
  let base: string;
  let browser: Browser;
  before(async () => {
    ({ h, base, browser, close } = await hotlineInBrowser());
    await h.s.definitions.deploy(fixture('held-timer.bpmn'), { deployedBy: 'test' });
  });
  after(() => close());

  it('Given a case whose timer and task are held, when a coordinator opens its page, then both incidents are listed with their expression and the elements are marked', async () => {
    const started = await h.s.runtime.startCase({ processKey: 'held-timer', variables: {}, actor: operator });
    const page = await openPage(browser, `${base}/ui/cases/${started.code}`, h.keys.coordinator.Authorization);
    await page.waitForSelector('#incidents:not([hidden])');
    const items = await page.locator('#incident-list li').allInnerTexts();
    expect(items).to.have.length(2);
    expect(items.join('\n')).to.contain('Hẹn giờ [late] bị giữ').and.to.contain('=timeout').and.to.contain('Công việc [answer] chưa được tạo');
    expect(await page.locator('[data-element-id="late"].has-problem').count()).to.equal(1);
    expect(await page.locator('#timeline li[data-type="incident.opened"]').count()).to.equal(2);
    await page.close();
  });
});

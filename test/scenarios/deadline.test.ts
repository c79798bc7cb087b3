import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';
import { ROOT } from '../helpers/system.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Scenario: the answer deadline passes', () => {
  let t: TestDb;
  let h: Hotline;

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    // Working-day deadlines cannot pass during a test run, so this test deploys the
    // shipped diagram with its deadline expressions shortened — the same kind of
    // change an analyst makes, done to the data only. Everything else is as shipped.
    const shipped = readFileSync(join(ROOT, 'processes', 'complaint-handling.bpmn'), 'utf8');
    const fast = shipped
      .replaceAll('=add working days(now(), answerDays)', '=string(now() + duration("PT3S"))')
      .replaceAll('=add working days(dueAt, -2)', '=string(now() + duration("PT1S"))');
    expect(fast).not.to.equal(shipped);
    const res = await h.s.http.post('/v1/definitions').set(await h.s.as('analyst')).send({ xml: fast, comment: 'test: deadlines in seconds' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
  });
  after(async () => {
    await h.s.executor.stop();
    await t.close();
  });

  it('Given an agency that does not answer, when the job executor runs, then a reminder is sent before the deadline and at the deadline the case escalates to the coordinator, flagged late, and ends in accountability review', async function () {
    this.timeout(30_000);
    const kase = await h.intake({ title: 'Đèn tín hiệu giao thông hỏng', field: 'GIAO-THONG', citizenPhone: '0987000111' });
    const handle = await h.task(kase.code, 'handle', 'SXD');
    expect(new Date(handle.due).getTime() - Date.now()).to.be.within(1000, 4000);
    expect((await h.jobs(kase.id, 'timer')).map((j) => j.element_id).sort()).to.deep.equal(['overdue', 'remind']);

    h.s.executor.start();
    const until = Date.now() + 15_000;
    let coordinate: any[] = [];
    while (Date.now() < until) {
      coordinate = (await h.case(kase.code)).tasks.filter((x) => x.elementId === 'coordinate');
      if (coordinate.length) break;
      await sleep(200);
    }
    await h.s.executor.stop();
    expect(coordinate, 'the coordinator task after the deadline').to.have.length(1);

    const after = await h.case(kase.code);
    expect(after.tasks.map((x) => x.elementId)).to.deep.equal(['coordinate']);
    expect(after.variables).to.include({ late: true, escalated: true, escalationReason: 'overdue' });
    const events = await h.events(kase.id);
    const fired = events.filter((e) => e.type === 'timer.fired').map((e) => e.element_id);
    expect(fired).to.deep.equal(['remind', 'overdue']);
    expect(events.filter((e) => e.type === 'timer.fired').every((e) => e.actor_id === 'system:timer')).to.equal(true);
    expect(events.map((e) => `${e.type}:${e.element_id}`)).to.include('activity.cancelled:handle');
    const reminder = await h.jobs(kase.id, 'notification');
    expect(reminder).to.have.length(1);
    expect(reminder[0]).to.include({ status: 'done' });
    expect(reminder[0].payload).to.include({ template: 'reminder', to: 'SXD' });
    // The agency's overdue task is gone from its inbox.
    const inbox = await h.s.http.get('/v1/tasks').set(await h.agency('SXD'));
    expect(inbox.body.items.map((i: any) => i.caseCode)).not.to.include(kase.code);

    await h.complete(coordinate[0].id, h.keys.coordinator, { decision: 'answer', answer: 'VP UBND tỉnh trả lời: đã sửa đèn tín hiệu.' });
    await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve' });
    await h.message(kase.code, 'citizen-rating', { satisfied: true });
    await h.act(kase.code, 'accountability', 'reviewer', { finding: 'irresponsibility', findingAgency: 'SXD' });
    expect((await h.case(kase.code)).status).to.equal('completed');
  });
});

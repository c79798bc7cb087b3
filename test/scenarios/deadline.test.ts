import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

describe('Scenario: the answer deadline passes', () => {
  let t: TestDb;
  let h: Hotline;

  // The shipped diagram, its working-day deadlines as they are: the node's clock is moved, nobody waits.
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given an agency that does not answer, when the job executor runs, then a reminder is sent before the deadline and at the deadline the case escalates to the coordinator, flagged late, and ends in accountability review', async () => {
    const clock = h.s.clock;
    const calendar = h.s.calendar!;
    const kase = await h.intake({ title: 'Đèn tín hiệu giao thông hỏng', field: 'GIAO-THONG', citizenPhone: '0987000111' });
    const handle = await h.task(kase.code, 'handle', 'SXD');
    // Transport gets 10 working days; the reminder comes 2 working days before.
    const due = new Date(handle.due);
    expect(due.getTime()).to.equal(calendar.addWorkingDays(clock.now(), 10).getTime());
    const remindAt = calendar.addWorkingDays(due, -2);
    const timers = await h.jobs(kase.id, 'timer');
    expect(timers.map((j) => [j.element_id, new Date(j.due_at).toISOString()]).sort()).to.deep.equal([
      ['overdue', due.toISOString()],
      ['remind', remindAt.toISOString()],
    ]);

    // Just before the reminder nothing is due; at it, the agency is reminded and keeps its task.
    clock.set(new Date(remindAt.getTime() - 1000));
    expect(await h.s.executor.drain()).to.equal(0);
    clock.set(remindAt);
    await h.s.executor.drain();
    expect((await h.case(kase.code)).tasks.map((x) => x.elementId)).to.deep.equal(['handle']);
    expect((await h.events(kase.id)).filter((e) => e.type === 'timer.fired').map((e) => e.element_id)).to.deep.equal(['remind']);

    // Just before the deadline the task is still the agency's; at it, the case escalates.
    clock.set(new Date(due.getTime() - 1000));
    expect(await h.s.executor.drain()).to.equal(0);
    clock.set(due);
    await h.s.executor.drain();
    const coordinate = (await h.case(kase.code)).tasks.filter((x) => x.elementId === 'coordinate');
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

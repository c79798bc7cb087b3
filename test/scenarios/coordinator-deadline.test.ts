import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

describe('Scenario: the coordinator reassigns a case with a new deadline', () => {
  let t: TestDb;
  let h: Hotline;

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given a case returned as not competent, when the coordinator reassigns it with a new deadline, then the new agency’s task, its reminder and its overdue timer follow that date; a later reassignment without a date takes the field’s deadline again', async () => {
    const calendar = h.s.calendar!;
    const kase = await h.intake({ title: 'Lấn chiếm vỉa hè', field: 'GIAO-THONG' });
    const first = (await h.case(kase.code)).variables.agency as string;
    await h.act(kase.code, 'handle', first, { outcome: 'notCompetent', returnReason: 'Thuộc thẩm quyền UBND cấp xã' });

    // Friday 20 November 2026: the answer is due at 17:00 Vietnam time that day.
    await h.act(kase.code, 'coordinate', 'coordinator', { decision: 'reassign', toAgency: 'SNNMT', newDueDate: '2026-11-20', coordinationNote: 'Trả lời trước ngày 20/11' });
    const due = '2026-11-20T10:00:00.000Z';
    const handle = await h.task(kase.code, 'handle', 'SNNMT');
    expect(handle.due).to.equal(due);
    const timers = (await h.jobs(kase.id, 'timer')).map((j) => [j.element_id, new Date(j.due_at).toISOString()]).sort();
    expect(timers).to.deep.equal([
      ['overdue', due],
      ['remind', calendar.addWorkingDays(new Date(due), -2).toISOString()],
    ]);
    const after = await h.case(kase.code);
    expect(after.variables.newDueDate ?? null, 'used once, then cleared').to.equal(null);

    // At the new deadline the case escalates, as with any deadline.
    h.s.clock.set(new Date(due));
    await h.s.executor.drain();
    expect((await h.case(kase.code)).tasks.map((x) => x.elementId)).to.deep.equal(['coordinate']);

    // Reassigned again without a date: the field's own deadline (GIAO-THONG: 10 working days) from now.
    await h.act(kase.code, 'coordinate', 'coordinator', { decision: 'reassign', toAgency: 'SXD' });
    expect((await h.task(kase.code, 'handle', 'SXD')).due).to.equal(calendar.addWorkingDays(h.s.clock.now(), 10).toISOString());
  });

  it('Given a new deadline that is not a date, then the coordinator’s form refuses it naming the field and the case is unchanged', async () => {
    const kase = await h.intake({ title: 'Cây đổ chắn đường', field: 'GIAO-THONG' });
    const agency = (await h.case(kase.code)).variables.agency as string;
    await h.act(kase.code, 'handle', agency, { outcome: 'notCompetent', returnReason: 'Không thuộc thẩm quyền' });
    const before = await h.case(kase.code);
    const task = await h.task(kase.code, 'coordinate', 'coordinator');
    const res = await h.s.http.post(`/v1/tasks/${task.id}/complete`).set(h.keys.coordinator).send({ decision: 'reassign', toAgency: 'SNNMT', newDueDate: '20/11/2026' });
    expect(res.status).to.be.oneOf([400, 422]);
    expect(JSON.stringify(res.body.errors)).to.contain('newDueDate');
    expect((await h.case(kase.code)).version).to.equal(before.version);
  });
});

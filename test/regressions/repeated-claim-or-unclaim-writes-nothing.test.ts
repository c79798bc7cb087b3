import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline, type Key } from '../helpers/scenario.js';

/**
 * Black-box check of the agency guide: claiming a task one already holds, or releasing a task nobody holds,
 * answered 200 with the task unchanged but still appended task.claimed / task.unclaimed (previousAssignee null) to
 * the case's history and bumped its version. A command that changes nothing now writes nothing.
 */
describe('Regression: a claim or release that changes nothing writes nothing', () => {
  let t: TestDb;
  let h: Hotline;
  let clerk: Key;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  /** The case's version and its history's event types, as the API shows them. */
  const state = async (code: string) => {
    const history = await h.s.http.get(`/v1/cases/${code}/history`).set(h.keys.auditor);
    expect(history.status).to.equal(200);
    return { version: (await h.case(code)).version, events: (history.body.events as any[]).map((e) => e.type) };
  };

  const openCase = async () => {
    const kase = await h.intake({ title: 'Cống thoát nước bị tắc', field: 'MOI-TRUONG' });
    const task = kase.tasks[0];
    clerk = await h.agency(task.candidateGroups[0]);
    return { code: kase.code, taskId: task.id as string };
  };

  it('Given a task the clerk has claimed, when the clerk claims it again, then 200 with the clerk as assignee, and no event nor new version', async () => {
    const { code, taskId } = await openCase();
    const first = await h.s.http.post(`/v1/tasks/${taskId}/claim`).set(clerk);
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    const before = await state(code);
    expect(before.events.filter((e) => e === 'task.claimed')).to.have.length(1);

    const again = await h.s.http.post(`/v1/tasks/${taskId}/claim`).set(clerk);
    expect(again.status, JSON.stringify(again.body)).to.equal(200);
    expect(again.body.assignee).to.equal(clerk.id);
    expect(await state(code)).to.deep.equal(before);
  });

  it('Given a task nobody has claimed, when the clerk releases it, then 200 with no assignee, and no event nor new version', async () => {
    const { code, taskId } = await openCase();
    const before = await state(code);

    const res = await h.s.http.post(`/v1/tasks/${taskId}/unclaim`).set(clerk);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.assignee).to.equal(null);
    expect(await state(code)).to.deep.equal(before);
    expect(before.events).to.not.include('task.unclaimed');
  });

  it('Given a claim then a release, then each change is still recorded once, the release with the previous assignee', async () => {
    const { code, taskId } = await openCase();
    const before = await state(code);
    expect((await h.s.http.post(`/v1/tasks/${taskId}/claim`).set(clerk)).status).to.equal(200);
    expect((await h.s.http.post(`/v1/tasks/${taskId}/unclaim`).set(clerk)).status).to.equal(200);
    const after = await state(code);
    expect(after.version).to.equal(before.version + 2);
    expect(after.events.slice(before.events.length)).to.deep.equal(['task.claimed', 'task.unclaimed']);
    const history = await h.s.http.get(`/v1/cases/${code}/history`).set(h.keys.auditor);
    const released = (history.body.events as any[]).filter((e) => e.type === 'task.unclaimed').pop();
    expect(released.payload.previousAssignee).to.equal(clerk.id);
  });
});

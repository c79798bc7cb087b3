import { expect } from 'chai';
import { taskAccess, type Caller } from '../engine/hotline/policy.js';
import type { Db } from '../db/connect.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline, type Key } from './helpers/scenario.js';
import { fixture, testSystem, type TestSystem } from './helpers/system.js';

/**
 * Issue 20, "Inbox per agency": a caller in groups reads each of its groups
 * as its own range of task_groups (and its assigned tasks as a range of
 * tasks_assignee_inbox_idx) instead of walking every agency's tasks. The
 * inbox must give exactly what the one-range inbox gave: the tasks the
 * caller may act on (engine/hotline/policy.ts taskAccess), in due order (no
 * due date last), ties by id, each once, across keyset pages and filters.
 * The reference is the overseer's inbox (the unchanged one-range path)
 * filtered with taskAccess.
 */

/** task_groups as it is, and as the tasks rows say it must be, as comparable text. */
async function projection(db: Db): Promise<{ actual: string[]; expected: string[] }> {
  const actual = await db.raw(`select grp || ' ' || task_id || ' ' || due_key::text as line from task_groups order by 1`);
  const expected = await db.raw(
    `select distinct g || ' ' || t.id || ' ' || coalesce(t.due_at, 'infinity'::timestamptz)::text as line
       from tasks t cross join lateral unnest(t.candidate_groups) as g order by 1`,
  );
  return { actual: actual.rows.map((r: any) => r.line), expected: expected.rows.map((r: any) => r.line) };
}

async function expectProjectionFollowsTasks(db: Db): Promise<void> {
  const { actual, expected } = await projection(db);
  expect(actual).to.deep.equal(expected);
}

describe('Inbox per group: each of the caller’s groups is its own range, the answer is the same', () => {
  let t: TestDb;
  let s: TestSystem;
  let operator: Key;
  let coordinator: Key;
  /** In three groups: its agency SYT, and the roles agency and reviewer. */
  let clerk: Key;
  let clerkCaller: Caller;
  let clerk2: Key;
  const ids: Record<string, string> = {};

  async function start(name: string, v: { groups: string[]; due: string | null; assignee?: string; field?: string }) {
    const res = await s.http
      .post('/v1/cases')
      .set(operator)
      .send({ process: 'inbox-groups', variables: { title: `Hộp việc ${name}`, description: `Nội dung ${name}.`, channel: 'call', groups: v.groups, due: v.due, assignee: v.assignee ?? null, field: v.field ?? 'Y-TE' } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    ids[name] = res.body.tasks[0].id;
  }

  /** Every page of an inbox with `limit`, in order, and the number of pages. */
  async function walk(key: Key, query: string, limit: number): Promise<{ items: any[]; pages: number }> {
    const items: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await s.http.get(`/v1/tasks?limit=${limit}${query ? `&${query}` : ''}${cursor ? `&cursor=${cursor}` : ''}`).set(key);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    return { items, pages };
  }

  /** What the one-range inbox gives the clerk: the overseer's inbox, kept to the tasks the clerk may act on. */
  async function reference(query: string): Promise<string[]> {
    const all = (await walk(coordinator, query, 200)).items;
    return all.filter((i) => taskAccess(clerkCaller, { candidate_groups: i.candidateGroups, assignee: i.assignee }) === 'act').map((i) => i.id);
  }

  before(async function () {
    this.timeout(120_000);
    t = await freshDb();
    s = await testSystem(t.db);
    operator = await s.as('operator');
    coordinator = await s.as('coordinator', 'VP-UBND');
    clerk = await s.as(['agency', 'reviewer'], 'SYT', 'Cán bộ Sở Y tế kiêm thẩm định');
    clerkCaller = { id: clerk.id, roles: ['agency', 'reviewer'], agency: 'SYT' };
    clerk2 = await s.as('agency', 'SYT', 'Cán bộ 2 Sở Y tế');
    const analyst = await s.as('analyst');
    const deployed = await s.http.post('/v1/definitions').set(analyst).send({ xml: fixture('inbox-groups.bpmn') });
    expect(deployed.status, JSON.stringify(deployed.body)).to.be.oneOf([200, 201]);

    // Another agency's tasks first in the due order: the one-range inbox walked them all.
    for (let i = 0; i < 6; i++) await start(`sct-early-${i}`, { groups: ['SCT'], due: `2026-11-0${3 + (i % 2)}T0${i}:00:00Z` });
    await start('syt-overdue', { groups: ['SYT'], due: '2026-10-30T10:00:00Z' });
    await start('sct-overdue', { groups: ['SCT'], due: '2026-10-31T10:00:00Z' });
    // Two tasks with the same due date: the id breaks the tie, on every page.
    await start('syt-same-1', { groups: ['SYT'], due: '2026-11-05T10:00:00Z', field: 'GIAO-DUC' });
    await start('syt-same-2', { groups: ['SYT'], due: '2026-11-05T10:00:00Z' });
    // In two of the clerk's groups: one line.
    await start('syt-and-reviewer', { groups: ['SYT', 'reviewer'], due: '2026-11-04T10:00:00Z' });
    await start('reviewer-only', { groups: ['reviewer'], due: '2026-11-06T10:00:00Z', field: 'GIAO-DUC' });
    // Another agency's task assigned to the clerk: there only through the assignee.
    await start('sct-assigned', { groups: ['SCT'], due: '2026-11-04T12:00:00Z', assignee: clerk.id });
    await start('syt-claimed-by-clerk', { groups: ['SYT'], due: '2026-11-07T10:00:00Z' });
    await start('syt-claimed-by-other', { groups: ['SYT'], due: '2026-11-08T10:00:00Z' });
    await start('syt-sct-no-due', { groups: ['SYT', 'SCT'], due: null });
    await start('syt-no-due', { groups: ['SYT'], due: null });
    await start('sct-no-due', { groups: ['SCT'], due: null });
    expect((await s.http.post(`/v1/tasks/${ids['syt-claimed-by-clerk']}/claim`).set(clerk)).status).to.equal(200);
    expect((await s.http.post(`/v1/tasks/${ids['syt-claimed-by-other']}/claim`).set(clerk2)).status).to.equal(200);
  });
  after(() => t.close());

  it('Given a clerk in three groups, a task in two of them and tasks assigned to it, when it pages through its inbox 2 at a time, then it gets the one-range inbox’s tasks in its order, each once', async () => {
    const expected = await reference('');
    const names = Object.fromEntries(Object.entries(ids).map(([k, v]) => [v, k]));
    expect(expected.map((id) => names[id])).to.deep.equal([
      'syt-overdue',
      'syt-and-reviewer',
      'sct-assigned',
      ...['syt-same-1', 'syt-same-2'].sort((a, b) => (ids[a] < ids[b] ? -1 : 1)),
      'reviewer-only',
      'syt-claimed-by-clerk',
      'syt-claimed-by-other',
      ...['syt-sct-no-due', 'syt-no-due'].sort((a, b) => (ids[a] < ids[b] ? -1 : 1)),
    ]);
    for (const limit of [1, 2, 3, 50]) {
      const { items, pages } = await walk(clerk, '', limit);
      expect(items.map((i) => i.id), `limit ${limit}`).to.deep.equal(expected);
      expect(pages, `limit ${limit}`).to.equal(Math.max(1, Math.ceil(expected.length / limit)));
    }
  });

  it('Given the same clerk, when it filters by overdue, state, field, text and due date, then each page set equals the one-range inbox with the same filter', async () => {
    for (const query of ['overdue=false', 'overdue=true', 'state=open', 'state=claimed', 'field=GIAO-DUC', 'q=same', `dueBefore=${encodeURIComponent('2026-11-05T12:00:00Z')}`, 'overdue=false&state=claimed']) {
      const expected = await reference(query);
      expect(expected.length, query).to.be.greaterThan(0);
      expect((await walk(clerk, query, 2)).items.map((i) => i.id), query).to.deep.equal(expected);
    }
  });

  it('Given a task claimed by the clerk in its group, when the clerk releases it, then it stays in the group’s inbox and the projection still matches the tasks', async () => {
    await expectProjectionFollowsTasks(t.db);
    expect((await s.http.post(`/v1/tasks/${ids['syt-claimed-by-clerk']}/unclaim`).set(clerk)).status).to.equal(200);
    expect((await walk(clerk, '', 50)).items.map((i) => i.id)).to.include(ids['syt-claimed-by-clerk']);
    await expectProjectionFollowsTasks(t.db);
  });

  it('Given a task in the clerk’s inbox, when it is completed, then its projection rows are gone and it leaves the inbox', async () => {
    const id = ids['syt-and-reviewer'];
    expect(await t.db('task_groups').where({ task_id: id }).pluck('grp')).to.have.members(['SYT', 'reviewer']);
    expect((await s.http.post(`/v1/tasks/${id}/complete`).set(clerk).send({})).status).to.equal(200);
    expect(await t.db('task_groups').where({ task_id: id })).to.deep.equal([]);
    const items = (await walk(clerk, '', 2)).items.map((i) => i.id);
    expect(items).not.to.include(id);
    expect(items).to.deep.equal(await reference(''));
    await expectProjectionFollowsTasks(t.db);
  });

  it('Given a task row whose due date and groups are changed in place (a repair), then the projection follows and the inbox order with it', async () => {
    const id = ids['syt-no-due'];
    // The application writes task rows once and deletes them; only a repair changes one in place, and the triggers still hold.
    await t.db('tasks').where({ id }).update({ due_at: new Date('2026-10-01T00:00:00Z') });
    await expectProjectionFollowsTasks(t.db);
    expect((await walk(clerk, '', 2)).items[0].id).to.equal(id);
    await t.db('tasks').where({ id }).update({ candidate_groups: ['SCT'] });
    await expectProjectionFollowsTasks(t.db);
    expect((await walk(clerk, '', 2)).items.map((i) => i.id)).not.to.include(id);
    expect((await walk(clerk, '', 2)).items.map((i) => i.id)).to.deep.equal(await reference(''));
  });
});

describe('Inbox per group on the shipped diagram: a transfer moves the task between the agencies’ ranges', () => {
  let t: TestDb;
  let h: Hotline;

  before(async function () {
    this.timeout(120_000);
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given a handling task of SYT, when SYT transfers it to SCT, then SYT’s inbox loses it, SCT’s gains the new task, and task_groups matches the tasks', async () => {
    const syt = await h.agency('SYT');
    const sct = await h.agency('SCT');
    const kase = await h.intake({ title: 'Ngộ độc thực phẩm tại bếp ăn', field: 'Y-TE' });
    const first = await h.task(kase.code, 'handle', 'SYT');
    expect(await t.db('task_groups').where({ task_id: first.id }).pluck('grp')).to.deep.equal(['SYT']);
    const inboxIds = async (key: Key) => ((await h.s.http.get('/v1/tasks?limit=200').set(key)).body.items as any[]).map((i) => i.id);
    expect(await inboxIds(syt)).to.include(first.id);

    const res = await h.s.http.post(`/v1/tasks/${first.id}/transfer`).set(syt).send({ toAgency: 'SCT', reason: 'An toàn thực phẩm tại cơ sở công nghiệp' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const next = await h.task(kase.code, 'handle', 'SCT');
    expect(await t.db('task_groups').where({ task_id: first.id })).to.deep.equal([]);
    expect(await t.db('task_groups').where({ task_id: next.id }).pluck('grp')).to.deep.equal(['SCT']);
    expect(await inboxIds(syt)).not.to.include(first.id);
    expect(await inboxIds(sct)).to.include(next.id);
    await expectProjectionFollowsTasks(t.db);
  });
});

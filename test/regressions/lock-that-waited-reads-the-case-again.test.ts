import { expect } from 'chai';
import type { Knex } from 'knex';
import type { Db } from '../../db/connect.js';
import { lockCase, lockCaseOfTask, touchCase, updateCase } from '../../db/cases.js';
import { setAssignee } from '../../db/tasks.js';
import { appendEvents } from '../../engine/history.js';
import { retryIncidentJob } from '../../engine/jobs.js';
import { freshDb, ON_POSTGRES, type TestDb } from '../helpers/db.js';
import { fixture, testSystem, type TestSystem } from '../helpers/system.js';

/**
 * Two clerks claimed one task at once: the second claim answered 500 (a
 * duplicate key in the history) instead of 409. A command's lock statement
 * (db/cases.ts) locks the case row FOR UPDATE and reads its tasks and history
 * head beside it; in READ COMMITTED a lock that waits returns the row as the
 * other command committed it, but reads the rest in the snapshot from before
 * that commit — the task still unclaimed, the head one event short. The lock
 * now notices (the row's xmin against its snapshot's) and reads again under
 * the lock it holds. Commands that add history without changing the row
 * touch it (touchCase), or the waiting lock could not notice.
 *
 * PostgreSQL only: embedded PGlite has one connection, nothing waits.
 */
describe('Regression: a command lock that waited behind another command reads the case as that command left it', function () {
  if (!ON_POSTGRES) return;
  let t: TestDb;
  let s: TestSystem;
  let other: Db;

  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    other = t.another();
    await s.definitions.deploy(fixture('simple.bpmn'), { deployedBy: 'test' });
  });
  after(() => t.close());

  const newCase = async () => {
    const operator = await s.as('operator');
    const res = await s.http.post('/v1/cases').set(operator).send({ process: 'simple', variables: { title: 'Phản ánh thử', description: 'Nội dung phản ánh.', channel: 'call', agency: 'SNNMT' } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return { id: res.body.id as string, taskId: res.body.tasks[0].id as string };
  };

  /** Run `second` on another connection while `first` holds the case lock; commit `first` once `second` waits for it. */
  async function behind<T>(first: (trx: Knex.Transaction) => Promise<void>, second: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    const trx1 = await t.db.transaction();
    await first(trx1);
    const trx2 = await other.transaction();
    const waiting = second(trx2);
    // Until the second statement waits for the first transaction's lock (no sleep: PostgreSQL says so).
    for (;;) {
      const { rows } = await t.db.raw(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
      if (rows[0].n > 0) break;
      await new Promise((r) => setImmediate(r));
    }
    await trx1.commit();
    try {
      return await waiting;
    } finally {
      await trx2.rollback();
    }
  }

  it('Given a claim committed while a task command waited for the lock, then the waiting lock sees the task claimed and the history head moved', async () => {
    const { id, taskId } = await newCase();
    let headAfter = -1;
    const locked = await behind(
      async (trx) => {
        const row = (await lockCase(trx, id))!;
        await setAssignee(trx, taskId, 'key:clerk-1');
        await appendEvents(trx, id, [{ type: 'task.claimed', elementId: 'approve', payload: { taskId }, actor: { id: 'key:clerk-1', name: 'Cán bộ 1', roles: ['agency'], agency: 'SNNMT' } }], s.clock, { head: row.head });
        await updateCase(trx, id, { version: row.version + 1 });
        headAfter = row.head!.seq + 1;
      },
      (trx) => lockCaseOfTask(trx, taskId),
    );
    expect(locked!.tasks.find((task) => task.id === taskId)?.assignee).to.equal('key:clerk-1');
    expect(locked!.head?.seq).to.equal(headAfter);
  });

  it('Given an event of its own added to the history (a touched row) while a command waited, then the waiting lock sees the new head', async () => {
    const { id } = await newCase();
    let headAfter = -1;
    const locked = await behind(
      async (trx) => {
        const row = (await lockCase(trx, id))!;
        await appendEvents(trx, id, [{ type: 'personal-data.viewed', payload: {}, actor: { id: 'key:auditor', name: 'Kiểm tra', roles: ['auditor'], agency: null } }], s.clock, { head: row.head });
        await touchCase(trx, id);
        headAfter = row.head!.seq + 1;
      },
      (trx) => lockCase(trx, id),
    );
    expect(locked!.head?.seq).to.equal(headAfter);
  });

  it('Given the runtime records a case event, then it touches the case row (its xmin changes, its version does not)', async () => {
    const { id } = await newCase();
    const before = await t.db('cases').where({ id }).first(t.db.raw('xmin::text as xmin'), 'version');
    await s.runtime.recordCaseEvent({ caseId: id, type: 'personal-data.viewed', actor: { id: 'key:auditor', name: 'Kiểm tra', roles: ['auditor'], agency: null } });
    const after = await t.db('cases').where({ id }).first(t.db.raw('xmin::text as xmin'), 'version');
    expect(after.xmin).to.not.equal(before.xmin);
    expect(after.version).to.equal(before.version);
  });

  it('Given a job that became an incident is sent again, then the case row is touched too (its xmin changes, its version does not)', async () => {
    const { id } = await newCase();
    const [job] = await t.db('jobs').insert({ type: 'sms', case_id: id, element_id: 'approve', payload: {}, due_at: s.clock.now(), status: 'incident', attempts: 5, max_attempts: 5, last_error: 'nhà mạng từ chối' }).returning('id');
    const before = await t.db('cases').where({ id }).first(t.db.raw('xmin::text as xmin'), 'version');
    await retryIncidentJob(s.db, s.clock, String(job.id), { id: 'key:coordinator', name: 'Điều phối', roles: ['coordinator'], agency: 'VP-UBND' });
    const after = await t.db('cases').where({ id }).first(t.db.raw('xmin::text as xmin'), 'version');
    expect(after.xmin).to.not.equal(before.xmin);
    expect(after.version).to.equal(before.version);
  });

  it('Given two clerks of one agency claim one task at once, then one gets it and the other 409, with one claim in the history', async () => {
    const { id, taskId } = await newCase();
    const clerk1 = await s.as('agency', 'SNNMT', 'Cán bộ 1');
    const clerk2 = await s.as('agency', 'SNNMT', 'Cán bộ 2');
    const answers = await Promise.all([s.http.post(`/v1/tasks/${taskId}/claim`).set(clerk1), s.http.post(`/v1/tasks/${taskId}/claim`).set(clerk2)]);
    expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 409]);
    expect(await t.db('case_events').where({ case_id: id, type: 'task.claimed' })).to.have.length(1);
  });
});

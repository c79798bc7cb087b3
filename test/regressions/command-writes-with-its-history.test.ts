import { expect } from 'chai';
import type { Actor } from '../../engine/actor.js';
import { DeferredWrites } from '../../db/deferred.js';
import { deleteTasks } from '../../db/tasks.js';
import { appendEvents } from '../../engine/history.js';
import { freshDb, statementsDuring, type TestDb } from '../helpers/db.js';
import { fixture, testSystem, type TestSystem } from '../helpers/system.js';

/**
 * Issue 20: after its lock, a task completion sent each write on its own
 * round trip (task rows deleted, task rows inserted, timer jobs deleted, the
 * hotline's events, the history, the case row): six on the shipped diagram,
 * 0.5–1.5 ms each. The writes whose results the command does not read are now
 * held (db/deferred.ts) and sent with the history in one statement; they
 * stand or fall with it. The hotline's events (with their webhook deliveries
 * and deadline jobs) too: the completion's only write after its lock.
 */
describe('Regression: a command sends the writes it does not read back with its history, in one statement', () => {
  let t: TestDb;
  let s: TestSystem;
  const operator: Actor = { id: 'test:operator', name: 'Tổng đài viên', roles: ['operator'], agency: null };
  const agency: Actor = { id: 'test:agency', name: 'Sở NN&MT', roles: ['agency'], agency: 'SNNMT' };
  const intake = { title: 'Phản ánh thử', description: 'Nội dung.', channel: 'call', agency: 'SNNMT', timeout: 'P1D' };

  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    await s.definitions.deploy(fixture('timer-boundary.bpmn'), { deployedBy: 'test' });
  });
  after(() => t.close());

  /** The data-modifying statements a command sends inside its transaction. */
  const writesOf = (fn: () => Promise<unknown>) => statementsDuring(t.db, fn, (q) => Boolean(q.__knexTxId) && /^(insert|update|delete|with)\b/.test(String(q.sql)));

  it('Given a waiting task with a boundary timer, when it is completed, then the task row, the timer job, the case row and the history are written by one statement', async () => {
    const started = await s.runtime.startCase({ processKey: 'timer-boundary', variables: intake, actor: operator });
    const task = await t.db('tasks').where({ case_id: started.caseId }).first();
    const writes = await writesOf(() => s.runtime.completeTask({ taskId: task.id, output: {}, actor: agency }));
    const withHistory = writes.filter((q) => /insert into "case_events"/.test(q));
    expect(withHistory).to.have.length(1);
    expect(withHistory[0]).to.match(/delete from "tasks"/);
    expect(withHistory[0]).to.match(/delete from "jobs"/);
    expect(withHistory[0]).to.match(/update "cases"/);
    // It is the command's only write after its lock.
    expect(writes, writes.join('\n')).to.have.length(1);
    expect(await t.db('tasks').where({ id: task.id })).to.have.length(0);
    expect(await t.db('jobs').where({ case_id: started.caseId, type: 'timer', status: 'pending' })).to.have.length(0);
    const row = await t.db('cases').where({ id: started.caseId }).first('status', 'version');
    expect(row).to.deep.equal({ status: 'completed', version: started.version + 1 });
    const verify = await s.http.get(`/v1/history/verify?case=${started.code}`).set(await s.as('auditor'));
    expect(verify.body.ok, JSON.stringify(verify.body)).to.equal(true);
  });

  it('Given a new case, when it starts, then its case row, task row, timer job and hotline event go in with its history: one write', async () => {
    const writes = await writesOf(() => s.runtime.startCase({ processKey: 'timer-boundary', variables: intake, actor: operator }));
    // The case row is held too (issue 20: it was a round trip of its own); the rows referencing it are checked when the statement ends.
    expect(writes, writes.join('\n')).to.have.length(1);
    for (const table of ['cases', 'case_events', 'tasks', 'jobs', 'hotline_events']) expect(writes[0]).to.include(`insert into "${table}"`);
  });

  it('Given a new case whose start queues an SMS, then its case row goes first (the SMS job references it, and the job id goes into the history), the rest with the history', async () => {
    await s.definitions.deploy(fixture('sms-at-intake.bpmn'), { deployedBy: 'test' });
    let started: any;
    const writes = await writesOf(async () => {
      started = await s.runtime.startCase({ processKey: 'sms-at-intake', variables: { ...intake, citizenPhone: '0900000001' }, actor: operator });
    });
    expect(writes[0]).to.match(/^insert into "cases"/);
    expect(writes[1]).to.match(/^insert into "jobs"/);
    expect(writes.filter((q) => /insert into "cases"/.test(q)), 'the case row once').to.have.length(1);
    const queued = await t.db('case_events').where({ case_id: started.caseId, type: 'sms.queued' }).first();
    expect(await t.db('jobs').where({ id: queued.payload.jobId, case_id: started.caseId, type: 'sms' })).to.have.length(1);
    expect(await t.db('tasks').where({ case_id: started.caseId })).to.have.length(1);
  });

  it('Given held writes and a history that refuses its rows (a stale head), then none of the held writes is made', async () => {
    const started = await s.runtime.startCase({ processKey: 'timer-boundary', variables: intake, actor: operator });
    const task = await t.db('tasks').where({ case_id: started.caseId }).first();
    const events = await t.db('case_events').where({ case_id: started.caseId }).orderBy('seq');
    const stale = { seq: events.length - 1, hash: events[events.length - 2].hash };
    // A later time: the same seq at the same time would already be refused by the table's unique (case_id, seq, at).
    s.clock.advance(60_000);
    let refused: unknown;
    try {
      await t.db.transaction(async (trx) => {
        const held = new DeferredWrites(trx);
        await deleteTasks(held, [task.id]);
        await appendEvents(trx, started.caseId, [{ type: 'comment.added', payload: { text: 'không được ghi' }, actor: agency }], s.clock, { head: stale, held });
      });
    } catch (err) {
      refused = err;
    }
    expect(String(refused)).to.match(/do not continue its head/);
    expect(await t.db('tasks').where({ id: task.id })).to.have.length(1);
    expect(await t.db('case_events').where({ case_id: started.caseId })).to.have.length(events.length);
  });

  it('Given held writes and no event to append, then they are sent on their own', async () => {
    const started = await s.runtime.startCase({ processKey: 'timer-boundary', variables: intake, actor: operator });
    const task = await t.db('tasks').where({ case_id: started.caseId }).first();
    await t.db.transaction(async (trx) => {
      const held = new DeferredWrites(trx);
      await deleteTasks(held, [task.id]);
      await appendEvents(trx, started.caseId, [], s.clock, { held });
      expect(held.size).to.equal(0);
    });
    expect(await t.db('tasks').where({ id: task.id })).to.have.length(0);
  });
});

import { expect } from 'chai';
import type { Actor } from '../../engine/actor.js';
import { appendEvents } from '../../engine/history.js';
import { freshDb, statementsDuring, type TestDb } from '../helpers/db.js';
import { fixture, testSystem, type TestSystem } from '../helpers/system.js';

/**
 * Issue 20: a round trip to the database costs 0.3–0.6 ms on the benchmark
 * machine, so a command reads what it needs of its case with the lock, in one
 * statement (db/cases.ts lockCase: the row, its task rows, timer jobs, whether
 * it has open incidents, its history head), and a new case is written once.
 * The history head read with the lock is only used if it still is the head:
 * insertEvents refuses rows that do not continue it, so a plug-in that wrote
 * to the chain in between (the calendar-fallback flag did) fails loudly
 * instead of forking the chain.
 */
describe('Regression: a command reads its case in one round trip and never forks the history with a stale head', () => {
  let t: TestDb;
  let s: TestSystem;
  const operator: Actor = { id: 'test:operator', name: 'Tổng đài viên', roles: ['operator'], agency: null };
  const agency: Actor = { id: 'test:agency', name: 'Sở NN&MT', roles: ['agency'], agency: 'SNNMT' };

  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    await s.definitions.deploy(fixture('timer-boundary.bpmn'), { deployedBy: 'test' });
  });
  after(() => t.close());

  /** The statements a command sends inside its transaction. */
  const statementsOf = (fn: () => Promise<unknown>) => statementsDuring(t.db, fn, (q) => Boolean(q.__knexTxId));
  // Reads of the case's own rows other than the lock statement itself (which selects them as subqueries).
  const separateReads = (sqls: string[]) => sqls.filter((q) => !/for update/.test(q) && (/^select .* from "(tasks|jobs|incidents|history_heads|case_events|subscriptions)"/s.test(q) || /^select "definition_id" from "cases"/.test(q)));

  it('Given a new case, when it starts, then its row is inserted once (no update) and nothing of it is read back', async () => {
    const sqls = await statementsOf(() => s.runtime.startCase({ processKey: 'timer-boundary', variables: { title: 'Phản ánh thử', description: 'Nội dung.', channel: 'call', agency: 'SNNMT', timeout: 'P1D' }, actor: operator }));
    expect(sqls.filter((q) => /insert into "cases"/.test(q))).to.have.length(1);
    expect(sqls.filter((q) => /^update "cases"/.test(q))).to.have.length(0);
    expect(separateReads(sqls)).to.deep.equal([]);
  });

  it('Given an agency subscribed to task.created, when a case starts, then its events, the delivery and the deadline job are one statement (no subscriptions read)', async () => {
    await t.db('subscriptions').insert({ url: 'https://sonnmt.example/hook', events: ['task.created'], agency: 'SNNMT', secret: 'whsec_test', created_by: 'test', created_at: s.clock.now() });
    const sqls = await statementsOf(() => s.runtime.startCase({ processKey: 'timer-boundary', variables: { title: 'Phản ánh thử', description: 'Nội dung.', channel: 'call', agency: 'SNNMT', timeout: 'P1D' }, actor: operator }));
    expect(separateReads(sqls)).to.deep.equal([]);
    expect(sqls.filter((q) => /hotline_events/.test(q))).to.have.length(1);
    const created = await t.db('hotline_events').where({ type: 'task.created' }).orderBy('id', 'desc').first();
    const deliveries = await t.db('jobs').where({ type: 'webhook' }).whereRaw(`payload->>'eventId' = ?`, [String(created.id)]);
    expect(deliveries, 'one delivery for the subscriber').to.have.length(1);
    expect(await t.db('jobs').where({ type: 'task-deadline' }).whereRaw(`payload->>'taskId' = ?`, [String(created.data.taskId)])).to.have.length(1);
  });

  it('Given a waiting task with a timer, when it is completed, then the lock brings the task rows, timer jobs, incidents and history head (no separate read)', async () => {
    const started = await s.runtime.startCase({ processKey: 'timer-boundary', variables: { title: 'Phản ánh thử', description: 'Nội dung.', channel: 'call', agency: 'SNNMT', timeout: 'P1D' }, actor: operator });
    const task = await t.db('tasks').where({ case_id: started.caseId }).first();
    expect(await t.db('jobs').where({ case_id: started.caseId, type: 'timer', status: 'pending' })).to.have.length(1);
    const sqls = await statementsOf(() => s.runtime.completeTask({ taskId: task.id, output: {}, actor: agency }));
    // The task-row check against the history (issue 16) reads the task events: that read is the check itself.
    expect(separateReads(sqls).filter((q) => !/from "case_events" where "case_id" in/.test(q))).to.deep.equal([]);
    expect(await t.db('jobs').where({ case_id: started.caseId, type: 'timer', status: 'pending' })).to.have.length(0);
    const verify = await s.http.get(`/v1/history/verify?case=${started.code}`).set(await s.as('auditor'));
    expect(verify.status, JSON.stringify(verify.body)).to.equal(200);
    expect(verify.body.ok, JSON.stringify(verify.body)).to.equal(true);
  });

  it('Given a head read before another event was appended, when events are appended with that head, then they are refused and the chain is unchanged', async () => {
    const started = await s.runtime.startCase({ processKey: 'timer-boundary', variables: { title: 'Phản ánh thử', description: 'Nội dung.', channel: 'call', agency: 'SNNMT', timeout: 'P1D' }, actor: operator });
    const before = await t.db('case_events').where({ case_id: started.caseId }).orderBy('seq');
    const stale = { seq: before[before.length - 1].seq, hash: before[before.length - 1].hash };
    await t.db.transaction((trx) => appendEvents(trx, started.caseId, [{ type: 'comment.added', payload: { text: 'một' }, actor: agency }], s.clock, { head: stale }));
    // A later time: the same seq at the same time would already be refused by the table's unique (case_id, seq, at).
    s.clock.advance(60_000);
    let refused: unknown;
    try {
      await t.db.transaction((trx) => appendEvents(trx, started.caseId, [{ type: 'comment.added', payload: { text: 'hai' }, actor: agency }], s.clock, { head: stale }));
    } catch (err) {
      refused = err;
    }
    expect(String(refused)).to.match(/do not continue its head/);
    const after = await t.db('case_events').where({ case_id: started.caseId }).orderBy('seq');
    expect(after.map((e) => e.seq)).to.deep.equal([...before.map((e) => e.seq), stale.seq + 1]);
    expect(after[after.length - 1].payload.text).to.equal('một');
  });
});

import { expect } from 'chai';
import { buildContext, newEngine, parseBpmn } from '../../engine/bpmn.js';
import { freshDb, statementsDuring, type TestDb } from '../helpers/db.js';
import { Hotline, type Key } from '../helpers/scenario.js';
import { fixture } from '../helpers/system.js';

/**
 * Issue 20, two costs a profile of the benchmarks found:
 *
 * - POST /v1/tasks/{id}/complete (and claim, unclaim) read the task before the
 *   command, which reads it again under the case's lock: one round trip per
 *   completion for nothing on the way that succeeds. The command now runs
 *   first; only when it refuses does the route look at the task, so that a
 *   task the caller may not see still answers 404 and never reveals itself.
 * - bpmn-engine's default Logger made three `debug` instances per element of
 *   every engine (each asks whether stderr is a terminal): 3.4 ms to build the
 *   shipped diagram's engine with its elements, 1.1 ms with one Logger per
 *   element type (engine/bpmn.ts sharedLogger).
 * - Every request read the catalogue's version row (is this node's copy
 *   current?) and then the API key: one read now (db/keys.ts activeKeyByHash).
 */
describe('Regression: a task command is not preceded by a read of its task, and engines share their loggers', () => {
  let t: TestDb;
  let h: Hotline;
  let clerk: Key;
  let stranger: Key;

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    clerk = await h.s.as('agency', 'SYT', 'Cán bộ Sở Y tế');
    stranger = await h.s.as('agency', 'SGDDT', 'Cán bộ Sở GD&ĐT');
  });
  after(() => t.close());

  /** The statements sent outside any transaction while `fn` runs (authentication and reads a route makes itself). */
  const readsOutsideTheCommand = (fn: () => Promise<unknown>) => statementsDuring(t.db, fn, (q) => !q.__knexTxId);

  it('Given an open task of the caller’s agency, when it is completed, then no statement outside the command reads the task, and the key and the catalogue version are one read', async () => {
    const kase = await h.intake({ title: 'Bệnh viện thu tiền sai quy định', field: 'Y-TE' });
    const taskId = kase.tasks[0].id as string;
    let status = 0;
    const outside = await readsOutsideTheCommand(async () => {
      status = (await h.s.http.post(`/v1/tasks/${taskId}/complete`).set(clerk).send({ outcome: 'answer', answer: 'Đã kiểm tra và trả lời công dân.' })).status;
    });
    expect(status).to.equal(200);
    expect(outside.filter((sql) => /from "tasks"/.test(sql))).to.deep.equal([]);
    // The API key and the catalogue's version (is this node's copy current?) are one read.
    expect(outside, outside.join('\n')).to.have.length(1);
    expect(outside[0]).to.match(/"reference_version"/).and.to.match(/"api_keys"/);
  });

  it('Given a task of another agency, when a stranger completes or claims it, then 404 as for a task that does not exist, and the case is unchanged', async () => {
    const kase = await h.intake({ title: 'Thuốc giả bán tại nhà thuốc', field: 'Y-TE' });
    const taskId = kase.tasks[0].id as string;
    const before = await t.db('cases').where({ code: kase.code }).first('version', 'engine_state');
    const completed = await h.s.http.post(`/v1/tasks/${taskId}/complete`).set(stranger).send({ outcome: 'answer', answer: 'Không phải việc của tôi.' });
    const claimed = await h.s.http.post(`/v1/tasks/${taskId}/claim`).set(stranger);
    const missing = await h.s.http.post(`/v1/tasks/00000000-0000-4000-8000-000000000000/complete`).set(stranger).send({ outcome: 'answer', answer: 'Không có.' });
    expect([completed.status, claimed.status, missing.status]).to.deep.equal([404, 404, 404]);
    // The same answer whether the task exists or not: nothing names the task or its agency.
    expect(completed.body.detail).to.equal(`Task ${taskId} does not exist.`);
    expect(claimed.body.detail).to.equal(`Task ${taskId} does not exist.`);
    expect(await t.db('cases').where({ code: kase.code }).first('version', 'engine_state')).to.deep.equal(before);
  });

  it('Given a task a coordinator may see but not act on, then 403; completed, then 409 for its agency (it was there)', async () => {
    const kase = await h.intake({ title: 'Phòng khám tư không giấy phép', field: 'Y-TE' });
    const taskId = kase.tasks[0].id as string;
    const coordinator = await h.s.as('coordinator');
    const seenOnly = await h.s.http.post(`/v1/tasks/${taskId}/complete`).set(coordinator).send({ outcome: 'answer', answer: 'Điều phối viên trả lời thay.' });
    expect(seenOnly.status).to.equal(403);
    expect(seenOnly.body.detail).to.match(/may see task .* but not act on it/);
    expect((await h.s.http.post(`/v1/tasks/${taskId}/complete`).set(clerk).send({ outcome: 'answer', answer: 'Đã kiểm tra, xử lý và trả lời công dân.' })).status).to.equal(200);
    const again = await h.s.http.post(`/v1/tasks/${taskId}/complete`).set(clerk).send({ outcome: 'answer', answer: 'Đã kiểm tra, xử lý và trả lời công dân.' });
    expect(again.status).to.equal(409);
    expect(again.body.detail).to.match(/no longer open/);
  });

  it('Given two engines of one diagram, then their elements of one type share one logger', async () => {
    const context = buildContext(await parseBpmn(fixture('simple.bpmn')));
    const loggersOf = async () => {
      const { engine } = newEngine('logger-test', context);
      const [definition] = await engine.getDefinitions();
      return definition.getProcesses()[0].getActivities().map((a: any) => a.logger);
    };
    const [a, b] = [await loggersOf(), await loggersOf()];
    expect(a.length).to.be.greaterThan(1);
    a.forEach((logger: unknown, i: number) => expect(logger).to.equal(b[i]));
  });
});

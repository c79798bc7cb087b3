import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline, type Key } from './helpers/scenario.js';
import { ROOT } from './helpers/system.js';

const CITIZEN = { citizenName: 'Trần Văn Bình', citizenPhone: '0987654321', channel: 'call' };
const SHIPPED = readFileSync(join(ROOT, 'processes', 'complaint-handling.bpmn'), 'utf8');

/** Version 2 as an analyst would draw it: the handling step gets a new id and name (its form stays "handle"). */
const RENAMED_HANDLE = SHIPPED.replace(/(\b(?:id|sourceRef|targetRef|attachedToRef|bpmnElement)=")handle"/g, '$1handleComplaint"').replace(
  'name="Xử lý, trả lời phản ánh"',
  'name="Xử lý và trả lời phản ánh"',
);

describe('Migrating running cases to another version', function () {
  this.timeout(60_000);
  let t: TestDb;
  let h: Hotline;
  let analyst: Key;
  let finished = '';

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
  });
  after(() => t.close());

  async function deploy(xml: string) {
    const res = await h.s.http.post('/v1/definitions').set(analyst).send({ xml, comment: 'Đổi mã bước xử lý', activate: false });
    expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
    return res.body.version as number;
  }

  async function snapshot(code: string) {
    const row = await t.db('cases').where({ code }).first();
    return {
      row: { definition_id: row.definition_id, version: row.version, engine_state: row.engine_state, variables: row.variables },
      tasks: await t.db('tasks').where({ case_id: row.id }).orderBy('id'),
      jobs: await t.db('jobs').where({ case_id: row.id }).orderBy('id'),
      events: Number((await t.db('case_events').where({ case_id: row.id }).count('* as n').first())!.n),
    };
  }

  it('Given a case waiting at a step whose id changed in the new version, when migrated without a mapping, then 422 names the element and nothing changes', async () => {
    const kase = await h.intake({ ...CITIZEN, title: 'Nước thải chảy ra đường', field: 'DAT-DAI' });
    const v2 = await deploy(RENAMED_HANDLE);
    const before = await snapshot(kase.code);
    // Renaming a step id the product reads is refused, saying what reads it.
    const renamedAnswer = RENAMED_HANDLE.replace(/(\b(?:id|sourceRef|targetRef|bpmnElement)=")sendAnswer"/g, '$1sendTheAnswer"');
    const check = await h.s.http.post('/v1/definitions/validate').set(analyst).send({ xml: renamedAnswer });
    expect(check.body.valid).to.equal(false);
    const missing = check.body.problems.filter((p: any) => p.rule === 'read-element-missing');
    expect(missing).to.have.length(1);
    expect(missing[0]).to.include({ severity: 'error' });
    expect(missing[0].message).to.contain('"sendAnswer"').and.contain('weekly report');

    const res = await h.s.http.post(`/v1/cases/${kase.code}/migrate`).set(analyst).send({ toVersion: v2 });
    expect(res.status).to.equal(422);
    expect(res.type).to.equal('application/problem+json');
    expect(res.body.problems).to.have.length(1);
    expect(res.body.problems[0]).to.include({ elementId: 'handle', rule: 'migration-mapping', severity: 'error' });
    expect(res.body.problems[0].message).to.contain('"mapping": {"handle"');
    expect(await snapshot(kase.code)).to.deep.equal(before);

    const wrong = await h.s.http.post(`/v1/cases/${kase.code}/migrate`).set(analyst).send({ toVersion: v2, mapping: { handle: 'classify' } });
    expect(wrong.status).to.equal(422);
    expect(wrong.body.problems.map((p: any) => p.elementId)).to.deep.equal(['remind', 'overdue']);
    expect(wrong.body.problems[0].message).to.contain('is attached to "handleComplaint"').and.contain('boundary event of "classify"');
    expect(await snapshot(kase.code)).to.deep.equal(before);
  });

  it('Given a claimed task, when migrated with a mapping, then the task keeps its agency, assignee and deadline, history records the move, and the case finishes on the new version', async () => {
    const kase = await h.intake({ ...CITIZEN, title: 'Lấn chiếm vỉa hè', field: 'DAT-DAI' });
    const agency = await h.agency('SNNMT');
    const task = await h.task(kase.code, 'handle', 'SNNMT');
    expect((await h.s.http.post(`/v1/tasks/${task.id}/claim`).set(agency)).status).to.equal(200);
    const v2 = await deploy(RENAMED_HANDLE);
    const timersBefore = (await h.jobs(kase.id, 'timer')).map((j) => ({ element: j.element_id, due: j.due_at.toISOString() }));

    const res = await h.s.http.post(`/v1/cases/${kase.code}/migrate`).set(analyst).send({ toVersion: v2, mapping: { handle: 'handleComplaint' }, comment: 'Chuyển sang quy trình mới' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.deep.equal({ code: kase.code, fromVersion: 1, toVersion: v2, outcome: 'migrated', moves: [{ from: 'handle', to: 'handleComplaint' }] });

    const after = await h.case(kase.code);
    expect(after.process).to.deep.equal({ key: 'complaint-handling', version: v2 });
    expect(after.tasks).to.have.length(1);
    expect(after.tasks[0]).to.include({ id: task.id, elementId: 'handleComplaint', name: 'Xử lý và trả lời phản ánh', assignee: agency.id, due: task.due, formKey: 'handle' });
    expect(after.tasks[0].candidateGroups).to.deep.equal(['SNNMT']);
    expect((await h.jobs(kase.id, 'timer')).map((j) => ({ element: j.element_id, due: j.due_at.toISOString() }))).to.deep.equal(timersBefore);
    const migrated = (await h.events(kase.id)).filter((e) => e.type === 'case.migrated');
    expect(migrated).to.have.length(1);
    expect(migrated[0].payload).to.deep.equal({ process: 'complaint-handling', fromVersion: 1, toVersion: v2, mapping: { handle: 'handleComplaint' }, comment: 'Chuyển sang quy trình mới' });
    expect(migrated[0].actor_id).to.equal(analyst.id);
    // The citizen's lookup reads the status from the step's publicStatus property, whatever its id.
    const lookup = await h.s.http.get(`/v1/public/cases/${kase.code}?phone=4321`);
    expect(lookup.body).to.include({ status: 'handling', statusLabel: 'Đang xử lý' });

    // The case goes on in version 2: answer, review, rating.
    await h.complete(task.id, agency, { outcome: 'answer', answer: 'Đã yêu cầu tháo dỡ trong 7 ngày.', legalBasis: 'Nghị định 100/2019/NĐ-CP' });
    await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve', publish: false });
    const done = await h.message(kase.code, 'citizen-rating', { satisfied: true });
    expect(done.status).to.equal('completed');
    finished = kase.code;
    const verify = await h.s.http.get('/v1/history/verify').set(h.keys.auditor);
    expect(verify.body.ok).to.equal(true);
  });

  it('Given cases at different steps, when a batch migrates without a mapping, then the ones whose steps exist move and the other is refused with its reason; check only reports', async () => {
    const atClassify = [await h.intake({ ...CITIZEN, title: 'Đèn đường hỏng' }), await h.intake({ ...CITIZEN, title: 'Rác thải ùn ứ' })];
    const atHandle = await h.intake({ ...CITIZEN, title: 'Xây dựng không phép', field: 'DAT-DAI' });
    const v2 = await deploy(RENAMED_HANDLE);
    const codes = [...atClassify.map((c) => c.code), atHandle.code];
    const before = await Promise.all(codes.map(snapshot));

    const check = await h.s.http.post('/v1/definitions/complaint-handling/migrate').set(analyst).send({ toVersion: v2, cases: codes, check: true });
    expect(check.status, JSON.stringify(check.body)).to.equal(200);
    expect(check.body).to.include({ migrated: 2, refused: 1, unchanged: 0 });
    expect(await Promise.all(codes.map(snapshot))).to.deep.equal(before);

    const res = await h.s.http.post('/v1/definitions/complaint-handling/migrate').set(analyst).send({ toVersion: v2, cases: codes, comment: 'Đợt chuyển 1' });
    expect(res.body).to.include({ toVersion: v2, migrated: 2, refused: 1, unchanged: 0, remaining: 0 });
    const refused = res.body.results.find((r: any) => r.outcome === 'refused');
    expect(refused.code).to.equal(atHandle.code);
    expect(refused.problems[0]).to.include({ elementId: 'handle', rule: 'migration-mapping' });
    for (const c of atClassify) expect((await h.case(c.code)).process.version).to.equal(v2);
    const list = (await h.s.http.get('/v1/definitions').set(analyst)).body;
    const running = await t.db('cases as c').join('definitions as d', 'd.id', 'c.definition_id').where({ 'c.status': 'running', 'd.version': v2, 'd.key': 'complaint-handling' }).count('* as n').first();
    expect(list.find((d: any) => d.key === 'complaint-handling' && d.version === v2).runningCases).to.equal(Number(running!.n)).and.to.be.greaterThan(1);
    expect(list.find((d: any) => d.key === 'routing').runningCases).to.equal(null);
    expect(await snapshot(atHandle.code)).to.deep.equal(before[2]);

    const again = await h.s.http.post('/v1/definitions/complaint-handling/migrate').set(analyst).send({ toVersion: v2, cases: codes, mapping: { handle: 'handleComplaint' } });
    expect(again.body).to.include({ migrated: 1, refused: 0, unchanged: 2 });
  });

  it('Given a case waiting for the citizen’s information (event-based gateway, message and timer), when migrated, then the information arrives in the new version and goes to the renamed step', async () => {
    const kase = await h.intake({ ...CITIZEN, title: 'Mùi hôi từ bãi rác', field: 'DAT-DAI' });
    await h.act(kase.code, 'handle', 'SNNMT', { outcome: 'moreInfo', question: 'Bãi rác ở ấp nào?' });
    const v2 = await deploy(RENAMED_HANDLE);
    const res = await h.s.http.post(`/v1/cases/${kase.code}/migrate`).set(analyst).send({ toVersion: v2 });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.moves).to.deep.equal([]);
    await h.message(kase.code, 'citizen-info', { citizenInfo: 'Ấp 3, xã Bình An' });
    const after = await h.case(kase.code);
    expect(after.tasks.map((x) => [x.elementId, x.candidateGroups])).to.deep.equal([['handleComplaint', ['SNNMT']]]);
  });

  it('Given a migrated case whose deadline passes, then the boundary timer of the renamed task fires in the new version and escalates', async () => {
    const kase = await h.intake({ ...CITIZEN, title: 'Cây đổ chắn đường', field: 'GIAO-THONG' });
    const due = new Date((await h.task(kase.code, 'handle')).due);
    const v2 = await deploy(RENAMED_HANDLE);
    expect((await h.case(kase.code)).process.version).to.be.below(v2);
    const res = await h.s.http.post(`/v1/cases/${kase.code}/migrate`).set(analyst).send({ toVersion: v2, mapping: { handle: 'handleComplaint' } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    // The armed deadline keeps its due time in the new version.
    const overdue = (await h.jobs(kase.id, 'timer')).filter((j) => j.element_id === 'overdue');
    expect(overdue.map((j) => new Date(j.due_at).toISOString())).to.deep.equal([due.toISOString()]);

    // The deadline passes (the node's clock is moved to it) and the job executor runs.
    h.s.clock.set(new Date(due.getTime() - 1000));
    await h.s.executor.drain();
    expect((await h.case(kase.code)).tasks.map((x) => x.elementId)).to.deep.equal(['handleComplaint']);
    h.s.clock.set(due);
    await h.s.executor.drain();
    const after = await h.case(kase.code);
    expect(after.tasks.map((x) => x.elementId)).to.deep.equal(['coordinate']);
    expect(after.variables).to.include({ late: true, escalated: true, escalationReason: 'overdue' });
    const events = (await h.events(kase.id)).map((e) => `${e.type}:${e.element_id}`);
    expect(events).to.include.members(['timer.fired:overdue', 'activity.cancelled:handleComplaint']);
  });

  it('Given wrong input, the answers say what to fix: unknown version 404, finished case 409, bad mapping 400, non-analyst 403', async () => {
    const kase = await h.intake({ ...CITIZEN, title: 'Tiếng ồn công trình', field: 'DAT-DAI' });
    expect((await h.s.http.post(`/v1/cases/${kase.code}/migrate`).set(analyst).send({ toVersion: 99 })).status).to.equal(404);
    const bad = await h.s.http.post(`/v1/cases/${kase.code}/migrate`).set(analyst).send({ toVersion: 1, mapping: { handle: 42 } });
    expect(bad.status).to.equal(400);
    expect(JSON.stringify(bad.body)).to.contain('/mapping/handle');
    expect((await h.s.http.post(`/v1/cases/${kase.code}/migrate`).set(h.keys.coordinator).send({ toVersion: 1 })).status).to.equal(403);
    expect((await h.s.http.post(`/v1/cases/${kase.code}/migrate`).set(h.keys.auditor).send({ toVersion: 1 })).status).to.equal(403);
    const closed = await h.s.http.post(`/v1/cases/${finished}/migrate`).set(analyst).send({ toVersion: 1 });
    expect(closed.status).to.equal(409);
    expect(closed.body.detail).to.contain('completed');
    const same = await h.s.http.post(`/v1/cases/${kase.code}/migrate`).set(analyst).send({ toVersion: (await h.case(kase.code)).process.version });
    expect(same.body.outcome).to.equal('unchanged');
  });
});

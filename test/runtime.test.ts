import { expect } from 'chai';
import { freshDb, ON_POSTGRES, type TestDb } from './helpers/db.js';
import { fixture, testSystem, type TestSystem } from './helpers/system.js';

/** Everything a command may write, to prove a failed command wrote nothing. */
async function snapshot(t: TestDb, caseId: string) {
  return {
    kase: await t.db('cases').where({ id: caseId }).first('status', 'version', 'engine_state', 'variables', 'updated_at'),
    tasks: await t.db('tasks').where({ case_id: caseId }).orderBy('id'),
    jobs: await t.db('jobs').where({ case_id: caseId }).orderBy('id'),
    events: await t.db('case_events').where({ case_id: caseId }).orderBy('seq'),
  };
}

describe('Case runtime through the API', () => {
  let t: TestDb;
  let s: TestSystem;
  let operator: { Authorization: string };
  let agency: { Authorization: string };
  let coordinator: { Authorization: string };

  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    for (const f of ['simple.bpmn', 'gateway-no-default.bpmn', 'message.bpmn', 'timer-boundary.bpmn']) {
      await s.definitions.deploy(fixture(f), { deployedBy: 'test' });
    }
    operator = await s.as('operator');
    agency = await s.as('agency', 'SNNMT');
    coordinator = await s.as('coordinator', 'VP-UBND');
  });
  after(() => t.close());

  async function start(process: string, variables: Record<string, unknown> = {}) {
    const res = await s.http.post('/v1/cases').set(operator).send({ process, variables: { title: 'Phản ánh thử', description: 'Nội dung phản ánh thử.', channel: 'call', ...variables } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  }

  describe('Given a one-task process', () => {
    it('When a case starts, a task is created; when the agency completes it, the case ends', async () => {
      const kase = await start('simple', { title: 'Ổ gà trên đường Đồng Khởi' });
      expect(kase.code).to.match(/^PA\d{4}-[2-9A-Z]{5}$/);
      expect(kase.status).to.equal('running');
      expect(kase.tasks).to.have.length(1);
      const task = kase.tasks[0];
      expect(task).to.include({ name: 'Phê duyệt', elementId: 'approve' });
      expect(task.candidateGroups).to.deep.equal(['SNNMT']);
      expect(new Date(task.due).getTime()).to.equal(s.clock.now().getTime() + 3 * 86_400_000);

      const inbox = await s.http.get('/v1/tasks').set(agency);
      expect(inbox.body.items.map((i: any) => i.id)).to.include(task.id);

      const done = await s.http.post(`/v1/tasks/${task.id}/complete`).set(agency).send({ approved: true });
      expect(done.status, JSON.stringify(done.body)).to.equal(200);
      expect(done.body.caseStatus).to.equal('completed');

      const after = await s.http.get(`/v1/cases/${kase.code}`).set(operator);
      expect(after.body).to.include({ status: 'completed' });
      expect(after.body.tasks).to.deep.equal([]);
      expect(after.body.variables).to.include({ approved: true, title: 'Ổ gà trên đường Đồng Khởi' });
      const events = await t.db('case_events').where({ case_id: kase.id }).orderBy('seq').pluck('type');
      expect(events[0]).to.equal('case.started');
      expect(events).to.include.members(['task.created', 'task.completed', 'case.completed']);
      expect(events[events.length - 1]).to.equal('case.completed');
    });

    it('When the same task is completed again, then 409 and nothing changes', async () => {
      const kase = await start('simple');
      const id = kase.tasks[0].id;
      expect((await s.http.post(`/v1/tasks/${id}/complete`).set(agency).send({})).status).to.equal(200);
      const before = await snapshot(t, kase.id);
      const again = await s.http.post(`/v1/tasks/${id}/complete`).set(agency).send({});
      expect(again.status).to.equal(409);
      expect(await snapshot(t, kase.id)).to.deep.equal(before);
    });

    it('When a task id that never existed is completed, then 404', async () => {
      const res = await s.http.post('/v1/tasks/00000000-0000-4000-8000-000000000000/complete').set(agency).send({});
      expect(res.status).to.equal(404);
      expect(res.type).to.equal('application/problem+json');
    });

    it('When the runtime is asked directly for an unknown task, then it is a ConflictError, never a silent no-op', async () => {
      let caught: any;
      try {
        await s.runtime.completeTask({ taskId: '00000000-0000-4000-8000-000000000000', actor: { id: 't', name: 't', roles: [], agency: null } });
      } catch (err) {
        caught = err;
      }
      expect(caught?.status).to.equal(409);
    });

    it('When two clients complete the same task at once, then exactly one gets 200 and the other 409', async () => {
      const kase = await start('simple');
      const id = kase.tasks[0].id;
      const other = await s.as('agency', 'SNNMT', 'second clerk');
      const results = await Promise.all([
        s.http.post(`/v1/tasks/${id}/complete`).set(agency).send({ by: 'one' }),
        s.http.post(`/v1/tasks/${id}/complete`).set(other).send({ by: 'two' }),
      ]);
      expect(results.map((r) => r.status).sort()).to.deep.equal([200, 409]);
      const events = await t.db('case_events').where({ case_id: kase.id, type: 'task.completed' });
      expect(events).to.have.length(1);
      const row = await t.db('cases').where({ id: kase.id }).first();
      expect(row.status).to.equal('completed');
      expect(row.variables.by).to.equal(events[0].payload.output.by);
    });

    it('When another agency tries the task, then it is not found for them', async () => {
      const kase = await start('simple');
      const police = await s.as('agency', 'CONG-AN');
      const res = await s.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(police).send({});
      expect(res.status).to.equal(404);
      expect((await s.http.get(`/v1/cases/${kase.code}`).set(police)).status).to.equal(404);
      expect((await s.http.get('/v1/tasks').set(police)).body.items.map((i: any) => i.caseCode)).not.to.include(kase.code);
    });

    it('When the coordinator (who oversees) tries a task not in its group, then 403', async () => {
      const kase = await start('simple');
      const res = await s.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(coordinator).send({});
      expect(res.status).to.equal(403);
    });
  });

  describe('Given a command that fails midway', () => {
    it('When a gateway finds no path after the task, then 422 and case, tasks, jobs and events are unchanged', async () => {
      const kase = await start('gateway-no-default');
      const before = await snapshot(t, kase.id);
      const res = await s.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(agency).send({ choice: 'maybe' });
      expect(res.status).to.equal(422);
      expect(res.body.detail).to.match(/could not continue/);
      expect(await snapshot(t, kase.id)).to.deep.equal(before);
    });

    it('When the next task cannot compute its due date, then 422 and nothing changes; a good input then succeeds', async () => {
      const kase = await start('gateway-no-default', { dueText: 'not a date' });
      const before = await snapshot(t, kase.id);
      const res = await s.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(agency).send({ choice: 'yes' });
      expect(res.status).to.equal(422);
      expect(await snapshot(t, kase.id)).to.deep.equal(before);
      const ok = await s.http.post(`/v1/tasks/${kase.tasks[0].id}/complete`).set(agency).send({ choice: 'yes', dueText: 'P2D' });
      expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
      const tasks = await t.db('tasks').where({ case_id: kase.id });
      expect(tasks.map((x) => x.element_id)).to.deep.equal(['next']);
    });
  });

  describe('Given a process waiting for a message', () => {
    it('When the message arrives, its payload becomes variables and the next task is routed by them', async () => {
      const kase = await start('message', { agency: 'SNNMT' });
      expect(kase.tasks).to.deep.equal([]);
      const wrong = await s.http.post(`/v1/cases/${kase.code}/messages/citizen-rating`).set(operator).send({ satisfied: true });
      expect(wrong.status).to.equal(409);
      const undeclared = await s.http.post(`/v1/cases/${kase.code}/messages/citizen-info`).set(operator).send({ citizenInfo: 'Bổ sung ảnh', agency: 'CONG-AN' });
      expect(undeclared.status).to.equal(422);
      expect(undeclared.body.errors).to.deep.equal([{ path: '/agency', message: 'is not a known field' }]);
      const unknown = await s.http.post(`/v1/cases/${kase.code}/messages/other`).set(operator).send({});
      expect(unknown.status).to.equal(404);
      const res = await s.http.post(`/v1/cases/${kase.code}/messages/citizen-info`).set(operator).send({ citizenInfo: 'Bổ sung ảnh' });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.tasks.map((x: any) => x.candidateGroups)).to.deep.equal([['SNNMT']]);
      expect(res.body.variables).to.include({ citizenInfo: 'Bổ sung ảnh', agency: 'SNNMT' });
      const types = await t.db('case_events').where({ case_id: kase.id }).pluck('type');
      expect(types).to.include('message.correlated');
    });
  });

  describe('Given bad input', () => {
    it('When variables use a reserved name, then 400 names the field and no case is created', async () => {
      const before = await t.db('cases').count('* as n').first();
      const res = await s.http.post('/v1/cases').set(operator).send({ process: 'simple', variables: { title: 'Phản ánh thử', description: 'Nội dung phản ánh thử.', channel: 'call', content: 'x' } });
      expect(res.status).to.equal(400);
      expect(res.body.errors[0].path).to.equal('/variables');
      expect(await t.db('cases').count('* as n').first()).to.deep.equal(before);
    });

    it('When the channel is not one the hotline knows, or the phone is not a phone number, then 400 names the field', async () => {
      const res = await s.http.post('/v1/cases').set(operator).send({ process: 'simple', variables: { title: 'Phản ánh thử', description: 'Nội dung phản ánh thử.', channel: 'fax', citizenPhone: 'gọi tôi' } });
      expect(res.status).to.equal(400);
      const paths = res.body.errors.map((e: any) => e.path);
      expect(paths).to.include.members(['/variables/channel', '/variables/citizenPhone']);
    });

    it('When the process is unknown, then 404', async () => {
      const res = await s.http.post('/v1/cases').set(operator).send({ process: 'no-such-process', variables: { title: 'Phản ánh thử', description: 'Nội dung phản ánh thử.', channel: 'call' } });
      expect(res.status).to.equal(404);
    });

    it('When an unknown top-level field is sent, then 400 names it', async () => {
      const res = await s.http.post('/v1/cases').set(operator).send({ process: 'simple', colour: 'red', variables: { title: 'Phản ánh thử', description: 'Nội dung phản ánh thử.', channel: 'call' } });
      expect(res.status).to.equal(400);
      expect(res.body.errors).to.deep.include({ path: '/colour', message: 'is not a known field' });
    });
  });

  it(`runs on ${ON_POSTGRES ? 'PostgreSQL' : 'embedded PGlite'}`, async () => {
    const { rows } = await t.db.raw('select version() as v');
    expect(rows[0].v).to.match(/PostgreSQL/);
  });
});

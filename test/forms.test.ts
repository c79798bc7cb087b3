import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployProcesses } from '../api/system.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline, type Key } from './helpers/scenario.js';
import { fixture, ROOT, testSystem } from './helpers/system.js';

const SHIPPED = readFileSync(join(ROOT, 'processes', 'complaint-handling.bpmn'), 'utf8');
const HANDLE = JSON.parse(readFileSync(join(ROOT, 'processes', 'forms', 'handle.schema.json'), 'utf8'));
/** Valid under the installed handling form (an answer of 10 characters or more). */
const SHORT_ANSWER = { outcome: 'answer', answer: 'Đã xử lý xong phản ánh.' };
/** The handling form as an analyst edits it: an answer must now be at least 60 characters. */
const STRICTER_HANDLE = { ...HANDLE, properties: { ...HANDLE.properties, answer: { ...HANDLE.properties.answer, minLength: 60 } } };

describe('Forms are versioned with the diagram that uses them', function () {
  this.timeout(120_000);
  let t: TestDb;
  let h: Hotline;
  let analyst: Key;

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    analyst = await h.s.as('analyst', 'SNV');
  });
  after(() => t.close());

  const deploy = (body: Record<string, unknown>) => h.s.http.post('/v1/definitions').set(analyst).send(body);
  const taskDetail = async (code: string, elementId = 'handle') => {
    const task = await h.task(code, elementId);
    const kase = await h.case(code);
    const res = await h.s.http.get(`/v1/tasks/${task.id}`).set(await h.agency(kase.variables.agency));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };

  it('Given the shipped hotline, then version 1 keeps the forms its user tasks reference, readable per version', async () => {
    const res = await h.s.http.get('/v1/definitions/complaint-handling/versions/1/forms').set(analyst);
    expect(res.status).to.equal(200);
    expect(res.body.recorded).to.equal(true);
    expect(res.body.forms.map((f: any) => f.formKey)).to.deep.equal(['accountability', 'classify', 'coordinate', 'handle', 'review']);
    const one = await h.s.http.get('/v1/definitions/complaint-handling/versions/1/forms/handle').set(analyst);
    expect(one.status).to.equal(200);
    expect(one.body.schema).to.deep.equal(HANDLE);
    // Stored as deployed: the fields keep the analyst's order (agencies' screens draw them in it).
    expect(Object.keys(one.body.schema.properties)).to.deep.equal(Object.keys(HANDLE.properties));
    expect(one.body.sha256).to.match(/^[0-9a-f]{64}$/);
    const missing = await h.s.http.get('/v1/definitions/complaint-handling/versions/1/forms/no-such-form').set(analyst);
    expect(missing.status).to.equal(404);
    expect(missing.body.detail).to.contain('no-such-form');
  });

  it('Given a case waiting at a step, when an analyst deploys an edited form, then the case keeps its version’s form and a new case gets the new one', async () => {
    const old = await h.intake({ title: 'Rác thải tồn đọng', field: 'MOI-TRUONG' });

    // When: the same diagram with a stricter handling form.
    const res = await deploy({ xml: SHIPPED, forms: { handle: STRICTER_HANDLE }, comment: 'Trả lời tối thiểu 60 ký tự' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.version).to.equal(2);
    expect(res.body.active).to.equal(true);
    const v2 = await h.s.http.get('/v1/definitions/complaint-handling/versions/2/forms/handle').set(analyst);
    expect(v2.body.schema.properties.answer.minLength).to.equal(60);
    // Forms not given were kept from version 1, unchanged.
    const v1Review = await h.s.http.get('/v1/definitions/complaint-handling/versions/1/forms/review').set(analyst);
    const v2Review = await h.s.http.get('/v1/definitions/complaint-handling/versions/2/forms/review').set(analyst);
    expect(v2Review.body.sha256).to.equal(v1Review.body.sha256);

    // Then: the running case still shows and accepts version 1's form.
    expect((await taskDetail(old.code)).form.properties.answer.minLength).to.equal(10);
    await h.act(old.code, 'handle', (await h.case(old.code)).variables.agency, SHORT_ANSWER);

    // And a new case runs on version 2: its task shows the new form and refuses the short answer, naming the field.
    const fresh = await h.intake({ title: 'Đèn đường hỏng', field: 'MOI-TRUONG' });
    expect((await h.case(fresh.code)).process.version).to.equal(2);
    expect((await taskDetail(fresh.code)).form.properties.answer.minLength).to.equal(60);
    const task = await h.task(fresh.code, 'handle');
    const agency = await h.agency((await h.case(fresh.code)).variables.agency);
    const refused = await h.complete(task.id, agency, SHORT_ANSWER, 422);
    expect(refused.errors.map((e: any) => e.path)).to.deep.equal(['/answer']);
    await h.complete(task.id, agency, { outcome: 'answer', answer: 'Đã cử tổ công tác thay bóng đèn và kiểm tra toàn bộ tuyến đường trong ngày.' });
  });

  it('Given a version with edited forms, when the diagram alone is deployed again, then its forms are kept (the same version, not a new one)', async () => {
    const res = await h.s.http.post('/v1/definitions').set(analyst).set('Content-Type', 'application/xml').send(SHIPPED);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ version: 2, created: false });

    // Moving a field is a change (the order is the order fields are shown): a new version, here staged.
    const { answer, ...others } = STRICTER_HANDLE.properties;
    const moved = await deploy({ xml: SHIPPED, forms: { handle: { ...STRICTER_HANDLE, properties: { ...others, answer } } }, activate: false });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(201);
    expect(moved.body).to.include({ version: 3, active: false });
  });

  it('Given a diagram whose form key resolves nowhere, then deploy is refused naming the element; sent with the form, it deploys', async () => {
    const xml = fixture('bad/unknown-form.bpmn');
    const refused = await deploy({ xml });
    expect(refused.status).to.equal(422);
    const problem = refused.body.problems.find((p: any) => p.rule === 'form-missing');
    expect(problem).to.include({ elementId: 'x', severity: 'error' });
    expect(problem.message).to.contain('no-such-form');

    const form = { type: 'object', additionalProperties: false, properties: { note: { type: 'string', title: 'Ghi chú' } } };
    const ok = await deploy({ xml, forms: { 'no-such-form': form } });
    expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
    const stored = await h.s.http.get(`/v1/definitions/${ok.body.key}/versions/${ok.body.version}/forms`).set(analyst);
    expect(stored.body.forms).to.deep.equal([{ formKey: 'no-such-form', sha256: stored.body.forms[0].sha256, schema: form }]);
  });

  it('Given a form that is not a JSON Schema of an object, then deploy is refused naming the form and nothing is stored', async () => {
    const before = await t.db('definitions').count('* as n').first();
    for (const bad of [{ type: 'string' }, { type: 'object', properties: { a: { type: 'no-such-type' } } }]) {
      const res = await deploy({ xml: SHIPPED, forms: { handle: bad } });
      expect(res.status).to.equal(422);
      const problem = res.body.problems.find((p: any) => p.rule === 'form-schema');
      expect(problem.message).to.contain('Form "handle"');
    }
    const wrongKey = await deploy({ xml: SHIPPED, forms: { 'bad key!': { type: 'object' } } });
    expect(wrongKey.status).to.equal(400);
    expect(await t.db('definitions').count('* as n').first()).to.deep.equal(before);
  });

  it('Given a target version without the form of an open task, then migration is refused naming the task and the form key; with it, the task takes the target’s form', async () => {
    await h.s.http.post('/v1/definitions/complaint-handling/active').set(analyst).send({ version: 1 }).expect(200);
    const kase = await h.intake({ title: 'Lấn chiếm vỉa hè', field: 'MOI-TRUONG' });
    // Version 3: the handling step uses a renamed form.
    const renamed = SHIPPED.replace('camunda:formKey="handle"', 'camunda:formKey="handle-2027"');
    const v3 = await deploy({ xml: renamed, forms: { 'handle-2027': STRICTER_HANDLE }, activate: false });
    expect(v3.status, JSON.stringify(v3.body)).to.equal(201);

    const refused = await h.s.http.post(`/v1/cases/${kase.code}/migrate`).set(analyst).send({ toVersion: v3.body.version });
    expect(refused.status).to.equal(422);
    const problem = refused.body.problems.find((p: any) => p.rule === 'migration-form');
    expect(problem.elementId).to.equal('handle');
    expect(problem.message).to.contain('"handle"').and.contain('Xử lý, trả lời phản ánh');
    expect((await h.case(kase.code)).process.version).to.equal(1);

    // To version 2 (which has "handle", stricter): the open task is completed with version 2's form.
    const moved = await h.s.http.post(`/v1/cases/${kase.code}/migrate`).set(analyst).send({ toVersion: 2 });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    expect((await taskDetail(kase.code)).form.properties.answer.minLength).to.equal(60);
    const task = await h.task(kase.code, 'handle');
    const refusedAnswer = await h.complete(task.id, await h.agency((await h.case(kase.code)).variables.agency), SHORT_ANSWER, 422);
    expect(refusedAnswer.errors.map((e: any) => e.path)).to.deep.equal(['/answer']);
  });

  it('Given a version deployed before forms were versioned, when the node boots, then it keeps the installed forms from then on', async () => {
    const versions = () => t.db('definitions').where({ key: 'complaint-handling' }).count('* as n').first();
    const before = await versions();
    const v1 = await t.db('definitions').where({ key: 'complaint-handling', version: 1 }).first('id');
    await t.db('definition_forms').where({ definition_id: v1.id }).delete();
    await t.db('definitions').where({ id: v1.id }).update({ forms_sha256: null });
    // A node started after the upgrade: nothing of version 1's forms in its memory.
    const node = await testSystem(t.db);
    const legacy = await node.http.get('/v1/definitions/complaint-handling/versions/1/forms').set(analyst);
    expect(legacy.body.recorded).to.equal(false);

    await deployProcesses(node, join(ROOT, 'processes'));
    const adopted = await node.http.get('/v1/definitions/complaint-handling/versions/1/forms').set(analyst);
    expect(adopted.body.recorded).to.equal(true);
    expect(adopted.body.forms.find((f: any) => f.formKey === 'handle').schema).to.deep.equal(HANDLE);
    // The seed found its own diagram and forms already deployed: no new version.
    expect(await versions()).to.deep.equal(before);
  });
});

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';
import { ROOT } from '../helpers/system.js';

/**
 * A black-box check of the analyst guide (2026-12-08): a handle form with "required": [..., "legalBasisX"], a
 * field its "properties" do not declare (and undeclared fields refused), passed validate and deploy. Once
 * active, its task could never be completed: without the field "is required", with it "is not a known field".
 * The forms page said so; the server now refuses it (form-schema, naming the field).
 */
describe('Regression: a form that requires a field it does not declare is refused at validate and deploy', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given the handle form requiring legalBasisX, when the diagram is validated and deployed with it, then form-schema names the field and nothing is stored', async () => {
    const analyst = await h.s.as('analyst', 'SNV');
    const handle = JSON.parse(readFileSync(join(ROOT, 'processes', 'forms', 'handle.schema.json'), 'utf8'));
    const broken = { ...handle, required: [...(handle.required ?? []), 'legalBasisX'] };
    const body = { xml: readFileSync(join(ROOT, 'processes', 'complaint-handling.bpmn'), 'utf8'), forms: { handle: broken } };
    const validated = await h.s.http.post('/v1/definitions/validate').set(analyst).send(body);
    expect(validated.status, JSON.stringify(validated.body)).to.equal(200);
    expect(validated.body.valid).to.equal(false);
    const problem = validated.body.problems.find((p: { rule: string }) => p.rule === 'form-schema');
    expect(problem?.message).to.include('"legalBasisX"');
    const versions = Number((await h.s.db('definitions').count('* as n').first())!.n);
    const deployed = await h.s.http.post('/v1/definitions?activate=false').set(analyst).send(body);
    expect(deployed.status, JSON.stringify(deployed.body)).to.equal(422);
    expect(Number((await h.s.db('definitions').count('* as n').first())!.n)).to.equal(versions);
  });
});

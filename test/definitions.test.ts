import { expect } from 'chai';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { deployProcesses } from '../api/system.js';
import { join } from 'node:path';
import { freshDb, type TestDb } from './helpers/db.js';
import { FIXTURES, ROOT, fixture, testSystem, type TestSystem } from './helpers/system.js';
import { readCatalogueFiles, syncCatalogue } from '../engine/hotline/catalogue.js';

const REFUSALS: Record<string, string> = {
  'not-xml.bpmn': 'parse',
  'no-definitions-id.bpmn': 'definitions-id',
  'script-task.bpmn': 'no-script-task',
  'condition-javascript.bpmn': 'condition-not-feel',
  'condition-expression.bpmn': 'condition-not-feel',
  'complex-gateway.bpmn': 'unsupported-element',
  // Call activities run (engine/call-activity.ts); one calling a process that is not deployed is refused.
  'call-activity.bpmn': 'called-element-unknown',
  'call-unknown.bpmn': 'called-element-unknown',
  'call-unknown-version.bpmn': 'called-element-unknown',
  'bad-timer.bpmn': 'timer',
  'bad-feel.bpmn': 'feel-syntax',
  'juel-attribute.bpmn': 'not-feel',
  'listener-script.bpmn': 'no-listener',
  'unknown-form.bpmn': 'form-missing',
  'unknown-feel-function.bpmn': 'feel-unknown-function',
  'unknown-candidate-group.bpmn': 'candidate-group-unknown',
  'no-candidate-groups.bpmn': 'candidate-groups-missing',
  'no-incoming-flow.bpmn': 'no-incoming-flow',
  'feel-double-equals.bpmn': 'feel-syntax',
};

describe('Deploying definitions', () => {
  let t: TestDb;
  let s: TestSystem;
  let analyst: { Authorization: string };

  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    // The catalogue is what candidate groups are checked against.
    await syncCatalogue(s.db, readCatalogueFiles(join(ROOT, 'processes', 'catalogue')));
    await s.catalogue.refresh();
    analyst = await s.as('analyst');
  });
  after(() => t.close());

  it('Given every refusal fixture, then each has a rule in the table (no fixture is left untested)', () => {
    expect(readdirSync(join(FIXTURES, 'bad')).sort()).to.deep.equal(Object.keys(REFUSALS).sort());
  });

  for (const [file, rule] of Object.entries(REFUSALS)) {
    it(`Given ${file}, when an analyst deploys it, then 422 names rule "${rule}" and nothing is stored`, async () => {
      const before = await t.db('definitions').count('* as n').first();
      const res = await s.http.post('/v1/definitions').set(analyst).set('Content-Type', 'application/xml').send(fixture(`bad/${file}`));
      expect(res.status).to.equal(422);
      expect(res.type).to.equal('application/problem+json');
      expect(res.body.problems.map((p: any) => p.rule)).to.include(rule);
      for (const p of res.body.problems) expect(p).to.include.keys('elementId', 'rule', 'severity', 'message');
      const after = await t.db('definitions').count('* as n').first();
      expect(after).to.deep.equal(before);
    });
  }

  it('Given the shipped diagram, every fixture that is not a refusal and every decision file in processes/, then validation finds no error (no false positives from the structure, names and ${…} rules)', async () => {
    // The routing decision the shipped diagram's business-rule task names (its outputs are names the diagram reads).
    await s.definitions.deploy(readFileSync(join(ROOT, 'processes', 'routing.dmn'), 'utf8'), { deployedBy: 'test' });
    // The processes the call-activity fixtures call (call-parent, call-pinned: version 1; call-error).
    await s.definitions.deploy(fixture('call-quality-check.bpmn'), { deployedBy: 'test' });
    await s.definitions.deploy(fixture('call-quality-check-strict.bpmn'), { deployedBy: 'test' });
    const files = [
      join(ROOT, 'processes', 'complaint-handling.bpmn'),
      ...readdirSync(join(ROOT, 'processes')).filter((f) => f.endsWith('.dmn')).map((f) => join(ROOT, 'processes', f)),
      ...readdirSync(FIXTURES).filter((f) => f.endsWith('.bpmn')).map((f) => join(FIXTURES, f)),
      ...readdirSync(join(FIXTURES, 'dmn')).filter((f) => !f.startsWith('bad-')).map((f) => join(FIXTURES, 'dmn', f)),
    ];
    for (const file of files) {
      const res = await s.http.post('/v1/definitions/validate').set(analyst).set('Content-Type', 'application/xml').send(readFileSync(file, 'utf8'));
      expect(res.body.problems.filter((p: any) => p.severity === 'error'), file).to.deep.equal([]);
    }
  });

  it('Given each hole of issue 14 (test/fixtures/holes), validation refuses it naming the element and the name', async () => {
    const expected: Record<string, [string, string | null, string]> = {
      'start-only.bpmn': ['ends-without-waiting', 'received', 'before it waits'],
      'timer-misspelt-variable.bpmn': ['feel-unknown-name', 'overdue', 'Did you mean "dueAt"?'],
      'condition-unknown-variable.bpmn': ['feel-unknown-name', 'alreadyClassified', '"fieldXq"'],
      'juel-multi-instance.bpmn': ['not-feel', 'classify', '${agencies}'],
      'candidate-groups-unknown-variable.bpmn': ['feel-unknown-name', 'handle', '"handlingAgency"'],
      'doctype-entity.bpmn': ['doctype', null, 'DOCTYPE'],
    };
    expect(readdirSync(join(FIXTURES, 'holes')).sort()).to.deep.equal(Object.keys(expected).sort());
    for (const [file, [rule, elementId, text]] of Object.entries(expected)) {
      const res = await s.http.post('/v1/definitions/validate').set(analyst).send({ xml: fixture(`holes/${file}`) });
      expect(res.body.valid, file).to.equal(false);
      const problem = res.body.problems.find((p: any) => p.rule === rule && p.severity === 'error');
      expect(problem, file).to.include({ elementId });
      expect(problem.message, file).to.contain(text);
    }
  });

  it('Given a script task that would write a file, when it is deployed, then it is refused and no script ran', async () => {
    const res = await s.http.post('/v1/definitions').set(analyst).send({ xml: fixture('bad/script-task.bpmn') });
    expect(res.status).to.equal(422);
    expect(existsSync('/tmp/pakn-pwned')).to.equal(false);
  });

  it('Given a valid diagram, when deployed twice unchanged, then the second deploy returns the same version', async () => {
    const first = await s.http.post('/v1/definitions').set(analyst).set('Content-Type', 'application/xml').send(fixture('simple.bpmn'));
    expect(first.status).to.equal(201);
    expect(first.body).to.include({ key: 'simple', version: 1, created: true });
    const again = await s.http.post('/v1/definitions').set(analyst).send({ xml: fixture('simple.bpmn'), comment: 'same again' });
    expect(again.status).to.equal(200);
    expect(again.body).to.include({ key: 'simple', version: 1, created: false });
    expect((await t.db('definitions').where({ key: 'simple' })).length).to.equal(1);
  });

  it('Given a changed diagram, when deployed, then it becomes version 2 and version 1 stays readable', async () => {
    const changed = fixture('simple.bpmn').replace('name="Phê duyệt"', 'name="Phê duyệt lại"');
    const res = await s.http.post('/v1/definitions').set(analyst).send({ xml: changed, comment: 'đổi tên bước' });
    expect(res.status).to.equal(201);
    expect(res.body.version).to.equal(2);
    const v1 = await s.http.get('/v1/definitions/simple/versions/1.xml').set(analyst);
    expect(v1.status).to.equal(200);
    expect(v1.text).to.contain('name="Phê duyệt"');
    const list = await s.http.get('/v1/definitions').set(analyst);
    expect(list.body.filter((d: any) => d.key === 'simple').map((d: any) => d.version)).to.deep.equal([2, 1]);
  });

  it('Given a staged deploy, new cases keep the active version until an analyst switches, and a switch back rolls back', async () => {
    const operator = await s.as('operator');
    const v1 = fixture('message.bpmn');
    const v2 = v1.replace('name="Xử lý"', 'name="Xử lý (bản 2)"');
    expect((await s.http.post('/v1/definitions').set(analyst).send({ xml: v1 })).body).to.include({ version: 1, active: true });
    const staged = await s.http.post('/v1/definitions?activate=false').set(analyst).set('Content-Type', 'application/xml').send(v2);
    expect(staged.status).to.equal(201);
    expect(staged.body).to.include({ version: 2, active: false });
    const startedBefore = await s.http.post('/v1/cases').set(operator).send({ process: 'message', variables: { title: 'Phản ánh thử', description: 'Nội dung phản ánh thử.', channel: 'call' } });
    expect(startedBefore.body.process.version).to.equal(1);

    const switched = await s.http.post('/v1/definitions/message/active').set(analyst).send({ version: 2 });
    expect(switched.status).to.equal(200);
    expect((await s.http.post('/v1/cases').set(operator).send({ process: 'message', variables: { title: 'Phản ánh thử', description: 'Nội dung phản ánh thử.', channel: 'call' } })).body.process.version).to.equal(2);
    const list = await s.http.get('/v1/definitions').set(analyst);
    expect(list.body.filter((d: any) => d.key === 'message').map((d: any) => [d.version, d.active])).to.deep.equal([[2, true], [1, false]]);

    // Rolling back by deploying version 1's exact XML again.
    const rollback = await s.http.post('/v1/definitions').set(analyst).send({ xml: v1 });
    expect(rollback.status).to.equal(200);
    expect(rollback.body).to.include({ version: 1, created: false, active: true });
    expect((await s.http.post('/v1/cases').set(operator).send({ process: 'message', variables: { title: 'Phản ánh thử', description: 'Nội dung phản ánh thử.', channel: 'call' } })).body.process.version).to.equal(1);
    const events = await t.db('case_events').whereNull('case_id').where({ type: 'definition.activated' }).whereRaw(`payload->>'key' = 'message'`);
    expect(events.map((e) => e.payload.version)).to.deep.equal([1, 2, 1]);
    expect((await s.http.post('/v1/definitions/message/active').set(analyst).send({ version: 9 })).status).to.equal(404);
  });

  it('Given an analyst’s switch to version 2, when the server restarts and loads processes/ again (whose file is version 1), then version 2 stays active; a changed file on disk arrives staged', async () => {
    const processes = join(ROOT, 'processes');
    await deployProcesses(s, processes);
    const shipped = readFileSync(join(processes, 'complaint-handling.bpmn'), 'utf8');
    const edited = shipped.replace('name="Duyệt nội dung trả lời"', 'name="Duyệt và ký nội dung trả lời"');
    expect((await s.http.post('/v1/definitions').set(analyst).send({ xml: edited })).body).to.include({ version: 2, active: true });
    expect((await s.http.post('/v1/definitions/complaint-handling/active').set(analyst).send({ version: 1 })).status).to.equal(200);
    await s.http.post('/v1/definitions/complaint-handling/active').set(analyst).send({ version: 2 });

    const restarted = await deployProcesses(s, processes);
    expect(restarted.find((d) => d.key === 'complaint-handling')).to.include({ version: 1, created: false, active: false });
    expect((await s.definitions.latest('complaint-handling')).version).to.equal(2);

    // A release that ships a changed diagram: stored as a new version, not switched on behind the analysts' backs.
    const release = mkdtempSync(join(tmpdir(), 'pakn-release-'));
    cpSync(processes, release, { recursive: true });
    writeFileSync(join(release, 'complaint-handling.bpmn'), shipped.replace('name="Phân loại phản ánh"', 'name="Phân loại phản ánh, kiến nghị"'));
    const upgraded = await deployProcesses(s, release);
    expect(upgraded.find((d) => d.key === 'complaint-handling')).to.include({ version: 3, created: true, active: false });
    expect((await s.definitions.latest('complaint-handling')).version).to.equal(2);

    // A release whose diagram calls a decision that only its (staged) decision file defines: the
    // diagram is refused and logged, the service still starts on the active versions.
    writeFileSync(join(release, 'routing.dmn'), readFileSync(join(processes, 'routing.dmn'), 'utf8').replace('<decision id="route-complaint"', '<decision id="route-complaint-2027"'));
    writeFileSync(join(release, 'complaint-handling.bpmn'), shipped.replace('camunda:decisionRef="route-complaint"', 'camunda:decisionRef="route-complaint-2027"'));
    const refused = await deployProcesses(s, release);
    const diagram = refused.find((d) => d.file === 'complaint-handling.bpmn')!;
    expect(diagram.problems!.join(' ')).to.contain('route-complaint-2027');
    expect(refused.find((d) => d.file === 'routing.dmn')).to.include({ created: true, active: false });
    expect((await s.definitions.latest('complaint-handling')).version).to.equal(2);
    rmSync(release, { recursive: true, force: true });
  });

  it('Given a complaint-handling diagram whose rating timer no longer has the id noRating, when deployed, then 422 names noRating and what reads it, and nothing is stored', async () => {
    // The shipped processes (and their routing table) are deployed by the test above.
    const shipped = readFileSync(join(ROOT, 'processes', 'complaint-handling.bpmn'), 'utf8');
    const renamed = shipped.replace(/(\b(?:id|sourceRef|targetRef|attachedToRef|bpmnElement)=")noRating"/g, '$1ratingTimeout"');
    expect(renamed).not.to.equal(shipped);
    const before = await t.db('definitions').count('* as n').first();
    const res = await s.http.post('/v1/definitions').set(analyst).send({ xml: renamed, activate: false });
    expect(res.status).to.equal(422);
    const errors = res.body.problems.filter((p: any) => p.severity === 'error');
    expect(errors.map((p: any) => p.rule)).to.deep.equal(['read-element-missing']);
    expect(errors[0].message).to.contain('"noRating"').and.contain('SMS rating replies');
    expect(await t.db('definitions').count('* as n').first()).to.deep.equal(before);
  });

  it('Given a JSON deploy with ?activate=false, then the version is staged as with an XML body', async () => {
    const xml = fixture('message.bpmn').replace('name="Xử lý"', 'name="Xử lý (bản 3)"');
    const res = await s.http.post('/v1/definitions?activate=false').set(analyst).send({ xml });
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ active: false });
  });

  it('Given a diagram, when validated, then problems are listed and nothing is deployed', async () => {
    const res = await s.http.post('/v1/definitions/validate').set(analyst).send({ xml: fixture('bad/bad-timer.bpmn') });
    expect(res.status).to.equal(200);
    expect(res.body.valid).to.equal(false);
    expect(res.body.problems[0]).to.include({ elementId: 'x', rule: 'timer' });
    expect(await t.db('definitions').where({ key: 'bad' })).to.have.length(0);
  });

  it('Given a diagram that runs but reads badly, validation adds bpmnlint’s recommended modelling rules as warnings naming the element', async () => {
    const res = await s.http.post('/v1/definitions/validate').set(analyst).send({ xml: fixture('simple.bpmn') });
    expect(res.body.valid).to.equal(true);
    const lint = res.body.problems.filter((p: any) => p.rule.startsWith('bpmnlint/'));
    expect(lint.length).to.be.greaterThan(0);
    expect(lint.every((p: any) => p.severity === 'warning')).to.equal(true);
    expect(lint).to.deep.include.members([{ elementId: 'start', rule: 'bpmnlint/label-required', severity: 'warning', message: lint.find((p: any) => p.elementId === 'start' && p.rule === 'bpmnlint/label-required').message }]);
  });

  it('Given XML that does not parse, the problem says the line and column (counted as editors count)', async () => {
    const xml = fixture('simple.bpmn').replace('<bpmn:endEvent', '<bpmn:endEvent><broken').split('\n');
    const line = xml.findIndex((l) => l.includes('<broken')) + 1;
    const res = await s.http.post('/v1/definitions/validate').set(analyst).send({ xml: xml.join('\n') });
    const [parse] = res.body.problems;
    expect(parse).to.include({ rule: 'parse', severity: 'error' });
    expect(parse.line).to.be.within(line, line + 2);
    expect(parse.column).to.be.a('number');
    expect(parse.message).to.contain(`at line ${parse.line}, column ${parse.column}`);
  });

  it('Given user tasks without or with a wrong publicStatus, validation warns that citizens would see a generic status, or refuses an unknown one', async () => {
    const missing = await s.http.post('/v1/definitions/validate').set(analyst).send({ xml: fixture('simple.bpmn') });
    expect(missing.body.problems.find((p: any) => p.rule === 'public-status-missing')).to.include({ elementId: 'approve', severity: 'warning' });
    const wrong = fixture('simple.bpmn').replace(
      'camunda:dueDate="P3D" />',
      'camunda:dueDate="P3D"><bpmn:extensionElements><camunda:properties><camunda:property name="publicStatus" value="dang-xu-ly" /></camunda:properties></bpmn:extensionElements></bpmn:userTask>',
    );
    expect(wrong).not.to.equal(fixture('simple.bpmn'));
    const res = await s.http.post('/v1/definitions/validate').set(analyst).send({ xml: wrong });
    const problem = res.body.problems.find((p: any) => p.rule === 'public-status');
    expect(problem).to.include({ elementId: 'approve', severity: 'error' });
    expect(problem.message).to.contain('received, handling, reviewing, answered');
  });

  it('Given a misspelt calendar function and an unknown agency, validation says which name is wrong and what exists', async () => {
    const res = await s.http.post('/v1/definitions/validate').set(analyst).send({ xml: fixture('bad/unknown-feel-function.bpmn').replace('=agency"', 'coordinator,SO-KHONG-CO"') });
    const byRule = Object.fromEntries(res.body.problems.filter((p: any) => p.severity === 'error').map((p: any) => [p.rule, p]));
    expect(byRule['feel-unknown-function']).to.include({ elementId: 'x' });
    expect(byRule['feel-unknown-function'].message).to.contain('"add workin days"').and.contain('add working days');
    expect(byRule['candidate-group-unknown'].message).to.contain('"SO-KHONG-CO"').and.contain('coordinator');
    expect(res.body.problems.filter((p: any) => p.rule === 'candidate-group-unknown')).to.have.length(1);
  });

  it('Given && in a condition, validation says to write "and" (not only that the syntax is wrong)', async () => {
    const xml = fixture('bad/feel-double-equals.bpmn').replace('outcome == "transfer"', 'outcome = "transfer" &amp;&amp; transferCount &lt; 2');
    const res = await s.http.post('/v1/definitions/validate').set(analyst).send({ xml });
    const problem = res.body.problems.find((p: any) => p.rule === 'feel-syntax');
    expect(problem.message).to.contain('uses "&&"').and.contain('write "and"');
  });

  it('Given a condition comparing with an agency code left unquoted, validation warns that FEEL reads it as a variable', async () => {
    const xml = fixture('bad/feel-double-equals.bpmn').replace('outcome == "transfer"', 'agency = CONG-AN');
    const res = await s.http.post('/v1/definitions/validate').set(analyst).send({ xml });
    const warnings = res.body.problems.filter((p: any) => p.rule === 'unquoted-text');
    expect(warnings.map((p: any) => [p.elementId, p.severity])).to.deep.equal([['f2', 'warning'], ['f2', 'warning']]);
    expect(warnings[0].message).to.contain('quote it: "CONG"').and.contain('subtraction');
  });

  it('Given a candidate group naming an agency merged away in the 2025 reform, validation warns with its successor and deploy still works', async () => {
    const xml = fixture('simple.bpmn').replace(/candidateGroups="[^"]*"/, 'candidateGroups="STNMT"').replace(/id="simple"/, 'id="retired-agency"');
    const res = await s.http.post('/v1/definitions').set(analyst).send({ xml });
    expect(res.status).to.equal(201);
    const warning = res.body.warnings.find((p: any) => p.rule === 'candidate-group-unknown');
    expect(warning.severity).to.equal('warning');
    expect(warning.message).to.contain('STNMT').and.contain('SNNMT');
  });

  it('Given an operator key, when it deploys, then 403 and nothing is stored', async () => {
    const operator = await s.as('operator');
    const res = await s.http.post('/v1/definitions').set(operator).send({ xml: fixture('timer-catch.bpmn') });
    expect(res.status).to.equal(403);
    expect(await t.db('definitions').where({ key: 'timer-catch' })).to.have.length(0);
  });

  it('Given a JSON body without xml, when deployed, then 400 names the field', async () => {
    const res = await s.http.post('/v1/definitions').set(analyst).send({ comment: 'quên xml' });
    expect(res.status).to.equal(400);
    expect(res.body.errors).to.deep.include({ path: '/xml', message: 'is required' });
  });
});

import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { fixture, testSystem, type TestSystem } from '../helpers/system.js';

// Bug: bpmnlint ran on the same moddle tree the deployed context was then
// built from; its traversal left marks that made every case of the diagram
// spin without reaching its first wait state ("did not reach a wait state").
describe('Regression: modelling lint does not change what is deployed', () => {
  let t: TestDb;
  let s: TestSystem;
  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
  });
  after(() => t.close());

  it('Given a diagram validated with the modelling rules, when deployed and started, then the case waits for its message', async () => {
    const { problems } = await s.definitions.validate(fixture('message.bpmn'));
    expect(problems.some((p) => p.rule.startsWith('bpmnlint/'))).to.equal(true);
    await s.definitions.deploy(fixture('message.bpmn'), { deployedBy: 'test' });
    const started = await s.runtime.startCase({ processKey: 'message', variables: { agency: 'SNNMT' }, actor: { id: 't', name: 't', roles: ['operator'], agency: null } });
    expect(started.status).to.equal('running');
    const jobs = await t.db('case_events').where({ case_id: started.caseId, type: 'activity.started', element_id: 'waitInfo' });
    expect(jobs).to.have.length(1);
  });
});

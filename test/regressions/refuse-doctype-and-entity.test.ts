import { expect } from 'chai';
import { refusedDeploy } from '../helpers/refusal.js';

// Hole (issue 14): a document with a DOCTYPE / ENTITY declaration was accepted (not expanded, but it should not be accepted at all).
describe('Regression: a document with a DOCTYPE or ENTITY declaration is refused', () => {
  const deploy = refusedDeploy();

  it('Given the shipped diagram with a DOCTYPE declaring an ENTITY, when an analyst deploys it, then 422 names no element (the whole file) and says DOCTYPE, and nothing is stored', async () => {
    const problem = await deploy('holes/doctype-entity.bpmn', 'doctype');
    expect(problem.elementId).to.equal(null);
    expect(problem.message).to.include('DOCTYPE');
  });
});

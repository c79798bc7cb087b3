import { expect } from 'chai';
import { refusedDeploy } from '../helpers/refusal.js';

// Hole (issue 14): a ${…} multi-instance collection was accepted, and then every start answered 500.
describe('Regression: a ${…} multi-instance collection is refused', () => {
  const deploy = refusedDeploy();

  it("Given a multi-instance classify step whose collection is ${agencies}, when an analyst deploys it, then 422 names the element classify and quotes the expression, and nothing is stored", async () => {
    const problem = await deploy('holes/juel-multi-instance.bpmn', 'not-feel');
    expect(problem.elementId).to.equal('classify');
    expect(problem.message).to.include('${agencies}');
  });
});

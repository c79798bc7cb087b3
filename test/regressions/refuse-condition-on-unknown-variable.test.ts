import { expect } from 'chai';
import { refusedDeploy } from '../helpers/refusal.js';

// Hole (issue 14): a condition naming a variable that no step sets (fieldXq != null) passed.
describe('Regression: a condition naming a variable no step sets is refused', () => {
  const deploy = refusedDeploy();

  it('Given the shipped diagram with the condition fieldXq != null, when an analyst deploys it, then 422 names the element alreadyClassified and names fieldXq, and nothing is stored', async () => {
    const problem = await deploy('holes/condition-unknown-variable.bpmn', 'feel-unknown-name');
    expect(problem.elementId).to.equal('alreadyClassified');
    expect(problem.message).to.include('"fieldXq"');
  });
});

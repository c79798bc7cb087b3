import { expect } from 'chai';
import { refusedDeploy } from '../helpers/refusal.js';

// Hole (issue 14): a timer written =dueAtt instead of =dueAt passed validation; at run time it was null and fired at once, escalating every case falsely.
describe('Regression: a timer reading an unknown variable is refused', () => {
  const deploy = refusedDeploy();

  it('Given the shipped diagram with its overdue timer written =dueAtt, when an analyst deploys it, then 422 names the element overdue and suggests dueAt, and nothing is stored', async () => {
    const problem = await deploy('holes/timer-misspelt-variable.bpmn', 'feel-unknown-name');
    expect(problem.elementId).to.equal('overdue');
    expect(problem.message).to.include('Did you mean "dueAt"');
  });
});

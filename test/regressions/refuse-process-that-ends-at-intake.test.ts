import { expect } from 'chai';
import { refusedDeploy } from '../helpers/refusal.js';

// Hole (issue 14): a process that is only a start event deployed and became active: every new complaint ended at intake.
describe('Regression: a process that cannot wait anywhere is refused', () => {
  const deploy = refusedDeploy();

  it('Given a process made of a start event only, when an analyst deploys it, then 422 names the element received and says it would end before waiting, and nothing is stored', async () => {
    const problem = await deploy('holes/start-only.bpmn', 'ends-without-waiting');
    expect(problem.elementId).to.equal('received');
    expect(problem.message).to.include('before it waits at any step');
  });
});

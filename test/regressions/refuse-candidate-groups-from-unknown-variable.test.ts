import { expect } from 'chai';
import { refusedDeploy } from '../helpers/refusal.js';

// Hole (issue 14): candidate groups taken from a variable that does not exist gave a task that nobody could see.
describe('Regression: candidate groups read from a variable that does not exist are refused', () => {
  const deploy = refusedDeploy();

  it('Given the shipped diagram whose handling step goes to =handlingAgency, when an analyst deploys it, then 422 names the element handle and names handlingAgency, and nothing is stored', async () => {
    const problem = await deploy('holes/candidate-groups-unknown-variable.bpmn', 'feel-unknown-name');
    expect(problem.elementId).to.equal('handle');
    expect(problem.message).to.include('"handlingAgency"');
  });
});

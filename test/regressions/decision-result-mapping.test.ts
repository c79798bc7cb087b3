import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { testSystem, type TestSystem } from '../helpers/system.js';

// Bug: the business-rule task unwrapped an array result as if it came from a
// service callback's argument list, so mapDecisionResult="resultList" gave one
// object and "collectEntries" one value instead of lists.
const DMN = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="channels" name="Kênh" namespace="https://pakn.test/dmn">
  <decision id="notify-channels" name="Kênh thông báo">
    <decisionTable id="t" hitPolicy="COLLECT">
      <input id="i1" label="Kênh"><inputExpression id="e1" typeRef="string"><text>channel</text></inputExpression></input>
      <output id="o1" name="via" typeRef="string" />
      <rule id="r1"><inputEntry id="r1i"><text>-</text></inputEntry><outputEntry id="r1o"><text>"sms"</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="r2i"><text>"app"</text></inputEntry><outputEntry id="r2o"><text>"push"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>`;

const bpmn = (map: string) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="map-${map}-defs" targetNamespace="https://pakn.test">
  <bpmn:process id="map-${map}" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide" />
    <bpmn:businessRuleTask id="decide" camunda:decisionRef="notify-channels" camunda:mapDecisionResult="${map}" camunda:resultVariable="result" />
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="wait" />
    <bpmn:userTask id="wait" camunda:candidateGroups="SNNMT" />
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>`;

describe('Regression: business-rule task result mapping', () => {
  let t: TestDb;
  let s: TestSystem;
  const actor = { id: 'test', name: 'test', roles: ['operator'], agency: null };
  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    await s.definitions.deploy(DMN, { deployedBy: 'test' });
  });
  after(() => t.close());

  for (const [map, expected] of [
    ['resultList', [{ via: 'sms' }, { via: 'push' }]],
    ['collectEntries', ['sms', 'push']],
  ] as const) {
    it(`Given mapDecisionResult="${map}" over two matching rows, the result variable is a list`, async () => {
      await s.definitions.deploy(bpmn(map), { deployedBy: 'test' });
      const started = await s.runtime.startCase({ processKey: `map-${map}`, variables: { channel: 'app' }, actor });
      const row = await t.db('cases').where({ id: started.caseId }).first('variables');
      expect(row.variables.result).to.deep.equal(expected);
    });
  }
});

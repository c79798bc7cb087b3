import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { fixture, testSystem, type TestSystem } from '../helpers/system.js';

/**
 * A black-box check of the timers (2026-12-08): a timeDuration of `=date and time("2020-01-01T00:00:00+07:00")`
 * passed validation (the feel-type rule took any date or duration for any timer), and every case then held the
 * timer as an incident ("… which is not a duration") that no variable could fix. A timer's literal must now be of
 * its kind: a duration for timeDuration, a date or date-time for timeDate.
 */
describe('Regression: a timer literal of the wrong kind is refused at validation (feel-type)', () => {
  let t: TestDb;
  let s: TestSystem;
  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
  });
  after(() => t.close());

  const withTimer = (kind: 'timeDuration' | 'timeDate', body: string) =>
    fixture('held-timer.bpmn').replace('<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">=timeout</bpmn:timeDuration>', `<bpmn:${kind} xsi:type="bpmn:tFormalExpression">${body}</bpmn:${kind}>`);
  const problems = async (xml: string) => (await s.definitions.validate(xml)).problems.filter((p: { rule: string }) => p.rule === 'feel-type');

  it('Given a timeDuration that is a date-time, or a timeDate that is a duration, then feel-type is an error naming the timer', async () => {
    for (const [kind, body] of [
      ['timeDuration', '=date and time("2020-01-01T00:00:00+07:00")'],
      ['timeDuration', '=@"2026-12-31T17:00:00+07:00"'],
      ['timeDate', '=duration("P3D")'],
      ['timeDuration', '=time("10:00:00")'],
    ] as const) {
      const found = await problems(withTimer(kind, body));
      expect(found, `${kind} ${body}`).to.have.length(1);
      expect(found[0]).to.include({ elementId: 'late', severity: 'error' });
    }
  });

  it('Given literals of the right kind, then nothing is said', async () => {
    for (const [kind, body] of [
      ['timeDuration', '=duration("PT5S")'],
      ['timeDuration', '=@"P3D"'],
      ['timeDate', '=date and time("2026-12-31T17:00:00+07:00")'],
      ['timeDuration', 'PT5S'],
    ] as const) {
      expect(await problems(withTimer(kind, body)), `${kind} ${body}`).to.deep.equal([]);
    }
  });
});

import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { fixture, testSystem, type TestSystem } from '../helpers/system.js';

/**
 * A black-box check of the timers (2026-12-08): a timer whose expression gave a text that is no duration (a
 * variable holding "ba ngày") was held as an incident, as designed — and then every incident list answered 500:
 * the view parsed the stored value as JSON again, which a text is not. Resolving that incident committed and
 * answered 500 too (the same view), and a resolution's answer said resolvedAt null.
 */
describe('Regression: an incident whose expression gave a text is listed and resolved like any other', () => {
  let t: TestDb;
  let s: TestSystem;
  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    await s.definitions.deploy(fixture('held-timer.bpmn'), { deployedBy: 'test' });
  });
  after(() => t.close());

  it('Given a timer that gave "ba ngày", when the incidents are listed and it is resolved, then 200 each, the text shown, and the answer says when', async () => {
    const coordinator = await s.as('coordinator');
    const started = await s.runtime.startCase({ processKey: 'held-timer', variables: { agency: 'SNNMT', timeout: 'ba ngày' }, actor: { id: 'op', name: 'Tổng đài viên', roles: ['operator'], agency: null } });
    for (const path of [`/v1/cases/${started.code}/incidents`, '/v1/incidents', '/v1/incidents?status=open']) {
      const res = await s.http.get(path).set(coordinator);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).to.equal(200);
      expect(res.body.find((i: { elementId: string }) => i.elementId === 'late')).to.include({ kind: 'timer', yielded: 'ba ngày', status: 'open' });
    }
    const [incident] = (await s.http.get(`/v1/cases/${started.code}/incidents`).set(coordinator)).body;
    const resolved = await s.http.post(`/v1/incidents/${incident.id}/resolve`).set(coordinator).send({ variables: { timeout: 'P3D' } });
    expect(resolved.status, JSON.stringify(resolved.body)).to.equal(200);
    expect(resolved.body.incident).to.include({ status: 'resolved', yielded: 'ba ngày' });
    expect(resolved.body.incident.resolvedAt).to.equal(s.clock.now().toISOString());
  });
});

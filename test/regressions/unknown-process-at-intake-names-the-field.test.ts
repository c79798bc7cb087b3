import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the timers and intake (2026-12-08): POST /v1/cases with "process": "no-such" (or the
 * decision key "routing") answered 404 "No process … is deployed." with errors null — the one refusal of intake
 * that named no field. It now names /process and says which processes there are; nothing is opened.
 */
describe('Regression: an intake naming a process that is not deployed is 404 naming /process', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given "no-such" and the decision key "routing", when a case is opened on them, then 404 names /process and lists complaint-handling; no case is opened', async () => {
    const count = async () => Number((await h.s.db('cases').count('* as n').first())!.n);
    const before = await count();
    for (const process of ['no-such', 'routing']) {
      const res = await h.s.http.post('/v1/cases').set(h.keys.operator).send({ process, variables: { title: 'Đèn đường hỏng', description: 'Đèn không sáng.', channel: 'call' } });
      expect(res.status, JSON.stringify(res.body)).to.equal(404);
      expect(res.body.errors).to.deep.equal([{ path: '/process', message: 'is not a deployed process' }]);
      expect(res.body.detail).to.include('"complaint-handling"');
    }
    expect(await count()).to.equal(before);
  });
});

import { expect } from 'chai';
import supertest from 'supertest';
import { createApp } from '../../api/app.js';
import { testSystem } from '../helpers/system.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Issue 15: 20 wrong phone guesses locked a case's public lookup for an
 * hour, so anyone could lock a citizen out of their own case; and the
 * limits lived in each node's memory, so two nodes allowed twice the limit.
 */
describe('Regression: a stranger guessing cannot lock a citizen out, and limits hold across nodes', () => {
  let t: TestDb;
  let h: Hotline;
  let code: string;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    code = (await h.intake({ title: 'Cây xanh đổ chắn lối đi', citizenPhone: '0933111222' })).code;
  });
  after(() => t.close());

  it('Given a stranger has guessed 40 wrong phone endings for the case, when the citizen waits at most 60 s, then the citizen finds the case', async () => {
    const stranger = supertest(createApp(h.s).callback());
    let wrong = 0;
    for (let i = 0; wrong < 40; i++) {
      const res = await stranger.get(`/v1/public/cases/${code}?phone=${String(1000 + i).padStart(4, '0')}`);
      if (res.status === 404) wrong++;
      else {
        expect(res.status).to.equal(429);
        expect(Number(res.headers['retry-after'])).to.be.at.most(60);
        h.s.clock.advance({ seconds: Number(res.headers['retry-after']) });
      }
      if (i % 20 === 19) h.s.clock.advance({ minutes: 1 }); // stay under the per-address budget
    }
    h.s.clock.advance({ seconds: 60 });
    const citizen = await stranger.get(`/v1/public/cases/${code}?phone=1222`);
    expect(citizen.status).to.equal(200);
    expect(citizen.body.code).to.equal(code);
  });

  it('Given two nodes on one database, when one address makes 40 lookups spread over both, then the 31st is refused: the budget is shared', async () => {
    h.s.clock.advance({ minutes: 5 });
    const other = await testSystem(t.another(), {}, { clock: h.s.clock });
    const nodes = [supertest(createApp(h.s).callback()), supertest(createApp(other).callback())];
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await nodes[i % 2].get('/v1/public/answers')).status);
    expect(statuses.filter((s) => s === 200)).to.have.length(30);
    expect(statuses[30]).to.equal(429);
  });
});

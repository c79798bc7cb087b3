import { expect } from 'chai';
import supertest from 'supertest';
import { createApp } from '../../api/app.js';
import { testSystem } from '../helpers/system.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Issue 15: the write limit per API key lived in each node's memory, so two
 * nodes allowed twice the limit. It is counted in the database now.
 */
describe('Regression: the write limit of a key holds across nodes', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given two nodes limited to 3 writes a minute per key, when one key writes 4 times alternating between them, then the 4th is refused with Retry-After', async () => {
    const other = await testSystem(t.another(), {}, { clock: h.s.clock });
    const nodes = [supertest(createApp({ ...h.s, writeRateLimitPerMinute: 3 }).callback()), supertest(createApp({ ...other, writeRateLimitPerMinute: 3 }).callback())];
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await nodes[i % 2].post('/v1/cases').set(h.keys.operator).send({ variables: { title: `Ghi lần ${i + 1}`, description: 'Nội dung phản ánh ghi nhận qua tổng đài.', channel: 'call' } })).status);
    expect(statuses).to.deep.equal([201, 201, 201, 429]);
    const refused = await nodes[1].post('/v1/cases').set(h.keys.operator).send({ variables: { title: 'Lần 5', description: 'Nội dung phản ánh ghi nhận qua tổng đài.', channel: 'call' } });
    expect(refused.status).to.equal(429);
    expect(Number(refused.headers['retry-after'])).to.be.within(1, 60);
    h.s.clock.advance({ minutes: 1 }); // a new window
    expect((await nodes[0].post('/v1/cases').set(h.keys.operator).send({ variables: { title: 'Phút sau', description: 'Nội dung phản ánh ghi nhận qua tổng đài.', channel: 'call' } })).status).to.equal(201);
  });
});

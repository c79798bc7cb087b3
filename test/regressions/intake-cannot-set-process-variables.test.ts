import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Issue 15: intake accepted variables the process owns (agency, dueAt,
 * answer, publish …): a client could pick its own agency or publish an
 * answer, and the public status page showed them.
 */
describe('Regression: intake cannot set the variables the process sets', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given an intake naming agency, dueAt, answer and publish, then 422 names each and no case is created', async () => {
    const before = Number(((await t.db('cases').count('* as n').first()) as any).n);
    const res = await h.s.http
      .post('/v1/cases')
      .set(h.keys.operator)
      .send({ variables: { title: 'Đường ngập nước', description: 'Mưa lớn làm ngập đường vào xóm.', channel: 'call', agency: 'SXD', dueAt: '2026-12-31T17:00:00+07:00', answer: 'Đã xử lý', publish: true } });
    expect(res.status).to.equal(422);
    expect(res.body.errors.map((e: any) => e.path)).to.deep.equal(['/variables/agency', '/variables/dueAt', '/variables/answer', '/variables/publish']);
    expect(Number(((await t.db('cases').count('* as n').first()) as any).n)).to.equal(before);
  });

  it('Given an operator who classifies on the call (field, unit), then intake accepts it', async () => {
    const kase = await h.intake({ title: 'Đường ngập nước', description: 'Mưa lớn làm ngập đường vào xóm.', channel: 'call', field: 'GIAO-THONG' });
    expect(kase.tasks[0].elementId).to.equal('handle');
  });
});

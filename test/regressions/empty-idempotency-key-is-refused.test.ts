import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the operator and agency guides (2026-12-08): an empty `Idempotency-Key:` header was
 * taken for no header at all, so the client that meant to make its request safe to retry got a plain one
 * (a retry then opened a second case). Now a present but empty key is refused, 400 naming the header.
 */
describe('Regression: an empty Idempotency-Key header is refused with 400 naming it', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given an intake with "Idempotency-Key:" empty, when posted, then it answers 400 naming the header and opens no case', async () => {
    const count = async () => Number((await h.s.db('cases').count('* as n').first())!.n);
    const before = await count();
    const res = await h.s.http
      .post('/v1/cases')
      .set(h.keys.operator)
      .set('Idempotency-Key', '')
      .send({ variables: { title: 'Đèn đường hỏng', description: 'Đèn không sáng.', channel: 'call', field: 'GIAO-THONG' } });
    expect(res.status, JSON.stringify(res.body)).to.equal(400);
    expect(res.body.errors).to.deep.equal([{ path: 'header Idempotency-Key', message: 'is not a valid key' }]);
    expect(await count()).to.equal(before);
  });
});

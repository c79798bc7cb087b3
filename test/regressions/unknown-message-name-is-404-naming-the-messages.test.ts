import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the operator guide (2026-12-08): a misspelt message name (`citizen-infor`, or
 * `citizen%20info`) answered 422 "Message … has no form: add processes/forms/message-citizen-infor.schema.json",
 * telling a call-taker to add a file on the server. There is no such message to send: 404, naming the messages
 * there are; the case is untouched.
 */
describe('Regression: a message name that does not exist is 404 naming the messages there are', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given a case, when citizen-infor or "citizen info" is sent to it, then 404 lists citizen-info and citizen-rating, and the case is as it was', async () => {
    const { code } = await h.intake({ title: 'Đất đai lấn chiếm', field: 'DAT-DAI' });
    const before = await h.case(code);
    for (const name of ['citizen-infor', 'citizen%20info']) {
      const res = await h.s.http.post(`/v1/cases/${code}/messages/${name}`).set(h.keys.operator).send({ citizenInfo: 'Số nhà 12.' });
      expect(res.status, JSON.stringify(res.body)).to.equal(404);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(res.body.detail).to.include('"citizen-info"').and.to.include('"citizen-rating"');
    }
    expect((await h.case(code)).version).to.equal(before.version);
  });
});

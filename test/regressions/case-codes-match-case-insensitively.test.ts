import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Issue 15: case codes are read out over the phone and typed by hand;
 * `pa2612-7k3qx` must find PA2612-7K3QX everywhere a code is looked up.
 */
describe('Regression: case codes match whatever the letter case', () => {
  let t: TestDb;
  let h: Hotline;
  let code: string;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    code = (await h.intake({ title: 'Cột điện nghiêng', citizenPhone: '0911222333' })).code;
  });
  after(() => t.close());

  it('Given a case, when staff read it by its code in lower case, then they get the case', async () => {
    const res = await h.s.http.get(`/v1/cases/${code.toLowerCase()}`).set(h.keys.coordinator);
    expect(res.status).to.equal(200);
    expect(res.body.code).to.equal(code);
  });

  it('Given a case, when the citizen looks it up in lower case, then the public lookup finds it', async () => {
    const res = await h.s.http.get(`/v1/public/cases/${code.toLowerCase()}?phone=2333`);
    expect(res.status).to.equal(200);
    expect(res.body.code).to.equal(code);
  });

  it('Given a case, when its history is read in mixed case, then it is found', async () => {
    const mixed = code.slice(0, 3).toLowerCase() + code.slice(3);
    const res = await h.s.http.get(`/v1/cases/${mixed}/history`).set(h.keys.coordinator);
    expect(res.status).to.equal(200);
  });
});

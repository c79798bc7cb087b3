import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline, type Key } from '../helpers/scenario.js';

/**
 * Issue 15: an agency that once held a case kept reading the citizen's name
 * and phone after the case was transferred away. It still reads the case
 * (it may need to answer for what it did), but without personal data.
 */
describe('Regression: after a transfer, the previous agency sees the case without personal data', () => {
  let t: TestDb;
  let h: Hotline;
  let syt: Key;
  let sct: Key;
  let code: string;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    syt = await h.s.as('agency', 'SYT', 'Cán bộ Sở Y tế');
    sct = await h.s.as('agency', 'SCT', 'Cán bộ Sở Công Thương');
    const kase = await h.intake({ title: 'Thực phẩm bẩn ở chợ', field: 'Y-TE', citizenName: 'Võ Thị Hoa', citizenPhone: '0909123456' });
    code = kase.code;
    const res = await h.s.http.post(`/v1/tasks/${kase.tasks[0].id}/transfer`).set(syt).send({ toAgency: 'SCT', reason: 'Chợ thuộc quản lý ngành công thương' });
    expect(res.status).to.equal(200);
  });
  after(() => t.close());

  it('Given the case moved from SYT to SCT, when SYT reads it, then it is shown with the name and phone masked', async () => {
    const res = await h.s.http.get(`/v1/cases/${code}`).set(syt);
    expect(res.status).to.equal(200);
    expect(res.body.variables.citizenName).to.equal('V***');
    expect(res.body.variables.citizenPhone).to.equal('*******456');
  });

  it('Given the same, when SYT reads its history, then no event shows the name or the phone', async () => {
    const res = await h.s.http.get(`/v1/cases/${code}/history`).set(syt);
    expect(res.status).to.equal(200);
    const text = JSON.stringify(res.body.events);
    expect(text).not.to.include('Võ Thị Hoa');
    expect(text).not.to.include('0909123456');
  });

  it('Given the same, when SCT (which holds it now) reads it, then it sees the citizen to answer', async () => {
    const res = await h.s.http.get(`/v1/cases/${code}`).set(sct);
    expect(res.status).to.equal(200);
    expect(res.body.variables).to.include({ citizenName: 'Võ Thị Hoa', citizenPhone: '0909123456' });
    const history = await h.s.http.get(`/v1/cases/${code}/history`).set(sct);
    expect(JSON.stringify(history.body.events)).to.include('0909123456');
  });
});

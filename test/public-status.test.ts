import { expect } from 'chai';
import supertest from 'supertest';
import { createApp } from '../api/app.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline } from './helpers/scenario.js';

describe('Citizens: public status lookup from the same rows the workflow writes', () => {
  let t: TestDb;
  let h: Hotline;
  let http: ReturnType<typeof supertest>;
  let code: string;

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    http = supertest(createApp(h.s).callback()); // its own rate-limit memory
    const kase = await h.intake({ title: 'Cống thoát nước bị tắc', field: 'XAY-DUNG', citizenName: 'Lý Thị Mai', citizenPhone: '0912 345 678' });
    code = kase.code;
  });
  after(() => t.close());

  it('Given the code and the last 4 phone digits, the citizen sees status, handling agency and due date, and nothing personal', async () => {
    const res = await http.get(`/v1/public/cases/${code}?phone=5678`);
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ code, status: 'handling', statusLabel: 'Đang xử lý', answer: null });
    expect(res.body.agency).to.deep.equal({ code: 'SXD', name: 'Sở Xây dựng' });
    expect(res.body.due).to.be.a('string');
    const text = JSON.stringify(res.body);
    for (const secret of ['Lý Thị Mai', '0912', '345 678', 'Cống thoát nước']) expect(text).not.to.contain(secret);
  });

  it('Given a wrong phone or an unknown code, the answers are identical 404s', async () => {
    const wrongPhone = await http.get(`/v1/public/cases/${code}?phone=0000`);
    const unknown = await http.get('/v1/public/cases/PA2611-ZZZZZ?phone=5678');
    expect(wrongPhone.status).to.equal(404);
    expect(unknown.status).to.equal(404);
    const strip = (b: any) => ({ ...b, instance: undefined, requestId: undefined });
    expect(strip(wrongPhone.body)).to.deep.equal(strip(unknown.body));
    expect((await http.get(`/v1/public/cases/${code}`)).status).to.equal(400);
  });

  it('Given the case is answered and published, the status shows the answer; unpublished answers stay private', async () => {
    await h.act(code, 'handle', 'SXD', { outcome: 'answer', answer: 'Đã nạo vét cống trên đường Nguyễn Ái Quốc.' });
    expect((await http.get(`/v1/public/cases/${code}?phone=5678`)).body).to.include({ status: 'reviewing' });
    await h.act(code, 'review', 'coordinator', { reviewDecision: 'approve', publish: true });
    await h.message(code, 'citizen-rating', { satisfied: true });
    const done = await http.get(`/v1/public/cases/${code}?phone=5678`);
    expect(done.body).to.include({ status: 'closed', statusLabel: 'Đã kết thúc', answer: 'Đã nạo vét cống trên đường Nguyễn Ái Quốc.' });
  });

  it('Given someone guessing phone digits for one code, lookups of that code are throttled', async () => {
    const fresh = supertest(createApp(h.s).callback());
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) statuses.push((await fresh.get(`/v1/public/cases/${code}?phone=${String(i).padStart(4, '0')}`)).status);
    expect(statuses.slice(0, 20).every((s) => s === 404)).to.equal(true);
    expect(statuses.slice(20)).to.deep.equal([429, 429]);
  });
});

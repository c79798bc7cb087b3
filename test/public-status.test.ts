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

  it('Given published answers, the public list shows them without any personal data, searchable by field', async () => {
    const res = await http.get('/v1/public/answers?field=XAY-DUNG');
    expect(res.status).to.equal(200);
    const mine = res.body.find((a: any) => a.code === code);
    expect(mine).to.include({ title: 'Cống thoát nước bị tắc', field: 'XAY-DUNG', answer: 'Đã nạo vét cống trên đường Nguyễn Ái Quốc.' });
    expect(mine.agency).to.deep.equal({ code: 'SXD', name: 'Sở Xây dựng' });
    expect(JSON.stringify(res.body)).not.to.match(/Lý Thị Mai|0912|345 678|citizen/);
    expect((await http.get('/v1/public/answers?field=Y-TE')).body.map((a: any) => a.code)).not.to.include(code);
  });

  it('Given a citizen rates on the web as dissatisfied, the case reopens to the coordinator', async () => {
    const kase = await h.intake({ title: 'Đèn đường không sáng', field: 'XAY-DUNG', citizenPhone: '+84 987 654 321' });
    await h.act(kase.code, 'handle', 'SXD', { outcome: 'answer', answer: 'Đã thay bóng đèn tuyến đường.' });
    const early = await http.post(`/v1/public/cases/${kase.code}/rating?phone=4321`).send({ satisfied: true });
    expect(early.status).to.equal(409); // not yet waiting for a rating
    await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve' });
    expect((await http.post(`/v1/public/cases/${kase.code}/rating?phone=9999`).send({ satisfied: false })).status).to.equal(404);
    const res = await http.post(`/v1/public/cases/${kase.code}/rating?phone=4321`).send({ satisfied: false, comment: 'Đèn vẫn chập chờn' });
    expect(res.status).to.equal(200);
    await h.task(kase.code, 'coordinate', 'coordinator');
    expect((await h.case(kase.code)).variables).to.include({ satisfied: false, ratingChannel: 'web', reopened: true });
  });

  it('Given a citizen replies "1" by SMS, the provider’s inbound callback rates the case waiting for it', async () => {
    const kase = await h.intake({ title: 'Xe rác đổ sai giờ', field: 'XAY-DUNG', citizenPhone: '0977 123 456' });
    await h.act(kase.code, 'handle', 'SXD', { outcome: 'answer', answer: 'Đã yêu cầu đơn vị vệ sinh điều chỉnh giờ thu gom.' });
    await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve' });
    const gateway = await h.s.as('gateway', null, 'Nhà cung cấp SMS');
    // Not a rating: the text is attached to the case (issue 15: it used to be dropped).
    const thanks = await h.s.http.post('/v1/sms/inbound').set(gateway).send({ from: '+84977123456', text: 'cảm ơn' });
    expect(thanks.body).to.deep.equal({ matched: true, code: kase.code, as: 'message' });
    const history = await h.s.http.get(`/v1/cases/${kase.code}/history`).set(h.keys.coordinator);
    expect(history.body.events.find((e: any) => e.type === 'sms.received').payload).to.deep.equal({ citizenMessage: 'cảm ơn' });
    const res = await h.s.http.post('/v1/sms/inbound').set(gateway).send({ from: '+84977123456', text: '1' });
    expect(res.body).to.deep.equal({ matched: true, code: kase.code, as: 'rating' });
    const done = await h.case(kase.code);
    expect(done.status).to.equal('completed');
    expect(done.variables).to.include({ satisfied: true, ratingChannel: 'sms' });
    const again = await h.s.http.post('/v1/sms/inbound').set(gateway).send({ from: '0977123456', text: '2' });
    expect(again.body.matched).to.equal(false);
  });

  it('Given an agency asked the citizen for more information, when the citizen answers by SMS, then the case resumes at the agency with the text', async () => {
    const kase = await h.intake({ title: 'Nước sinh hoạt có mùi lạ', field: 'XAY-DUNG', citizenPhone: '0966 555 444' });
    await h.act(kase.code, 'handle', 'SXD', { outcome: 'moreInfo', question: 'Xin cho biết địa chỉ cụ thể' });
    const gateway = await h.s.as('gateway', null, 'Nhà cung cấp SMS');
    const res = await h.s.http.post('/v1/sms/inbound').set(gateway).send({ from: '0966555444', text: 'Số 12 đường Nguyễn Ái Quốc, phường Tân Phong' });
    expect(res.body).to.deep.equal({ matched: true, code: kase.code, as: 'information' });
    await h.task(kase.code, 'handle', 'SXD');
    expect((await h.case(kase.code)).variables).to.include({ citizenInfo: 'Số 12 đường Nguyễn Ái Quốc, phường Tân Phong' });
    const auditorView = await h.s.http.get(`/v1/cases/${kase.code}/history`).set(h.keys.auditor);
    expect(JSON.stringify(auditorView.body.events)).not.to.include('Nguyễn Ái Quốc'); // masked for roles without personal data
  });

  it('Given someone guessing phone digits for one code, each wrong guess after the fifth waits longer (2, 4 … s, at most 60 s)', async () => {
    const fresh = supertest(createApp(h.s).callback());
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await fresh.get(`/v1/public/cases/${code}?phone=${String(i).padStart(4, '0')}`)).status);
    expect(statuses).to.deep.equal([404, 404, 404, 404, 404, 429, 429]);
    const slow = await fresh.get(`/v1/public/cases/${code}?phone=0009`);
    expect(slow.status).to.equal(429);
    expect(Number(slow.headers['retry-after'])).to.equal(2);
    h.s.clock.advance({ seconds: 2 });
    expect((await fresh.get(`/v1/public/cases/${code}?phone=0010`)).status).to.equal(404); // the 6th failure: now 4 s
    expect(Number((await fresh.get(`/v1/public/cases/${code}?phone=0011`)).headers['retry-after'])).to.equal(4);
    h.s.clock.advance({ minutes: 61 }); // the hour passes: the count starts again
  });
});

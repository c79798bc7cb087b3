import { expect } from 'chai';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline } from './helpers/scenario.js';

describe('Operators find cases: search by phone, words with or without diacritics, status, agency, dates', () => {
  let t: TestDb;
  let h: Hotline;
  const codes: Record<string, string> = {};

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    codes.lamp = (await h.intake({ title: 'Đèn đường hỏng ở phường Tân Phong', field: 'GIAO-THONG', citizenName: 'Phạm Thị Dung', citizenPhone: '0912 000 111' })).code;
    h.s.clock.advance(60_000);
    codes.water = (await h.intake({ title: 'Nước thải chảy ra đường', description: 'Mùi hôi nồng nặc cả tuần nay', field: 'MOI-TRUONG', citizenPhone: '+84 987 654 321' })).code;
    h.s.clock.advance(60_000);
    codes.road = (await h.intake({ title: 'Ổ gà trên đường Đồng Khởi', field: 'GIAO-THONG', citizenPhone: '0912000111' })).code;
  });
  after(() => t.close());

  const search = (query: string, key = h.keys.operator) => h.s.http.get(`/v1/cases?${query}`).set(key);

  it('Given cases with Vietnamese titles, when an operator types words with or without diacritics, then the same cases are found, newest first', async () => {
    for (const q of ['den duong', 'ĐÈN ĐƯỜNG', 'Đèn đuong', 'tan phong']) {
      const res = await search(`q=${encodeURIComponent(q)}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.items.map((c: any) => c.code), q).to.deep.equal([codes.lamp]);
    }
    const road = await search(`q=${encodeURIComponent('duong')}`);
    expect(road.body.items.map((c: any) => c.code)).to.deep.equal([codes.road, codes.water, codes.lamp]);
    // The description counts too; a word that appears nowhere finds nothing; LIKE wildcards are literal.
    expect((await search(`q=${encodeURIComponent('hoi nong nac')}`)).body.items.map((c: any) => c.code)).to.deep.equal([codes.water]);
    expect((await search('q=xyz')).body.items).to.deep.equal([]);
    expect((await search(`q=${encodeURIComponent('%')}`)).body.items).to.deep.equal([]);
  });

  it('Given a calling citizen, when the operator searches by the phone number as it was said, then the citizen’s cases are found with their contact', async () => {
    for (const phone of ['0912000111', '0912 000 111', '+84912000111']) {
      const res = await search(`phone=${encodeURIComponent(phone)}`);
      expect(res.body.items.map((c: any) => c.code), phone).to.deep.equal([codes.road, codes.lamp]);
    }
    const lamp = (await search('phone=0912000111&q=den')).body.items[0];
    expect(lamp).to.include({ code: codes.lamp, status: 'running', title: 'Đèn đường hỏng ở phường Tân Phong', citizenName: 'Phạm Thị Dung', citizenPhone: '0912 000 111', field: 'GIAO-THONG' });
    expect((await search('phone=84987654321')).body.items.map((c: any) => c.code)).to.deep.equal([codes.water]);
  });

  it('Given many hits, when paging with limit and cursor, then every case comes once, in order; a forged cursor is refused naming it', async () => {
    const first = await search('field=GIAO-THONG&limit=1');
    expect(first.body.items.map((c: any) => c.code)).to.deep.equal([codes.road]);
    const second = await search(`field=GIAO-THONG&limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((c: any) => c.code)).to.deep.equal([codes.lamp]);
    expect(second.body.nextCursor).to.equal(null);
    const bad = await search('cursor=nonsense');
    expect(bad.status).to.equal(400);
    expect(bad.body.errors).to.deep.equal([{ path: '/cursor', message: 'use nextCursor from the previous page' }]);
    expect((await search('status=finished')).body.errors[0].path).to.match(/status/);
  });

  it('Given the filters, then status, dates (Vietnam days) and agency narrow the hits', async () => {
    const today = new Date(h.s.clock.now().getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
    expect((await search(`from=${today}&to=${today}`)).body.items).to.have.length(3);
    expect((await search('to=2020-01-01')).body.items).to.deep.equal([]);
    expect((await search('status=completed')).body.items).to.deep.equal([]);
    const agency = (await h.case(codes.water)).variables.agency as string;
    expect((await search(`agency=${agency}`)).body.items.map((c: any) => c.code)).to.deep.equal([codes.water]);
  });

  it('Given an agency key, then it finds only the cases its agency holds or held, and may not search by phone; an auditor sees the contact masked', async () => {
    const agency = (await h.case(codes.water)).variables.agency as string;
    const key = await h.agency(agency);
    const mine = await search('q=duong', key);
    expect(mine.status).to.equal(200);
    expect(mine.body.items.map((c: any) => c.code)).to.deep.equal([codes.water]);
    const byPhone = await search('phone=0912000111', key);
    expect(byPhone.status).to.equal(403);
    expect(byPhone.body.detail).to.match(/phone/);
    const audited = (await search(`q=den`, h.keys.auditor)).body.items[0];
    expect(audited.citizenPhone).to.equal('*********111');
    expect(audited.citizenName).to.equal('P***');
    expect((await search('q=den', await h.s.as('analyst'))).status).to.equal(403);
  });
});

import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Vietnam's 2025 reform abolished district-level government on 2025-07-01.
 * The catalogue (processes/catalogue/units.json, agencies.json) says so with
 * validity dates; nothing in the code knows about the reform.
 */
describe('Scenario: the 2025 administrative reform, done by catalogue data alone', () => {
  let t: TestDb;
  let h: Hotline;
  const birthRegistration = { field: 'TU-PHAP', procedure: 'HT-DANG-KY-KHAI-SINH' };

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given a case filed in June 2025 under Long Thành district, when the reform takes effect, then new cases must use the commune units and route to their focal points, while the open case keeps its district and finishes there', async () => {
    // Filed a week before the reform; its 7 working days run to 2025-07-07, so the district still holds it on 2025-07-02.
    h.s.clock.set('2025-06-26T03:00:00Z');
    const before = await h.intake({ title: 'Chậm cấp giấy khai sinh', ...birthRegistration, unit: 'H-LONG-THANH' });
    await h.task(before.code, 'handle', 'VP-H-LONG-THANH');
    expect((await h.case(before.code)).variables).to.include({ level: 2, unit: 'H-LONG-THANH' });

    h.s.clock.set('2025-07-02T03:00:00Z');
    const refused = await h.s.http.post('/v1/cases').set(h.keys.operator).send({ variables: { title: 'Khai sinh', description: 'Hỏi thủ tục đăng ký khai sinh.', channel: 'call', ...birthRegistration, unit: 'H-LONG-THANH' } });
    expect(refused.status).to.equal(422);
    expect(refused.body.errors).to.have.length(1);
    expect(refused.body.errors[0].path).to.equal('/unit');
    expect(refused.body.errors[0].message).to.match(/not in force on 2025-07-02; use .*X-LONG-THANH/);

    const after = await h.intake({ title: 'Chậm cấp giấy khai sinh', ...birthRegistration, unit: 'X-LONG-THANH' });
    await h.task(after.code, 'handle', 'VP-X-LONG-THANH');

    const units = await h.s.http.get('/v1/catalogue/units?on=2025-07-02').set(h.keys.operator);
    const codes = units.body.map((u: any) => u.code);
    expect(codes).to.include('X-LONG-THANH');
    expect(codes).not.to.include('H-LONG-THANH');

    // The district's focal point still finishes the case it holds.
    await h.act(before.code, 'handle', 'VP-H-LONG-THANH', { outcome: 'answer', answer: 'Đã cấp giấy khai sinh cho công dân.' });
    await h.act(before.code, 'review', 'coordinator', { reviewDecision: 'approve' });
    await h.message(before.code, 'citizen-rating', { satisfied: true });
    const done = await h.case(before.code);
    expect(done.status).to.equal('completed');
    expect(done.variables).to.include({ unit: 'H-LONG-THANH', agency: 'VP-H-LONG-THANH' });
  });
});

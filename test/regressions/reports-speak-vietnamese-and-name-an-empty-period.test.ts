import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of docs/reports.md (2026-12-08): the scorecard's CSV printed its findings as JSON ("{}",
 * {"wrong-answer":1}) under the Vietnamese header Kết luận; the statistics named cases without an agency
 * "(none)" where the weekly report says "(chưa phân công)", and answered 200 [] for from after to where the
 * scorecard answers 400; without `to`, both ran to now + 24 hours, which is no day's end.
 */
describe('Regression: the reports speak Vietnamese in their cells, refuse an empty period, and end on a day', () => {
  let t: TestDb;
  let h: Hotline;
  let agency: string;
  before(async function () {
    this.timeout(120_000);
    t = await freshDb();
    h = await Hotline.open(t.db);
    // One case answered, approved, rated unsatisfied twice: an accountability finding against its agency.
    const kase = await h.intake({ title: 'Đất đai lấn chiếm', field: 'DAT-DAI' });
    agency = kase.variables.agency as string;
    await h.act(kase.code, 'handle', agency, { outcome: 'answer', answer: 'Cơ quan đã xử lý và trả lời.' });
    await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve' });
    await h.message(kase.code, 'citizen-rating', { satisfied: false });
    await h.act(kase.code, 'coordinate', 'coordinator', { decision: 'answer', answer: 'VP UBND tỉnh trả lời bổ sung.' });
    await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve' });
    await h.message(kase.code, 'citizen-rating', { satisfied: false });
    await h.act(kase.code, 'accountability', 'reviewer', { finding: 'buck-passing', findingAgency: agency });
    await h.intake({ title: 'Chưa phân loại' }); // waits at classification: no agency yet
  });
  after(() => t.close());

  it('Given a finding, when the scorecard is taken as CSV, then its Kết luận cell says it in words', async () => {
    const res = await h.s.http.get('/v1/reports/scorecard?format=csv').set(h.keys.coordinator);
    expect(res.status).to.equal(200);
    const line = res.text.split('\n').find((l) => l.startsWith(`${agency},`));
    expect(line, res.text).to.include('đùn đẩy: 1');
    expect(res.text).to.not.match(/[{}]/);
  });

  it('Given cases without an agency, when the statistics group by agency, then they are "(chưa phân công)"; from after to is 400 naming /from', async () => {
    const stats = await h.s.http.get('/v1/reports/stats?groupBy=agency&period=day').set(h.keys.coordinator);
    expect(stats.status).to.equal(200);
    expect(stats.body.map((r: { agency: string }) => r.agency)).to.include('(chưa phân công)').and.not.include('(none)');
    const reversed = await h.s.http.get('/v1/reports/stats?groupBy=agency&from=2026-12-01&to=2026-11-01').set(h.keys.coordinator);
    expect(reversed.status).to.equal(400);
    expect(reversed.body.errors).to.deep.equal([{ path: '/from', message: 'must be before to' }]);
  });

  it('Given no to, when the scorecard is asked, then it runs to the end of today in Vietnam time', async () => {
    const res = await h.s.http.get('/v1/reports/scorecard').set(h.keys.coordinator);
    const to = new Date(res.body.to);
    // Midnight in Vietnam is 17:00 UTC, and the period's end is after now by less than a day.
    expect(to.getUTCHours()).to.equal(17);
    expect(to.getUTCMinutes()).to.equal(0);
    const ahead = to.getTime() - h.s.clock.now().getTime();
    expect(ahead).to.be.greaterThan(0).and.at.most(86_400_000);
  });
});

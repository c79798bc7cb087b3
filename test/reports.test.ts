import { expect } from 'chai';
import { scorecard, isoWeekOf, isoWeekRange } from '../engine/hotline/reports.js';
import type { CaseFacts } from '../db/reports.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline } from './helpers/scenario.js';

const FIELDS = ['DAT-DAI', 'XAY-DUNG', 'Y-TE', 'GIAO-DUC', 'MOI-TRUONG'];

describe('The Saturday review: weekly reconciliation and scorecard', () => {
  let t: TestDb;
  let h: Hotline;
  const expected = { received: 0, answered: 0, transferred: 0, sentBack: 0, escalated: 0, findings: 0 };

  before(async function () {
    this.timeout(120_000);
    t = await freshDb();
    h = await Hotline.open(t.db);
    // A generated week of traffic through the API: a deterministic mix of outcomes.
    for (let i = 0; i < 24; i++) {
      const field = FIELDS[i % FIELDS.length];
      const kase = await h.intake({ title: `Phản ánh thử số ${i}`, field, channel: ['call', 'web', 'app', 'sms'][i % 4], citizenPhone: `09000000${String(i).padStart(2, '0')}` });
      expected.received++;
      const agency = kase.variables.agency as string;
      const mode = i % 6;
      if (mode === 0) continue; // left open
      if (mode === 1) {
        await h.act(kase.code, 'handle', agency, { outcome: 'transfer', toAgency: agency === 'SYT' ? 'SCT' : 'SYT', transferReason: 'Thuộc thẩm quyền cơ quan khác' });
        expected.transferred++;
        continue; // open at the second agency
      }
      await h.act(kase.code, 'handle', agency, { outcome: 'answer', answer: 'Cơ quan đã xử lý và trả lời.' });
      if (mode === 2) {
        await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'sendBack', reviewComment: 'Chưa đủ căn cứ' });
        expected.sentBack++;
        continue; // back with the agency
      }
      await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve' });
      expected.answered++;
      await h.message(kase.code, 'citizen-rating', { satisfied: mode !== 5 });
      if (mode === 5) {
        expected.escalated++; // dissatisfied: reopened to the coordinator
        await h.act(kase.code, 'coordinate', 'coordinator', { decision: 'answer', answer: 'VP UBND tỉnh trả lời bổ sung.' });
        await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve' });
        await h.message(kase.code, 'citizen-rating', { satisfied: false });
        await h.act(kase.code, 'accountability', 'reviewer', { finding: 'wrong-answer', findingAgency: agency });
        expected.findings++;
      }
    }
  });
  after(() => t.close());

  it('Given a week of traffic, the weekly report’s counts add up per agency and in total, and match the traffic', async () => {
    const res = await h.s.http.get('/v1/reports/weekly').set(h.keys.coordinator);
    expect(res.status).to.equal(200);
    const r = res.body;
    expect(r.week).to.equal(isoWeekOf(h.s.clock.now()).label);
    expect(r.reconciliation.ok).to.equal(true);
    for (const a of [...r.agencies, r.totals]) expect(a.received).to.equal(a.answeredOnTime + a.answeredLate + a.stillOpen);
    expect(r.agencies.reduce((n: number, a: any) => n + a.received, 0)).to.equal(r.totals.received);
    expect(r.totals).to.include({ received: expected.received, answered: expected.answered, transferred: expected.transferred, sentBack: expected.sentBack, escalated: expected.escalated, reopened: expected.escalated, findings: expected.findings });
    expect(r.totals.answeredLate).to.equal(0);
    expect(r.topFields.map((f: any) => f.count).reduce((a: number, b: number) => a + b, 0)).to.equal(expected.received);
    expect(r.topFields[0].trend).to.have.length(8);
    expect(r.topFields[0].trend[7].count).to.equal(r.topFields[0].count);
    expect(r.topFields.find((f: any) => f.code === 'DAT-DAI').name).to.equal('Đất đai');
  });

  it('Given Accept: text/csv, the weekly report is a CSV with BOM and Vietnamese headers', async () => {
    const res = await h.s.http.get('/v1/reports/weekly').set(h.keys.reviewer).set('Accept', 'text/csv').buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    const body: Buffer = res.body;
    expect([...body.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
    const lines = body.toString('utf8').slice(1).trim().split('\n');
    expect(lines[0]).to.match(/^Mã cơ quan,Cơ quan,Tiếp nhận,Đã trả lời,Trả lời đúng hạn/);
    expect(lines[lines.length - 1]).to.match(new RegExp(`^TỔNG,Tổng cộng,${expected.received},`));
  });

  it('Given the scorecard, each agency has its on-time rate, handling days, transfers per case and satisfaction', async () => {
    const res = await h.s.http.get('/v1/reports/scorecard').set(h.keys.auditor);
    expect(res.status).to.equal(200);
    const total = res.body.agencies.reduce((n: number, a: any) => n + a.received, 0);
    expect(total).to.equal(expected.received);
    for (const a of res.body.agencies) {
      if (a.answered) expect(a.handlingWorkingDays.median).to.be.a('number');
      expect(a.transfersPerCase).to.be.at.least(0);
    }
    const stats = await h.s.http.get('/v1/reports/stats?groupBy=field&period=week').set(h.keys.coordinator);
    expect(stats.body.reduce((n: number, r: any) => n + r.received, 0)).to.equal(expected.received);
    expect((await h.s.http.get('/v1/reports/weekly?week=2026-W99').set(h.keys.coordinator)).status).to.equal(400);
    expect((await h.s.http.get('/v1/reports/weekly').set(await h.agency('SYT'))).status).to.equal(403);
  });

  it('Given open overdue cases, the on-time rate counts them in its denominator (a rate that ignores them flatters late agencies)', () => {
    const now = new Date('2026-11-27T10:00:00Z');
    const fact = (over: Partial<CaseFacts>): CaseFacts => ({
      id: Math.random().toString(36),
      code: 'X',
      title: null,
      status: 'running',
      agency: 'SXD',
      field: null,
      unit: null,
      procedure: null,
      channel: null,
      late: false,
      escalated: false,
      transferCount: 0,
      satisfied: null,
      createdAt: new Date('2026-11-02T02:00:00Z'),
      answeredAt: null,
      openTaskDue: null,
      openTaskGroups: [],
      ...over,
    });
    const cohort = [
      fact({ status: 'completed', answeredAt: new Date('2026-11-05T02:00:00Z'), satisfied: true }),
      fact({ status: 'completed', answeredAt: new Date('2026-11-20T02:00:00Z'), late: true, satisfied: false, transferCount: 2 }),
      fact({ openTaskDue: new Date('2026-11-16T10:00:00Z') }), // open and overdue
      fact({ openTaskDue: new Date('2026-12-16T10:00:00Z') }), // open, not yet due
    ];
    const [sxd] = scorecard({ cohort, findings: [], now, workingDays: () => 3, agencyName: () => 'Sở Xây dựng' });
    expect(sxd).to.include({ received: 4, answered: 2, answeredOnTime: 1, openOverdue: 1, satisfactionRate: 0.5, transfersPerCase: 0.5 });
    expect(sxd.onTimeRate).to.equal(1 / 3); // not 1/2: the overdue open case counts
  });

  it('Given ISO weeks, the range is Monday 00:00 to Monday 00:00 in Vietnam time', () => {
    expect(isoWeekRange('2026-W01')).to.deep.equal({ from: new Date('2025-12-29T00:00:00+07:00'), to: new Date('2026-01-05T00:00:00+07:00') });
    expect(isoWeekOf(new Date('2026-11-27T20:00:00Z')).label).to.equal('2026-W48'); // Saturday 28/11 03:00 in Hà Nội
  });
});

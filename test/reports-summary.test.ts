import { expect } from 'chai';
import type { Db } from '../db/connect.js';
import { activityIn, casesReceived, receivedByWeek, scorecardTotals, type CaseFacts } from '../db/reports.js';
import * as reportFacts from '../db/migrations/20261207110000_report_facts.js';
import * as answersByCreated from '../db/migrations/20261207120000_case_answers_by_created.js';
import { isoWeekOf, isoWeekRange, scorecard, scorecardOf, weekCounts, weeklyReport } from '../engine/hotline/reports.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline } from './helpers/scenario.js';

const FIELDS = ['DAT-DAI', 'XAY-DUNG', 'Y-TE', 'GIAO-DUC'];

/** When each case's answer was first sent, read from the history itself: what case_answers must hold. */
async function answersFromHistory(db: Db): Promise<Map<string, number>> {
  const rows = await db('case_events')
    .where({ type: 'activity.started', element_id: 'sendAnswer' })
    .whereNotNull('case_id')
    .groupBy('case_id')
    .select('case_id', db.raw('min(at) as at'));
  return new Map(rows.map((r: any) => [r.case_id, new Date(r.at).getTime()]));
}

/** case_answers as a map, after checking that each row carries its case's created_at (the reports' range). */
async function answersFromSummary(db: Db): Promise<Map<string, number>> {
  const rows = await db('case_answers as a').join('cases as c', 'c.id', 'a.case_id').select('a.case_id', 'a.answered_at', 'a.created_at', db.raw('c.created_at as case_created_at'));
  for (const r of rows) expect(new Date(r.created_at).getTime(), `created_at of the answer of ${r.case_id}`).to.equal(new Date(r.case_created_at).getTime());
  expect(Number((await db('case_answers').count('* as n').first())?.n)).to.equal(rows.length);
  return new Map(rows.map((r: any) => [r.case_id, new Date(r.answered_at).getTime()]));
}

/**
 * The cohort as the reports read it before issue 20: every case's whole
 * variables picked in JavaScript, the answer time by a correlated subquery
 * into the history. The new casesReceived must give exactly this.
 */
async function casesReceivedFromHistory(db: Db, from: Date, to: Date): Promise<CaseFacts[]> {
  const { rows } = await db.raw(
    `select c.id, c.code, c.status, c.variables, c.created_at,
            (select min(e.at) from case_events e where e.case_id = c.id and e.type = 'activity.started' and e.element_id = 'sendAnswer') as answered_at,
            (select min(t.due_at) from tasks t where t.case_id = c.id) as open_due,
            (select coalesce(array_agg(distinct g), '{}') from tasks t, unnest(t.candidate_groups) g where t.case_id = c.id) as open_groups
       from cases c
      where c.created_at >= ? and c.created_at < ?
      order by c.created_at, c.id`,
    [from, to],
  );
  return rows.map((r: any) => {
    const v = r.variables ?? {};
    const text = (x: unknown) => (typeof x === 'string' ? x : null);
    return {
      id: r.id,
      code: r.code,
      title: text(v.title),
      status: r.status,
      agency: text(v.agency),
      field: text(v.field),
      unit: text(v.unit),
      procedure: text(v.procedure),
      channel: text(v.channel),
      late: v.late === true,
      escalated: v.escalated === true,
      transferCount: typeof v.transferCount === 'number' ? v.transferCount : 0,
      satisfied: typeof v.satisfied === 'boolean' ? v.satisfied : null,
      createdAt: new Date(r.created_at),
      answeredAt: r.answered_at ? new Date(r.answered_at) : null,
      openTaskDue: r.open_due ? new Date(r.open_due) : null,
      openTaskGroups: r.open_groups ?? [],
    };
  });
}

describe('Reports at scale: the answer times summary (case_answers) agrees with the history', () => {
  let t: TestDb;
  let h: Hotline;
  const WEEK_MS = 7 * 86_400_000;
  let reopenedId = '';

  /** A few cases of each kind: open, transferred, answered and approved, sent back, dissatisfied and answered again. */
  async function traffic(n: number, offset: number) {
    for (let i = 0; i < n; i++) {
      const k = offset + i;
      const kase = await h.intake({ title: `Phản ánh tổng hợp số ${k}`, field: FIELDS[k % FIELDS.length], channel: 'call', citizenPhone: `09100000${String(k).padStart(2, '0')}` });
      const agency = kase.variables.agency as string;
      const mode = k % 5;
      if (mode === 0) continue;
      if (mode === 1) {
        await h.act(kase.code, 'handle', agency, { outcome: 'transfer', toAgency: agency === 'SYT' ? 'SCT' : 'SYT', transferReason: 'Thuộc thẩm quyền cơ quan khác' });
        continue;
      }
      h.s.clock.advance({ hours: 5 });
      await h.act(kase.code, 'handle', agency, { outcome: 'answer', answer: 'Cơ quan đã xử lý và trả lời.' });
      if (mode === 2) {
        await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'sendBack', reviewComment: 'Chưa đủ căn cứ' });
        continue;
      }
      await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve' });
      h.s.clock.advance({ days: 1 });
      await h.message(kase.code, 'citizen-rating', { satisfied: mode !== 4 });
      if (mode === 4) {
        // Reopened and answered a second time: the report's answer time stays the first one.
        h.s.clock.advance({ days: 1 });
        await h.act(kase.code, 'coordinate', 'coordinator', { decision: 'answer', answer: 'VP UBND tỉnh trả lời bổ sung.' });
        await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve' });
        reopenedId = kase.id;
      }
    }
  }

  before(async function () {
    this.timeout(240_000);
    t = await freshDb();
    h = await Hotline.open(t.db);
    // Three weeks of traffic, so the trend has earlier weeks to count.
    await traffic(6, 0);
    h.s.clock.advance({ days: 7 });
    await traffic(6, 6);
    h.s.clock.advance({ days: 7 });
    await traffic(5, 12);
  });
  after(() => t.close());

  it('Given cases answered through the API, case_answers holds for each exactly the time of its first sendAnswer in the history, and nothing for unanswered cases', async () => {
    const history = await answersFromHistory(t.db);
    expect(history.size).to.be.greaterThan(3);
    expect(await answersFromSummary(t.db)).to.deep.equal(history);
    const sends = await t.db('case_events').where({ case_id: reopenedId, type: 'activity.started', element_id: 'sendAnswer' }).orderBy('seq').pluck('at');
    expect(sends).to.have.length(2);
    const [row] = await t.db('case_answers').where({ case_id: reopenedId });
    expect(new Date(row.answered_at).getTime()).to.equal(new Date(sends[0]).getTime());
    expect(new Date(sends[1]).getTime()).to.be.greaterThan(new Date(sends[0]).getTime());
  });

  it('Given a history written before the summary existed, the migrations’ backfill gives the same answer times (and each case’s created_at), and the trigger takes over after it', async () => {
    await answersByCreated.down(t.db);
    await reportFacts.down(t.db);
    await traffic(3, 17); // answered while there is no summary: only the backfill can know
    await reportFacts.up(t.db);
    await answersByCreated.up(t.db);
    expect(await answersFromSummary(t.db)).to.deep.equal(await answersFromHistory(t.db));
    await traffic(3, 20);
    expect(await answersFromSummary(t.db)).to.deep.equal(await answersFromHistory(t.db));
  });

  /** The old reading with casesReceived's contract applied: the open task only for open cases that are late, escalated or overdue. */
  const gated = (facts: CaseFacts[], now: Date) =>
    facts.map((c) => (c.status !== 'completed' && (c.late || c.escalated || (c.openTaskDue !== null && c.openTaskDue < now)) ? c : { ...c, openTaskDue: null, openTaskGroups: [] }));
  /** Moments around the open tasks' due dates: before all, exactly at the first (not yet overdue: due < now is strict), between, after all. */
  const moments = async () => {
    const dues = (await t.db('tasks').whereNotNull('due_at').orderBy('due_at').pluck('due_at')).map((d: any) => new Date(d).getTime());
    expect(dues.length).to.be.greaterThan(2);
    return [dues[0] - 1, dues[0], dues[1] + 1, dues[dues.length - 1] + 1].map((ms) => new Date(ms));
  };

  it('Given variables of unexpected types, casesReceived gives exactly the facts the per-case history reading gave (the open task for the cases that may need attention)', async () => {
    // Values a report must not mistake: numbers and text where strings, booleans and numbers are expected.
    const [odd] = await t.db('cases').orderBy('created_at').limit(1).pluck('id');
    await t.db('cases').where({ id: odd }).update({ variables: t.db.raw(`variables || '{"field": 7, "title": 12, "late": "true", "escalated": 1, "transferCount": "2", "satisfied": "yes"}'::jsonb`) });
    const [other] = await t.db('cases').orderBy('created_at', 'desc').limit(1).pluck('id');
    await t.db('cases').where({ id: other }).update({ variables: t.db.raw(`variables || '{"late": true, "escalated": true, "transferCount": 3, "satisfied": false, "procedure": "DD-CAP-GCN-LAN-DAU", "unit": "HUYEN-A"}'::jsonb`) });
    const from = new Date(0);
    const to = new Date(h.s.clock.now().getTime() + WEEK_MS);
    const old = await casesReceivedFromHistory(t.db, from, to);
    for (const now of await moments()) {
      const facts = await casesReceived(t.db, from, to, now);
      expect(facts.length).to.equal(23);
      expect(facts).to.deep.equal(gated(old, now));
      expect(facts.find((c) => c.id === odd)).to.include({ field: null, title: null, late: false, escalated: false, transferCount: 0, satisfied: null });
      expect(facts.find((c) => c.id === other)).to.include({ late: true, escalated: true, transferCount: 3, satisfied: false, unit: 'HUYEN-A' });
      expect(facts.find((c) => c.id === other)!.openTaskGroups).to.have.length.greaterThan(0);
    }
  });

  it('Given three weeks of traffic, the weekly report built from the summary and the grouped trend equals the one built from per-week cohorts of the history, before and after tasks fall due', async () => {
    const { from, to } = isoWeekRange(isoWeekOf(h.s.clock.now()).label);
    const names = { agency: () => undefined, field: () => undefined, procedure: () => undefined };
    const activity = await activityIn(t.db, from, to);
    const caseAgency = new Map<string, string | null>();
    const earlier = await receivedByWeek(t.db, new Date(from.getTime() - 7 * WEEK_MS), 7);
    const trendOld = [];
    for (let i = 7; i >= 0; i--) {
      const f = new Date(from.getTime() - i * WEEK_MS);
      trendOld.push({ week: isoWeekOf(f).label, counts: weekCounts(await casesReceivedFromHistory(t.db, f, new Date(f.getTime() + WEEK_MS))) });
    }
    expect(trendOld.filter((w) => w.counts.field.size > 0).length).to.be.at.least(3);
    const oldCohort = await casesReceivedFromHistory(t.db, from, to);
    for (const now of await moments()) {
      const cohort = await casesReceived(t.db, from, to, now);
      const trendNew = [...earlier.map((counts, i) => ({ week: isoWeekOf(new Date(from.getTime() - (7 - i) * WEEK_MS)).label, counts })), { week: isoWeekOf(from).label, counts: weekCounts(cohort) }];
      expect(trendNew).to.deep.equal(trendOld);
      const report = (c: CaseFacts[], trend: typeof trendNew) => weeklyReport({ week: isoWeekOf(from).label, from, to, cohort: c, activity, caseAgency, trend, now, names });
      const made = report(cohort, trendNew);
      expect(made).to.deep.equal(report(oldCohort, trendOld));
      if (now.getTime() > h.s.clock.now().getTime()) expect(made.overdueAndEscalated.some((c) => c.overdue && c.holder.length > 0 && c.due !== null)).to.equal(true);
    }
  });

  it('Given open tasks due before, at and after now, the scorecard from the totals counted in SQL equals the scorecard of the per-case history reading', async () => {
    const from = new Date(0);
    const to = new Date(h.s.clock.now().getTime() + WEEK_MS);
    const old = await casesReceivedFromHistory(t.db, from, to);
    const findings = await activityIn(t.db, from, to, ['finding.recorded']);
    const workingDays = (a: Date, b: Date) => Math.round((b.getTime() - a.getTime()) / 3_600_000);
    // A case whose agency is not a string counts as unassigned, as does one literally named so: one row, added up.
    const [odd] = await t.db('cases').orderBy('created_at', 'desc').offset(2).limit(1).pluck('id');
    await t.db('cases').where({ id: odd }).update({ variables: t.db.raw(`variables || '{"agency": 42}'::jsonb`) });
    const [named] = await t.db('cases').orderBy('created_at', 'desc').offset(3).limit(1).pluck('id');
    await t.db('cases').where({ id: named }).update({ variables: t.db.raw(`variables || '{"agency": "(chưa phân công)"}'::jsonb`) });
    const oldNow = await casesReceivedFromHistory(t.db, from, to);
    expect(oldNow).to.not.deep.equal(old);
    const all = await moments();
    for (const now of all) {
      const cards = scorecardOf({ totals: await scorecardTotals(t.db, from, to, now), findings, workingDays, agencyName: () => undefined });
      expect(cards).to.deep.equal(scorecard({ cohort: oldNow, findings, now, workingDays, agencyName: () => undefined }));
      expect(cards.find((a) => a.agency === '(chưa phân công)')?.received).to.equal(2);
      if (now === all[all.length - 1]) expect(cards.some((a) => a.openOverdue > 0)).to.equal(true);
    }
  });

  it('Given the scorecard route, its agencies equal the scorecard of the per-case history reading on the live calendar (working days remembered per pair of Vietnam dates)', async () => {
    const now = h.s.clock.now();
    const res = await h.s.http.get('/v1/reports/scorecard?from=2026-10-01&to=2026-12-31').set(h.keys.auditor);
    expect(res.status).to.equal(200);
    const from = new Date(res.body.from);
    const to = new Date(res.body.to);
    const findings = await activityIn(t.db, from, new Date(Math.max(to.getTime(), now.getTime())), ['finding.recorded']);
    const expected = scorecard({ cohort: await casesReceivedFromHistory(t.db, from, to), findings, now, workingDays: (a, b) => h.s.calendar.workingDaysBetween(a, b), agencyName: (c) => h.s.catalogue.get('agencies', c)?.name });
    expect(res.body.agencies).to.deep.equal(expected);
    expect(expected.some((a) => a.handlingWorkingDays.median !== null && a.handlingWorkingDays.median > 0)).to.equal(true);
  });

  it('Given the week’s activity, activityIn reads it from the report index: the same events as a filter over every event of the week', async () => {
    const nowAt = h.s.clock.now();
    const from = new Date(nowAt.getTime() - 4 * WEEK_MS);
    const all = await t.db('case_events').where('at', '>=', from).where('at', '<', nowAt).whereNotNull('case_id').orderBy([{ column: 'at' }, { column: 'id' }]).select('case_id', 'type', 'payload');
    const expected = all.filter(
      (e: any) => ['case.escalated', 'finding.recorded'].includes(e.type) || (e.type === 'task.completed' && (e.payload.output?.outcome === 'transfer' || e.payload.output?.reviewDecision === 'sendBack')),
    );
    const got = await activityIn(t.db, from, nowAt);
    expect(got.map((e) => [e.case_id, e.type])).to.deep.equal(expected.map((e: any) => [e.case_id, e.type]));
    expect(got.some((e) => e.type === 'task.completed')).to.equal(true);
    expect((await activityIn(t.db, from, nowAt, ['case.escalated'])).every((e) => e.type === 'case.escalated')).to.equal(true);
  });
});

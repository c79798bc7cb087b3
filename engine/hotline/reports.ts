import type { ActivityRow, CaseFacts, ScorecardFacts, ScorecardTotals, WeekCounts } from '../../db/reports.js';
import { InputError } from '../errors.js';
import { YEARS } from '../json-schema.js';
import { VIETNAM_OFFSET_MS as VN_OFFSET_MS } from '../vietnam-time.js';


/** ISO week "2026-W48" → [Monday 00:00, next Monday 00:00) in Asia/Ho_Chi_Minh. */
export function isoWeekRange(week: string): { from: Date; to: Date } {
  const m = /^(\d{4})-W(\d{2})$/.exec(week);
  if (!m) throw new InputError('week must be an ISO week such as 2026-W48.', [{ path: '/week', message: 'must look like 2026-W48' }]);
  const year = Number(m[1]);
  const w = Number(m[2]);
  if (year < YEARS.min || year > YEARS.max) throw new InputError(`week must be in the years ${YEARS.min} to ${YEARS.max}.`, [{ path: '/week', message: `the year must be between ${YEARS.min} and ${YEARS.max}` }]);
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const isoDay = jan4.getUTCDay() || 7;
  const weeksInYear = isoWeekOf(new Date(Date.UTC(year, 11, 28))).week;
  if (w < 1 || w > weeksInYear) throw new InputError(`${year} has weeks 01 to ${weeksInYear}.`, [{ path: '/week', message: `week must be between 01 and ${weeksInYear}` }]);
  const mondayUtc = Date.UTC(year, 0, 4 - (isoDay - 1) + (w - 1) * 7);
  const from = new Date(mondayUtc - VN_OFFSET_MS);
  return { from, to: new Date(from.getTime() + 7 * 86_400_000) };
}

/** The ISO week a moment falls in, in Vietnam time. */
export function isoWeekOf(at: Date): { year: number; week: number; label: string } {
  const local = new Date(at.getTime() + VN_OFFSET_MS);
  const d = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const year = d.getUTCFullYear();
  const week = Math.ceil(((d.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return { year, week, label: `${year}-W${String(week).padStart(2, '0')}` };
}

export interface Counts {
  received: number;
  answered: number;
  answeredOnTime: number;
  answeredLate: number;
  stillOpen: number;
  stillOpenOverdue: number;
  escalated: number;
  transferred: number;
  transferredPastLimit: number;
  reopened: number;
  sentBack: number;
  findings: number;
}

const zero = (): Counts => ({ received: 0, answered: 0, answeredOnTime: 0, answeredLate: 0, stillOpen: 0, stillOpenOverdue: 0, escalated: 0, transferred: 0, transferredPastLimit: 0, reopened: 0, sentBack: 0, findings: 0 });

/** A cohort's counts by field and by procedure, as receivedByWeek counts them in SQL (string values only). */
export function weekCounts(cohort: CaseFacts[]): WeekCounts {
  const counts: WeekCounts = { field: new Map(), procedure: new Map() };
  for (const c of cohort) {
    for (const key of ['field', 'procedure'] as const) {
      const code = c[key];
      if (code !== null) counts[key].set(code, (counts[key].get(code) ?? 0) + 1);
    }
  }
  return counts;
}

function isOverdue(c: Pick<CaseFacts, 'status' | 'late' | 'openTaskDue'>, now: Date): boolean {
  return c.status !== 'completed' && (c.late || (c.openTaskDue !== null && c.openTaskDue < now));
}

/**
 * The Saturday reconciliation: the week's cohort (cases received in the
 * week) with what became of them, and the week's activity (transfers,
 * escalations, send-backs, reopenings, findings), per agency and in total.
 * Identity, per agency and in total: received = answeredOnTime + answeredLate + stillOpen.
 */
export function weeklyReport(input: {
  week: string;
  from: Date;
  to: Date;
  cohort: CaseFacts[];
  activity: ActivityRow[];
  caseAgency: Map<string, string | null>;
  /** The eight weeks up to this one, oldest first: counts by field and procedure (receivedByWeek, or weekCounts of a cohort). */
  trend: Array<{ week: string; counts: WeekCounts }>;
  now: Date;
  names: { agency: (code: string) => string | undefined; field: (code: string) => string | undefined; procedure: (code: string) => string | undefined };
}) {
  const byAgency = new Map<string, Counts>();
  const total = zero();
  const bucket = (agency: string | null) => {
    const key = agency ?? '(chưa phân công)';
    let c = byAgency.get(key);
    if (!c) byAgency.set(key, (c = zero()));
    return [c, total];
  };
  for (const c of input.cohort) {
    for (const b of bucket(c.agency)) {
      b.received++;
      if (c.answeredAt) {
        b.answered++;
        if (c.late) b.answeredLate++;
        else b.answeredOnTime++;
      } else {
        b.stillOpen++;
        if (isOverdue(c, input.now)) b.stillOpenOverdue++;
      }
    }
  }
  for (const e of input.activity) {
    const caseAgency = input.caseAgency.get(e.case_id) ?? null;
    if (e.type === 'case.escalated') {
      for (const b of bucket(caseAgency)) {
        b.escalated++;
        if (e.payload.escalationReason === 'transfer-limit') b.transferredPastLimit++;
        if (e.payload.escalationReason === 'dissatisfied') b.reopened++;
      }
    } else if (e.type === 'finding.recorded') {
      for (const b of bucket(e.payload.findingAgency ?? caseAgency)) b.findings++;
    } else if (e.type === 'task.completed' && e.payload.output?.outcome === 'transfer') {
      // A transfer counts against the agency that passed the case on.
      for (const b of bucket(e.actor_agency ?? caseAgency)) b.transferred++;
    } else if (e.type === 'task.completed' && e.payload.output?.reviewDecision === 'sendBack') {
      for (const b of bucket(caseAgency)) b.sentBack++;
    }
  }
  const agencies = [...byAgency.entries()]
    .map(([agency, counts]) => ({ agency, agencyName: input.names.agency(agency) ?? agency, ...counts }))
    .sort((a, b) => b.received - a.received || a.agency.localeCompare(b.agency));
  const reconciles = (c: Counts) => c.received === c.answeredOnTime + c.answeredLate + c.stillOpen;

  const attention = input.cohort
    .filter((c) => c.status !== 'completed' && (isOverdue(c, input.now) || c.escalated))
    .map((c) => ({ code: c.code, title: c.title, holder: c.openTaskGroups, agency: c.agency, due: c.openTaskDue?.toISOString() ?? null, overdue: isOverdue(c, input.now), escalated: c.escalated }));

  const top = (key: 'field' | 'procedure', name: (code: string) => string | undefined) => {
    const counts = new Map<string, number>();
    for (const c of input.cohort) if (c[key]) counts.set(c[key]!, (counts.get(c[key]!) ?? 0) + 1);
    return [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 10)
      .map(([code, count]) => ({
        code,
        name: name(code) ?? code,
        count,
        trend: input.trend.map((t) => ({ week: t.week, count: t.counts[key].get(code) ?? 0 })),
      }));
  };

  return {
    week: input.week,
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    totals: total,
    agencies,
    reconciliation: { ok: reconciles(total) && agencies.every(reconciles), identity: 'received = answeredOnTime + answeredLate + stillOpen' },
    overdueAndEscalated: attention,
    topFields: top('field', input.names.field),
    topProcedures: top('procedure', input.names.procedure),
  };
}

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  const i = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/** A report's row of cases without the grouping value (no agency yet, no field …), in the words of every report. */
export const UNASSIGNED = '(chưa phân công)';

/** The accountability review's findings (processes/forms/accountability.schema.json), as the CSV reports print them. */
const FINDING_LABELS: Record<string, string> = { 'wrong-answer': 'trả lời sai', 'buck-passing': 'đùn đẩy', irresponsibility: 'thiếu trách nhiệm', none: 'không vi phạm' };

/** Findings by kind in words for a CSV cell ("đùn đẩy: 2; trả lời sai: 1"), empty when there are none: it printed the JSON "{}". */
export function findingsInWords(findings: Record<string, number>): string {
  return Object.entries(findings)
    .map(([kind, n]) => `${FINDING_LABELS[kind] ?? kind}: ${n}`)
    .join('; ');
}

/**
 * Working days between two times for one report, remembered per pair of Vietnam dates: the calendar
 * counts the working days d with date(a) < d <= date(b) (engine/hotline/calendar.ts), so the pair of
 * dates decides it. A month at 1 M cases has ~170 000 answered cases but a few thousand date pairs;
 * 150 000 calendar calls took 0.48 s. Without a calendar, whole days.
 */
export function workingDaysByDate(calendar: { workingDaysBetween(a: Date, b: Date): number } | null | undefined): (a: Date, b: Date) => number {
  if (!calendar) return (a, b) => Math.round((b.getTime() - a.getTime()) / 86_400_000);
  const seen = new Map<number, number>();
  const day = (d: Date) => Math.floor((d.getTime() + VN_OFFSET_MS) / 86_400_000);
  return (a, b) => {
    const key = day(a) * 1_000_000 + day(b);
    let n = seen.get(key);
    if (n === undefined) seen.set(key, (n = calendar.workingDaysBetween(a, b)));
    return n;
  };
}

/** A scorecard cohort's totals per agency (variable agency; null when it has none), as scorecardTotals counts them in SQL. */
export function totalsOf(cohort: ScorecardFacts[], now: Date): ScorecardTotals[] {
  const groups = new Map<string, ScorecardTotals>();
  for (const c of cohort) {
    const key = c.agency ?? UNASSIGNED;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { agency: key, received: 0, answered: 0, answeredOnTime: 0, openOverdue: 0, transfers: 0, rated: 0, satisfied: 0, handled: [] }));
    g.received++;
    if (c.answeredAt) {
      g.answered++;
      if (!c.late) g.answeredOnTime++;
      g.handled.push([c.createdAt.getTime(), c.answeredAt.getTime()]);
    }
    if (isOverdue(c, now)) g.openOverdue++;
    g.transfers += c.transferCount;
    if (c.satisfied !== null) {
      g.rated++;
      if (c.satisfied) g.satisfied++;
    }
  }
  return [...groups.values()];
}

/**
 * Per-agency KPIs for the PAR index over cases received in the period.
 * onTimeRate = answeredOnTime / (answered + openOverdue): open overdue cases
 * stay in the denominator, so not answering never looks better than answering late.
 */
export function scorecard(input: {
  cohort: ScorecardFacts[];
  findings: ActivityRow[];
  now: Date;
  workingDays: (from: Date, to: Date) => number;
  agencyName: (code: string) => string | undefined;
}) {
  return scorecardOf({ ...input, totals: totalsOf(input.cohort, input.now) });
}

/**
 * The scorecard from per-agency totals: counted in SQL (db/reports.ts
 * scorecardTotals, one row per agency) or from a cohort (totalsOf). Totals of
 * the same agency key are added up (a case whose agency is not a string counts
 * as unassigned, as it always has).
 */
export function scorecardOf(input: {
  totals: ScorecardTotals[];
  findings: ActivityRow[];
  workingDays: (from: Date, to: Date) => number;
  agencyName: (code: string) => string | undefined;
}) {
  const groups = new Map<string, ScorecardTotals>();
  for (const t of input.totals) {
    const key = t.agency ?? UNASSIGNED;
    const g = groups.get(key);
    if (!g) groups.set(key, { ...t, agency: key, handled: [...t.handled] });
    else {
      for (const k of ['received', 'answered', 'answeredOnTime', 'openOverdue', 'transfers', 'rated', 'satisfied'] as const) g[k] += t[k];
      for (const h of t.handled) g.handled.push(h);
    }
  }
  return [...groups.values()]
    .map((g) => {
      const agency = g.agency!;
      const days = g.handled.map(([created, answered]) => input.workingDays(new Date(created), new Date(answered))).sort((a, b) => a - b);
      const findingsByKind: Record<string, number> = {};
      for (const f of input.findings) {
        if (f.payload.findingAgency !== agency) continue;
        const kind = String(f.payload.finding);
        findingsByKind[kind] = (findingsByKind[kind] ?? 0) + 1;
      }
      const denominator = g.answered + g.openOverdue;
      return {
        agency,
        agencyName: input.agencyName(agency) ?? agency,
        received: g.received,
        answered: g.answered,
        answeredOnTime: g.answeredOnTime,
        openOverdue: g.openOverdue,
        onTimeRate: denominator ? g.answeredOnTime / denominator : null,
        handlingWorkingDays: { median: percentile(days, 50), p90: percentile(days, 90) },
        transfersPerCase: g.received ? g.transfers / g.received : 0,
        findings: findingsByKind,
        satisfactionRate: g.rated ? g.satisfied / g.rated : null,
        rated: g.rated,
      };
    })
    .sort((a, b) => a.agency.localeCompare(b.agency));
}

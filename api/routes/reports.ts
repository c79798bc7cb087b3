import { stringify } from 'csv-stringify/sync';
import { activityIn, agenciesOfCases, casesReceived, receivedByWeek, receivedStats, scorecardTotals, type GroupBy, type Period } from '../../db/reports.js';
import { InputError } from '../../engine/errors.js';
import { rolesFor } from '../../engine/hotline/policy.js';
import { findingsInWords, isoWeekOf, isoWeekRange, scorecardOf, UNASSIGNED, weekCounts, weeklyReport, workingDaysByDate } from '../../engine/hotline/reports.js';
import { vietnamDate, vietnamDayStart as dayStart } from '../../engine/vietnam-time.js';
import type { AppDeps } from '../deps.js';
import type { Ctx, RouteSpec } from '../http.js';
import { ScorecardSchema, StatsRowSchema, WeeklyReportSchema } from '../schemas.js';

function wantsCsv(ctx: Ctx): boolean {
  return ctx.query.format === 'csv' || ctx.accepts('application/json', 'text/csv') === 'text/csv';
}

function sendCsv(ctx: Ctx, name: string, rows: Array<Record<string, unknown>>, columns: Array<[string, string]>) {
  ctx.type = 'text/csv; charset=utf-8';
  ctx.attachment(name);
  // BOM: Excel opens UTF-8 as such only with it, and Vietnamese needs UTF-8.
  ctx.body = stringify(rows, { header: true, bom: true, columns: columns.map(([key, header]) => ({ key, header })) });
}

/** Without `to`, a report runs to the end of today in Vietnam (it ran to now + 24 h, which was no day's end). */
function endOfToday(now: Date): Date {
  return new Date(dayStart(vietnamDate(now)).getTime() + 86_400_000);
}

export function reportRoutes(deps: AppDeps): RouteSpec[] {
  const names = {
    agency: (c: string) => deps.catalogue.get('agencies', c)?.name,
    field: (c: string) => deps.catalogue.get('fields', c)?.name,
    procedure: (c: string) => deps.catalogue.get('procedures', c)?.name,
  };

  return [
    {
      method: 'get',
      path: '/v1/reports/weekly',
      summary: 'The Saturday reconciliation report for an ISO week (Asia/Ho_Chi_Minh)',
      description:
        'Cases received in the week per agency and in total (answered on time / late, still open and overdue), the week’s escalations, transfers (and past the limit), reopenings, send-backs and findings; the overdue and escalated cases with their holder; top fields and procedures with an 8-week trend. Accept: text/csv (or format=csv) for a CSV with BOM. Identity: received = answeredOnTime + answeredLate + stillOpen.',
      tags: ['Reports'],
      access: rolesFor('readReports'),
      query: { type: 'object', additionalProperties: false, properties: { week: { type: 'string', pattern: '^\\d{4}-W\\d{2}$' }, format: { enum: ['json', 'csv'] } } },
      responses: { 200: { description: 'The weekly report (JSON), or its agency rows as CSV with a BOM', content: { 'application/json': WeeklyReportSchema, 'text/csv': { type: 'string' } } } },
      handler: async (ctx) => {
        const now = deps.clock.now();
        const week = ctx.state.query?.week ?? isoWeekOf(now).label;
        const { from, to } = isoWeekRange(week);
        // The seven weeks before this one are only counted (one grouped query); this week's counts
        // come from its cohort, so the trend's last point always equals the week's own figure.
        const WEEK_MS = 7 * 86_400_000;
        const trendFrom = new Date(from.getTime() - 7 * WEEK_MS);
        const [cohort, activity, earlier] = await Promise.all([casesReceived(deps.db, from, to, now), activityIn(deps.db, from, to), receivedByWeek(deps.db, trendFrom, 7)]);
        const caseAgency = await agenciesOfCases(deps.db, [...new Set(activity.map((a) => a.case_id))]);
        const trend = earlier.map((counts, i) => ({ week: isoWeekOf(new Date(trendFrom.getTime() + i * WEEK_MS)).label, counts }));
        trend.push({ week: isoWeekOf(from).label, counts: weekCounts(cohort) });
        const report = weeklyReport({ week, from, to, cohort, activity, caseAgency, trend, now, names });
        if (wantsCsv(ctx)) {
          sendCsv(ctx, `bao-cao-tuan-${week}.csv`, [...report.agencies, { agency: 'TỔNG', agencyName: 'Tổng cộng', ...report.totals }], [
            ['agency', 'Mã cơ quan'],
            ['agencyName', 'Cơ quan'],
            ['received', 'Tiếp nhận'],
            ['answered', 'Đã trả lời'],
            ['answeredOnTime', 'Trả lời đúng hạn'],
            ['answeredLate', 'Trả lời trễ hạn'],
            ['stillOpen', 'Đang xử lý'],
            ['stillOpenOverdue', 'Đang xử lý quá hạn'],
            ['escalated', 'Chuyển VP UBND tỉnh'],
            ['transferred', 'Chuyển cơ quan khác'],
            ['transferredPastLimit', 'Chuyển quá giới hạn'],
            ['reopened', 'Mở lại'],
            ['sentBack', 'Bị trả lại'],
            ['findings', 'Kết luận trách nhiệm'],
          ]);
          return;
        }
        ctx.body = report;
      },
    },
    {
      method: 'get',
      path: '/v1/reports/scorecard',
      summary: 'Per-agency KPIs for the PAR index (cases received in [from, to))',
      description:
        'onTimeRate = answeredOnTime / (answered + openOverdue) — open overdue cases count in the denominator; median and p90 handling time in working days; transfers per case; findings by kind; satisfaction rate. Formulas in docs/reports.md.',
      tags: ['Reports'],
      access: rolesFor('readReports'),
      query: {
        type: 'object',
        additionalProperties: false,
        properties: { from: { type: 'string', format: 'date' }, to: { type: 'string', format: 'date' }, format: { enum: ['json', 'csv'] } },
      },
      responses: { 200: { description: 'Scorecard (JSON), or as CSV with a BOM', content: { 'application/json': ScorecardSchema, 'text/csv': { type: 'string' } } } },
      handler: async (ctx) => {
        const now = deps.clock.now();
        const q = ctx.state.query ?? {};
        const to = q.to ? dayStart(q.to) : endOfToday(now);
        const from = q.from ? dayStart(q.from) : new Date(to.getTime() - 31 * 86_400_000);
        if (from >= to) throw new InputError('from must be before to.', [{ path: '/from', message: 'must be before to' }]);
        const [totals, findings] = await Promise.all([
          scorecardTotals(deps.db, from, to, now),
          activityIn(deps.db, from, new Date(Math.max(to.getTime(), now.getTime())), ['finding.recorded']),
        ]);
        const rows = scorecardOf({ totals, findings, workingDays: workingDaysByDate(deps.calendar), agencyName: names.agency });
        if (wantsCsv(ctx)) {
          sendCsv(
            ctx,
            'bang-diem.csv',
            rows.map((r) => ({ ...r, onTimeRate: r.onTimeRate ?? '', median: r.handlingWorkingDays.median ?? '', p90: r.handlingWorkingDays.p90 ?? '', satisfactionRate: r.satisfactionRate ?? '', findings: findingsInWords(r.findings) })),
            [
              ['agency', 'Mã cơ quan'],
              ['agencyName', 'Cơ quan'],
              ['received', 'Tiếp nhận'],
              ['answered', 'Đã trả lời'],
              ['answeredOnTime', 'Đúng hạn'],
              ['openOverdue', 'Quá hạn chưa trả lời'],
              ['onTimeRate', 'Tỷ lệ đúng hạn'],
              ['median', 'Trung vị ngày làm việc'],
              ['p90', 'P90 ngày làm việc'],
              ['transfersPerCase', 'Số lần chuyển / hồ sơ'],
              ['findings', 'Kết luận'],
              ['satisfactionRate', 'Tỷ lệ hài lòng'],
            ],
          );
          return;
        }
        ctx.body = { from: from.toISOString(), to: to.toISOString(), agencies: rows };
      },
    },
    {
      method: 'get',
      path: '/v1/reports/stats',
      summary: 'Cases received, closed, late and escalated by agency, field, unit or channel, per day, week or month',
      tags: ['Reports'],
      access: rolesFor('readReports'),
      query: {
        type: 'object',
        additionalProperties: false,
        required: ['groupBy'],
        properties: {
          groupBy: { enum: ['agency', 'field', 'unit', 'channel'] },
          period: { enum: ['day', 'week', 'month'] },
          from: { type: 'string', format: 'date' },
          to: { type: 'string', format: 'date' },
        },
      },
      responses: { 200: { description: 'Rows per period and group', schema: { type: 'array', items: StatsRowSchema } } },
      handler: async (ctx) => {
        const q = ctx.state.query;
        const now = deps.clock.now();
        const to = q.to ? dayStart(q.to) : endOfToday(now);
        const from = q.from ? dayStart(q.from) : new Date(to.getTime() - 366 * 86_400_000);
        // As the scorecard: an empty period is a mistake to name, not an empty answer.
        if (from >= to) throw new InputError('from must be before to.', [{ path: '/from', message: 'must be before to' }]);
        ctx.body = await receivedStats(deps.db, q.groupBy as GroupBy, (q.period ?? 'month') as Period, from, to, UNASSIGNED);
      },
    },
  ];
}

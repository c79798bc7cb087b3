import type { Db } from './connect.js';

/** One case as the reports see it: facts read from the case row and its history, nothing recomputed twice. */
export interface CaseFacts {
  id: string;
  code: string;
  title: string | null;
  status: string;
  agency: string | null;
  field: string | null;
  unit: string | null;
  procedure: string | null;
  channel: string | null;
  late: boolean;
  escalated: boolean;
  transferCount: number;
  satisfied: boolean | null;
  createdAt: Date;
  answeredAt: Date | null;
  openTaskDue: Date | null;
  openTaskGroups: string[];
}

/** A variable as text only when it is a JSON string (what the reports did with `typeof x === 'string'`). */
const text = (name: string) => `case when jsonb_typeof(c.variables->'${name}') = 'string' then c.variables->>'${name}' end`;
/** late === true, transferCount when a number (else 0), satisfied when a boolean (else null): the reports' JavaScript checks, in SQL. */
const LATE = `coalesce(c.variables->'late' = 'true'::jsonb, false)`;
const TRANSFER_COUNT = `case when jsonb_typeof(c.variables->'transferCount') = 'number' then (c.variables->>'transferCount')::float8 else 0 end`;
const ESCALATED = `coalesce(c.variables->'escalated' = 'true'::jsonb, false)`;
/**
 * A timestamp as milliseconds since the epoch (a float8, parsed as a number): the driver's parsing of
 * timestamptz text into a Date was most of the Node side of a month's scorecard (173 000 rows).
 */
const ms = (expr: string) => `floor(extract(epoch from ${expr}) * 1000)::float8`;
/** Per case, the earliest due date of its open tasks due before the bound `now`: one range of tasks_inbox_key_idx. */
const OVERDUE_TASKS = `(select t.case_id, min(t.due_at) as due_at from tasks t where coalesce(t.due_at, 'infinity'::timestamptz) < ? group by t.case_id)`;
const SATISFIED = `case when jsonb_typeof(c.variables->'satisfied') = 'boolean' then (c.variables->'satisfied')::boolean end`;

/**
 * Cases received in [from, to): the variables the reports read, the first time
 * an answer was sent, and the open task of those that may need attention. One
 * query on cases(created_at).
 *
 * The answer time comes from case_answers (kept by a trigger on the history,
 * migration 20261207110000_report_facts): the correlated subquery into the
 * partitioned history it replaces probed every monthly partition per case and
 * read each case's events to find the one (3.9 s for a week of 11 900 cases at
 * 300 050 cases); its rows carry the case's created_at (migration
 * 20261207120000), so only the period's answers are joined, not every answer
 * ever recorded. The variables are picked in SQL, with the same type checks
 * the reports made in JavaScript, so only the dozen facts travel instead of
 * every case's whole variables document.
 *
 * openTaskDue and openTaskGroups are read only for a case still open that is
 * late, escalated or has a task due before `now` (OVERDUE_TASKS: one range of
 * tasks_inbox_key_idx); for any other case they are null and [] whatever its
 * tasks, since the reports use them only to tell and list exactly those cases
 * (isOverdue, overdueAndEscalated). A probe of the tasks index for every case
 * of the week was 0.6 s of 1.0 s for a week of 39 100 cases (what a week is at
 * 1 000 000) on the 300 050-case database.
 * Sorted here, not in SQL: the titles made PostgreSQL's sort spill to disk.
 */
export async function casesReceived(db: Db, from: Date, to: Date, now: Date): Promise<CaseFacts[]> {
  const { rows } = await db.raw(
    `select c.id, c.code, c.status, ${ms('c.created_at')} as created_at, ${ms('a.answered_at')} as answered_at,
            ${text('title')} as title, ${text('agency')} as agency, ${text('field')} as field, ${text('unit')} as unit,
            ${text('procedure')} as procedure, ${text('channel')} as channel,
            ${LATE} as late, ${ESCALATED} as escalated,
            ${TRANSFER_COUNT} as transfer_count, ${SATISFIED} as satisfied,
            ${ms('o.open_due')} as open_due, o.open_groups
       from cases c
       left join case_answers a on a.case_id = c.id and a.created_at >= ? and a.created_at < ?
       left join ${OVERDUE_TASKS} od on od.case_id = c.id
       left join lateral (
         select min(t.due_at) as open_due, coalesce(array_agg(distinct g) filter (where g is not null), '{}') as open_groups
           from tasks t left join lateral unnest(t.candidate_groups) g on true
          where t.case_id = c.id
            and c.status <> 'completed' and (od.due_at is not null or ${LATE} or ${ESCALATED})) o on true
      where c.created_at >= ? and c.created_at < ?`,
    [from, to, now, from, to],
  );
  const facts: CaseFacts[] = rows.map((r: any) => ({
    id: r.id,
    code: r.code,
    title: r.title,
    status: r.status,
    agency: r.agency,
    field: r.field,
    unit: r.unit,
    procedure: r.procedure,
    channel: r.channel,
    late: r.late,
    escalated: r.escalated,
    transferCount: Number(r.transfer_count),
    satisfied: r.satisfied,
    createdAt: new Date(Number(r.created_at)),
    answeredAt: r.answered_at === null ? null : new Date(Number(r.answered_at)),
    openTaskDue: r.open_due === null ? null : new Date(Number(r.open_due)),
    openTaskGroups: r.open_groups ?? [],
  }));
  // created_at, then id: the text of a uuid orders as PostgreSQL orders uuids (lowercase hex, byte by byte).
  return facts.sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime() || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}

/** What the scorecard reads of a case (engine/hotline/reports.ts scorecard; the route counts them in SQL: scorecardTotals). */
export type ScorecardFacts = Pick<CaseFacts, 'agency' | 'status' | 'late' | 'transferCount' | 'satisfied' | 'createdAt' | 'answeredAt' | 'openTaskDue'>;

/** A scorecard's counts for one agency key; `handled` holds each answered case's [created, answered] in epoch ms. */
export interface ScorecardTotals {
  agency: string | null;
  received: number;
  answered: number;
  answeredOnTime: number;
  openOverdue: number;
  transfers: number;
  rated: number;
  satisfied: number;
  handled: Array<[number, number]>;
}

/**
 * The scorecard's counts per agency for the cases received in [from, to),
 * counted in SQL with the same tests as the JavaScript (engine scorecard, totalsOf)
 * (isOverdue: still open, and late or with a task due before `now`), so one
 * row per agency travels instead of one per case (173 000 for a month at
 * 1 000 000 cases); only the answered cases' two dates travel each, for the
 * working-day percentiles, which need the calendar.
 */
export async function scorecardTotals(db: Db, from: Date, to: Date, now: Date): Promise<ScorecardTotals[]> {
  const { rows } = await db.raw(
    `select agency, count(*)::int as received, count(answered_at)::int as answered,
            count(answered_at) filter (where not late)::int as answered_on_time,
            count(*) filter (where status <> 'completed' and (late or overdue_due is not null))::int as open_overdue,
            coalesce(sum(transfer_count), 0)::float8 as transfers,
            count(satisfied)::int as rated, count(*) filter (where satisfied)::int as satisfied,
            coalesce(array_agg(array[created_at, answered_at]) filter (where answered_at is not null), '{}') as handled
       from (select ${text('agency')} as agency, c.status, ${ms('c.created_at')} as created_at, ${ms('a.answered_at')} as answered_at,
                    ${LATE} as late, ${TRANSFER_COUNT} as transfer_count, ${SATISFIED} as satisfied, o.due_at as overdue_due
               from cases c
               left join case_answers a on a.case_id = c.id and a.created_at >= ? and a.created_at < ?
               left join ${OVERDUE_TASKS} o on o.case_id = c.id
              where c.created_at >= ? and c.created_at < ?) s
      group by agency`,
    [from, to, now, from, to],
  );
  return rows.map((r: any) => ({
    agency: r.agency,
    received: Number(r.received),
    answered: Number(r.answered),
    answeredOnTime: Number(r.answered_on_time),
    openOverdue: Number(r.open_overdue),
    transfers: Number(r.transfers),
    rated: Number(r.rated),
    satisfied: Number(r.satisfied),
    handled: (r.handled as Array<Array<number | string>>).map(([c, a]) => [Number(c), Number(a)] as [number, number]),
  }));
}

/** Per week: how many cases received had each field and each procedure (string values only, as CaseFacts has them). */
export interface WeekCounts {
  field: Map<string, number>;
  procedure: Map<string, number>;
}

/**
 * Cases received in each of `weeks` consecutive 7-day windows starting at
 * `from`, counted by field and by procedure: the weekly report's trend in one
 * grouped query instead of every case of seven weeks sent to Node (seven
 * casesReceived calls). Grouped by the raw jsonb values, each read once per
 * row (a third faster than testing and extracting each twice), and folded here.
 */
export async function receivedByWeek(db: Db, from: Date, weeks: number): Promise<WeekCounts[]> {
  const WEEK_MS = 7 * 86_400_000;
  const to = new Date(from.getTime() + weeks * WEEK_MS);
  const { rows } = await db.raw(
    `select wk, case when jsonb_typeof(f) = 'string' then f #>> '{}' end as field,
            case when jsonb_typeof(p) = 'string' then p #>> '{}' end as procedure, count(*)::int as n
       from (select floor(extract(epoch from (c.created_at - ?::timestamptz)) / 604800)::int as wk,
                    c.variables->'field' as f, c.variables->'procedure' as p
               from cases c
              where c.created_at >= ? and c.created_at < ?) s
      group by wk, f, p`,
    [from, from, to],
  );
  const out: WeekCounts[] = Array.from({ length: weeks }, () => ({ field: new Map(), procedure: new Map() }));
  const add = (m: Map<string, number>, k: string | null, n: number) => {
    if (k !== null) m.set(k, (m.get(k) ?? 0) + n);
  };
  for (const r of rows as Array<{ wk: number; field: string | null; procedure: string | null; n: number }>) {
    const week = out[Number(r.wk)];
    if (!week) continue;
    add(week.field, r.field, Number(r.n));
    add(week.procedure, r.procedure, Number(r.n));
  }
  return out;
}

export interface ActivityRow {
  case_id: string;
  type: string;
  element_id: string | null;
  actor_agency: string | null;
  payload: Record<string, any>;
  at: Date;
}

/**
 * The events the weekly report counts, as SQL text: the predicate of the partial index
 * case_events_report_idx (migration 20261207110000_report_facts), written identically and
 * with literals, not bindings, so the planner can prove the index applies.
 * Transfers and send-backs are read from the forms' answers, whatever the step is called in the diagram.
 */
const REPORTED_EVENTS = `(type in ('case.escalated', 'finding.recorded')
        or (type = 'task.completed' and (payload->'output'->>'outcome' = 'transfer' or payload->'output'->>'reviewDecision' = 'sendBack')))`;

/**
 * What happened in [from, to): transfers, escalations, send-backs, reopenings, findings
 * (a range of case_events_report_idx; `types` narrows it further, e.g. the scorecard's findings).
 */
export async function activityIn(db: Db, from: Date, to: Date, types?: string[]): Promise<ActivityRow[]> {
  const { rows } = await db.raw(
    `select case_id, type, element_id, actor_agency, payload, at
       from case_events
      where at >= ? and at < ? and ${REPORTED_EVENTS}
        and case_id is not null${types ? ' and type = any(?::text[])' : ''}
      order by at, id`,
    types ? [from, to, types] : [from, to],
  );
  return rows.map((r: any) => ({ ...r, at: new Date(r.at) }));
}

export type GroupBy = 'agency' | 'field' | 'unit' | 'channel';
export type Period = 'day' | 'week' | 'month';

/**
 * Cases received per group and period, counted in SQL (Vietnam-time periods),
 * so a year of cases is one indexed scan rather than rows in memory.
 */
export async function receivedStats(db: Db, groupBy: GroupBy, period: Period, from: Date, to: Date, unassigned: string) {
  const { rows } = await db.raw(
    `select date_trunc(?, c.created_at at time zone 'Asia/Ho_Chi_Minh')::date as period_start,
            coalesce(c.variables->>?, ?) as grp,
            count(*) as received,
            count(*) filter (where c.status = 'completed') as closed,
            count(*) filter (where (c.variables->>'late')::boolean is true) as late,
            count(*) filter (where (c.variables->>'escalated')::boolean is true) as escalated
       from cases c
      where c.created_at >= ? and c.created_at < ?
      group by 1, 2
      order by 1, 2`,
    [period, groupBy, unassigned, from, to],
  );
  return rows.map((r: any) => ({
    periodStart: r.period_start instanceof Date ? r.period_start.toISOString().slice(0, 10) : String(r.period_start).slice(0, 10),
    [groupBy]: r.grp,
    received: Number(r.received),
    closed: Number(r.closed),
    late: Number(r.late),
    escalated: Number(r.escalated),
  }));
}

/** The agency (variable agency) of each of these cases, by case id. */
export async function agenciesOfCases(db: Db, ids: string[]): Promise<Map<string, string | null>> {
  if (!ids.length) return new Map();
  const rows = await db('cases').whereIn('id', ids).select('id', db.raw(`variables->>'agency' as agency`));
  return new Map(rows.map((r: any) => [r.id, r.agency]));
}

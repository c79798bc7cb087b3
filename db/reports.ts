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

/**
 * Cases received in [from, to): their variables, the first time an answer was
 * sent (sendAnswer started), and their open task. One query; uses
 * cases(created_at) and the case_events (case_id, seq) index.
 */
export async function casesReceived(db: Db, from: Date, to: Date): Promise<CaseFacts[]> {
  const { rows } = await db.raw(
    `select c.id, c.code, c.status, c.variables, c.created_at,
            (select min(e.at) from case_events e where e.case_id = c.id and e.type = 'activity.started' and e.element_id = 'sendAnswer') as answered_at,
            (select min(t.due_at) from tasks t where t.case_id = c.id) as open_due,
            (select coalesce(array_agg(distinct g), '{}') from tasks t, unnest(t.candidate_groups) g where t.case_id = c.id) as open_groups
       from cases c
      where c.created_at >= ? and c.created_at < ?
      order by c.created_at`,
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

export interface ActivityRow {
  case_id: string;
  type: string;
  element_id: string | null;
  actor_agency: string | null;
  payload: Record<string, any>;
  at: Date;
}

/** What happened in [from, to): transfers, escalations, send-backs, reopenings, findings (case_events_at_idx). */
export async function activityIn(db: Db, from: Date, to: Date): Promise<ActivityRow[]> {
  return db('case_events')
    .where('at', '>=', from)
    .where('at', '<', to)
    .where((w) =>
      w
        .whereIn('type', ['case.escalated', 'finding.recorded'])
        // Transfers and send-backs are read from the forms' answers, whatever the step is called in the diagram.
        .orWhere((x) => x.where({ type: 'task.completed' }).whereRaw(`(payload->'output'->>'outcome' = 'transfer' or payload->'output'->>'reviewDecision' = 'sendBack')`)),
    )
    .whereNotNull('case_id')
    .select('case_id', 'type', 'element_id', 'actor_agency', 'payload', 'at');
}

export type GroupBy = 'agency' | 'field' | 'unit' | 'channel';
export type Period = 'day' | 'week' | 'month';

/**
 * Cases received per group and period, counted in SQL (Vietnam-time periods),
 * so a year of cases is one indexed scan rather than rows in memory.
 */
export async function receivedStats(db: Db, groupBy: GroupBy, period: Period, from: Date, to: Date) {
  const { rows } = await db.raw(
    `select date_trunc(?, c.created_at at time zone 'Asia/Ho_Chi_Minh')::date as period_start,
            coalesce(c.variables->>?, '(none)') as grp,
            count(*) as received,
            count(*) filter (where c.status = 'completed') as closed,
            count(*) filter (where (c.variables->>'late')::boolean is true) as late,
            count(*) filter (where (c.variables->>'escalated')::boolean is true) as escalated
       from cases c
      where c.created_at >= ? and c.created_at < ?
      group by 1, 2
      order by 1, 2`,
    [period, groupBy, from, to],
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

import { createHash, timingSafeEqual } from 'node:crypto';
import type { Db } from '../../db/connect.js';
import { caseForLookup } from '../../db/cases.js';
import { tasksOfCase } from '../../db/tasks.js';
import { extensionProperties, type SourceContext } from '../bpmn.js';
import type { PERSONAL_VARIABLES } from './contract.js';

/** What a citizen may be told about a case, in the order a case goes through them. */
export const PUBLIC_STATUSES = ['received', 'handling', 'waiting-citizen', 'reviewing', 'answered', 'closed'] as const;
export type PublicStatus = (typeof PUBLIC_STATUSES)[number];

/** Citizen-facing labels: Vietnamese first, the words a citizen reads on a phone. */
const STATUS_LABELS: Record<PublicStatus, string> = {
  received: 'Đã tiếp nhận',
  handling: 'Đang xử lý',
  'waiting-citizen': 'Chờ công dân bổ sung thông tin',
  reviewing: 'Đang duyệt nội dung trả lời',
  answered: 'Đã trả lời',
  closed: 'Đã kết thúc',
};

/**
 * Versions deployed before user tasks carried a `publicStatus` property are
 * read by their step ids, as the first shipped diagram named them.
 */
const BY_ELEMENT_ID: Record<string, PublicStatus> = { classify: 'received', handle: 'handling', coordinate: 'handling', review: 'reviewing' };

/** When several tasks are open, the one furthest along speaks for the case. */
const PRECEDENCE: PublicStatus[] = ['reviewing', 'handling', 'received', 'answered'];

/**
 * Where a case stands for the public lookup, read from the same rows the
 * workflow writes. Each user task names its status in the diagram
 * (camunda:property publicStatus), so analysts who add or rename steps say
 * what a citizen sees there, without a code change.
 */
export function publicStatusOf(status: string, openTaskElements: string[], variables: Record<string, unknown>, context: SourceContext | undefined): PublicStatus {
  if (status === 'completed') return 'closed';
  const statuses = new Set<string>();
  for (const id of openTaskElements) {
    const declared = extensionProperties((context as any)?.getActivityById?.(id)?.behaviour).publicStatus;
    const s = declared ?? BY_ELEMENT_ID[id];
    if (s) statuses.add(s);
  }
  const first = PRECEDENCE.find((s) => statuses.has(s));
  if (first) return first;
  if (variables.outcome === 'moreInfo' && !openTaskElements.length) return 'waiting-citizen';
  return variables.answer ? 'answered' : 'handling';
}

/** The case variable holding the citizen's phone: the public lookup and SMS rating replies match on it. */
export const CITIZEN_PHONE: (typeof PERSONAL_VARIABLES)[number] = 'citizenPhone';

/** Phones are compared by their digits, in the national form (0…), whatever the caller typed. */
export function normalizePhone(raw: unknown): string {
  const digits = String(raw ?? '').replace(/\D/g, '');
  return digits.startsWith('84') && digits.length >= 11 ? `0${digits.slice(2)}` : digits;
}

function sameDigits(a: string, b: string): boolean {
  // Compare digests so the time taken says nothing about how many digits matched.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** A case as the citizen lookup reads it. */
export type CitizenCase = NonNullable<Awaited<ReturnType<typeof caseForLookup>>>;

/**
 * The case a citizen asks about by its code and the last 4 digits of the
 * phone given at intake; undefined for an unknown code and a wrong phone alike.
 */
export async function caseForCitizen(db: Db, code: string, last4: string): Promise<CitizenCase | undefined> {
  const kase = /^[A-Z0-9-]{4,32}$/.test(code) ? await caseForLookup(db, code) : undefined;
  const phone = normalizePhone(kase?.variables?.[CITIZEN_PHONE]);
  // Compare even when the case is unknown, so both failures take the same path.
  const matches = sameDigits(phone.slice(-4) || 'none', last4);
  return kase && phone && matches ? kase : undefined;
}

/** A case's answer is public once the case is closed and the reviewer marked it for publication. */
export function isPublished(status: string, variables: Record<string, unknown>): boolean {
  return status === 'completed' && variables.publish === true;
}

type Names = (code: string) => string | undefined;

/**
 * The only case variables a public view (the citizen's lookup, the published
 * answers, Open311) reads, each with the type it must have. Whatever else a
 * case carries — personal data, internal notes, reviewers' comments, a name
 * a diagram or an integration adds tomorrow — cannot reach the public,
 * because the views never see it.
 */
export const PUBLIC_VARIABLES = {
  title: 'string',
  field: 'string',
  unit: 'string',
  agency: 'string',
  dueAt: 'string',
  answer: 'string',
  publish: 'boolean',
  outcome: 'string',
  /** Open311: the place the app reported (not the citizen's home address, citizenAddress), shown once published. */
  address: 'string',
  lat: 'number',
  long: 'number',
  mediaUrl: 'string',
} as const;

type PublicVariables = { -readonly [K in keyof typeof PUBLIC_VARIABLES]?: (typeof PUBLIC_VARIABLES)[K] extends 'string' ? string : (typeof PUBLIC_VARIABLES)[K] extends 'number' ? number : boolean };

/** The allowed variables of a case, those of the declared type; nothing else. */
export function publicVariables(variables: Record<string, unknown> | null | undefined): PublicVariables {
  const out: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(PUBLIC_VARIABLES)) {
    const value = variables?.[name];
    if (typeof value === type && (type !== 'number' || Number.isFinite(value))) out[name] = value;
  }
  return out as PublicVariables;
}

/**
 * The case as a citizen may see it (caseForCitizen's row): status, handling
 * agency, due date, and the answer once published. Nothing personal.
 */
export async function citizenView(db: Db, kase: CitizenCase, context: SourceContext | undefined, agencyName: Names) {
  const tasks = await tasksOfCase(db, kase.id);
  const vars = publicVariables(kase.variables);
  const status = publicStatusOf(kase.status, tasks.map((t) => t.element_id), vars, context);
  const agencyCode = vars.agency ?? null;
  return {
    code: kase.code,
    status,
    statusLabel: STATUS_LABELS[status],
    receivedAt: new Date(kase.created_at).toISOString(),
    agency: agencyCode ? { code: agencyCode, name: agencyName(agencyCode) ?? agencyCode } : null,
    // The answer deadline the diagram keeps in dueAt (the handling task's deadline is the same instant).
    due: status !== 'closed' && vars.dueAt !== undefined && !Number.isNaN(Date.parse(vars.dueAt)) ? new Date(vars.dueAt).toISOString() : null,
    closedAt: kase.ended_at ? new Date(kase.ended_at).toISOString() : null,
    answer: isPublished(kase.status, vars) ? (vars.answer ?? null) : null,
  };
}

/** A published answer for the public list: only these fields leave the building; the citizen is never named, nor their contact data. */
export function publishedAnswerView(row: { code: string; variables: Record<string, any>; created_at: Date; ended_at: Date | null }, names: { field: Names; agency: Names }) {
  const v = publicVariables(row.variables);
  const agency = v.agency ?? null;
  return {
    code: row.code,
    title: v.title ?? null,
    field: v.field ?? null,
    fieldName: v.field !== undefined ? (names.field(v.field) ?? null) : null,
    unit: v.unit ?? null,
    agency: agency ? { code: agency, name: names.agency(agency) ?? agency } : null,
    answer: v.answer ?? null,
    receivedAt: new Date(row.created_at).toISOString(),
    answeredAt: row.ended_at ? new Date(row.ended_at).toISOString() : null,
  };
}

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import canonicalize from 'canonicalize';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import type { Db } from '../../db/connect.js';
import { calendarYears, catalogueEntries, findCalendarYear, findEntry, putCalendarYear, putEntry, referenceVersion, bumpReferenceVersion, sameData, seedCatalogue } from '../../db/catalogue.js';
import { lockSystemChain } from '../../db/history.js';
import type { Actor } from '../actor.js';
import { systemClock, type Clock } from '../clock.js';
import { appendSystemEvent } from '../history.js';
import type { PendingEvent } from '../session.js';
import type { Knex } from 'knex';
import { vietnamDate } from '../vietnam-time.js';
import { PreconditionFailedError, UnprocessableError, type FieldProblem } from '../errors.js';
import { createAjv, fieldProblems, isW3cInstant } from '../json-schema.js';
import { checkCalendarYear, LiveCalendar, type CalendarData, type CalendarYear } from './calendar.js';

export const CATALOGUE_KINDS = ['agencies', 'units', 'fields', 'procedures'] as const;
export type CatalogueKind = (typeof CATALOGUE_KINDS)[number];

/** The schema's definition of one entry of each kind (catalogue.schema.json $defs). */
const ENTRY_DEF: Record<CatalogueKind, string> = { agencies: 'agency', units: 'unit', fields: 'field', procedures: 'procedure' };

/** Who wrote what the shipped files hold. */
export const SEED_ACTOR: Actor = { id: 'system:seed', name: 'processes/ at start', roles: ['system'], agency: null };

export interface CatalogueEntry {
  code: string;
  name: string;
  validFrom: string;
  validTo: string | null;
  successor?: string;
  formerUnits?: string[];
  [key: string]: unknown;
}

/** The body of PUT /v1/catalogue/calendar/{year} and of one year in the holiday file. */
const CALENDAR_DAY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['date', 'name'],
  properties: {
    date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD, a civil date in Asia/Ho_Chi_Minh' },
    name: { type: 'string', minLength: 1, maxLength: 300 },
    note: { type: 'string', minLength: 1, maxLength: 2000 },
  },
} as const;

/** The body of PUT /v1/catalogue/calendar/{year} and one year of the holiday file (inline: it is also an OpenAPI schema). */
export const CALENDAR_YEAR_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['holidays'],
  properties: {
    holidays: { type: 'array', maxItems: 100, items: CALENDAR_DAY_SCHEMA, description: 'Every weekday that is off: holidays, compensatory days (nghỉ bù), swapped days (hoán đổi)' },
    workingDays: { type: 'array', maxItems: 50, items: CALENDAR_DAY_SCHEMA, description: 'Weekend days that are worked (làm bù)' },
    source: { type: 'string', minLength: 1, maxLength: 2000, description: 'The decree or notice the year follows' },
    note: { type: 'string', minLength: 1, maxLength: 2000 },
    provisional: { type: 'boolean', description: 'True while derived from the law and precedent rather than the official notice' },
  },
} as const;

/** An entry's version as an HTTP entity tag: a hash of its canonical JSON (the same data gives the same tag on every node). */
export function entryTag(data: unknown): string {
  return `"${createHash('sha256').update(canonicalize(data) ?? '').digest('hex').slice(0, 20)}"`;
}

/** The civil day after `day` (YYYY-MM-DD). */
function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

export function inForce(e: Pick<CatalogueEntry, 'validFrom' | 'validTo'>, day: string): boolean {
  return e.validFrom <= day && (e.validTo === null || e.validTo === undefined || day <= e.validTo);
}

/** Validators of one entry per kind, from processes/catalogue/catalogue.schema.json. */
export function entryValidators(dir: string): Record<CatalogueKind, ValidateFunction> {
  const ajv = createAjv();
  const schema = JSON.parse(readFileSync(join(dir, 'catalogue.schema.json'), 'utf8'));
  ajv.addSchema(schema);
  return Object.fromEntries(CATALOGUE_KINDS.map((k) => [k, ajv.getSchema(`${schema.$id}#/$defs/${ENTRY_DEF[k]}`)!])) as Record<CatalogueKind, ValidateFunction>;
}

/** Read and schema-check processes/catalogue/*.json; a bad file stops the boot with the file and field named. */
export function readCatalogueFiles(dir: string): Record<CatalogueKind, CatalogueEntry[]> {
  const schemaPath = join(dir, 'catalogue.schema.json');
  const ajv = createAjv();
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
  ajv.addSchema(schema);
  const out = {} as Record<CatalogueKind, CatalogueEntry[]>;
  for (const kind of CATALOGUE_KINDS) {
    const file = join(dir, `${kind}.json`);
    if (!existsSync(file)) {
      out[kind] = [];
      continue;
    }
    const data = JSON.parse(readFileSync(file, 'utf8'));
    const validate = ajv.getSchema(`${schema.$id}#/$defs/${kind}`)!;
    if (!validate(data)) {
      const problems = fieldProblems(validate.errors).slice(0, 5).map((p) => `${p.path} ${p.message}`).join('; ');
      throw new Error(`${file} does not match catalogue.schema.json: ${problems}`);
    }
    out[kind] = data;
  }
  return out;
}

/**
 * Seed the catalogue from the files' content, in one transaction: entries
 * the files wrote follow the files (a kind with no file is emptied of them);
 * entries an analyst wrote through the API stay as the analyst left them.
 * Every entry that changes is recorded on the system chain.
 */
export async function syncCatalogue(db: Db, entries: Record<CatalogueKind, CatalogueEntry[]>, clock: Clock = systemClock): Promise<number> {
  return db.transaction(async (trx) => {
    await lockSystemChain(trx);
    const changes = await seedCatalogue(trx, Object.fromEntries(CATALOGUE_KINDS.map((kind) => [kind, entries[kind] ?? []])), clock.now(), SEED_ACTOR.id);
    // One event for the whole seed (hundreds of entries on a new database), each change with its before and after.
    if (changes.length) {
      await appendSystemEvent(trx, { type: 'catalogue.seeded', payload: { changes }, actor: SEED_ACTOR }, clock);
      await bumpReferenceVersion(trx);
    }
    return changes.length;
  });
}

/**
 * Seed calendar years from the shipped holiday file: a year not stored yet
 * is added; a year the files wrote follows the file; a year an analyst wrote
 * (API or pakn calendar import) stays. Changes go to the system chain.
 */
export async function syncCalendar(db: Db, data: CalendarData, clock: Clock = systemClock): Promise<number> {
  return db.transaction(async (trx) => {
    await lockSystemChain(trx);
    const changes: Array<{ year: number; before: unknown; after: unknown }> = [];
    for (const [key, year] of Object.entries(data.years ?? {})) {
      const stored = await findCalendarYear(trx, Number(key), true);
      if (stored?.source === 'api' || (stored && sameData(stored.data, year))) continue;
      await putCalendarYear(trx, Number(key), year, 'file', clock.now(), SEED_ACTOR.id);
      changes.push({ year: Number(key), before: stored?.data ?? null, after: year });
    }
    if (changes.length) {
      await appendSystemEvent(trx, { type: 'calendar.seeded', payload: { changes }, actor: SEED_ACTOR }, clock);
      await bumpReferenceVersion(trx);
    }
    return changes.length;
  });
}

/**
 * The catalogue and the working-day calendar as a node reads them: copies of
 * small tables (hundreds of rows), held only while the database's reference
 * version proves them current. ensureCurrent() is called before every API
 * request (the version row comes with the API key's read) and every job (one
 * indexed row read); any write through the API,
 * the CLI or the seed bumps the version in its transaction, so every node
 * takes the change on its next request, with no restart.
 * Validity dates let units and agencies merge and split: a new case may use
 * only entries in force on its date, while a running case keeps what it had.
 */
export class Catalogue {
  private entries = new Map<CatalogueKind, Map<string, CatalogueEntry>>();
  private meta = new Map<string, { updatedAt: Date; updatedBy: string | null; source: string }>();
  private seen = -1;
  private validators?: Record<CatalogueKind, ValidateFunction>;

  constructor(
    private readonly db: Db,
    /** When an entry was last written (updated_at). */
    private readonly clock: Clock = systemClock,
    private readonly options: {
      calendar?: LiveCalendar;
      schemaDir?: string;
      /** Told the reference version this copy is current at, after every check: what else a node keeps of it follows (ActiveVersions.at). */
      onCurrent?: (version: number) => void;
    } = {},
  ) {}

  /** The working-day calendar reloaded with the catalogue. */
  get calendar(): LiveCalendar {
    return (this.options.calendar ??= new LiveCalendar());
  }

  /** Replace the stored catalogue with `entries` (readCatalogueFiles), then read it back. */
  async sync(entries: Record<CatalogueKind, CatalogueEntry[]>): Promise<number> {
    const n = await syncCatalogue(this.db, entries, this.clock);
    await this.refresh();
    return n;
  }

  /** Reload unless the stored version is the one held; `known`, the stored version when the caller just read it (with the API key). */
  async ensureCurrent(known?: number): Promise<void> {
    const version = known ?? (await referenceVersion(this.db));
    if (version !== this.seen) await this.refresh();
    // The active process and decision versions move the same version (migration 20261207160000).
    else this.options.onCurrent?.(version);
  }

  async refresh(): Promise<void> {
    const version = await referenceVersion(this.db);
    const next = new Map<CatalogueKind, Map<string, CatalogueEntry>>();
    const meta = new Map<string, { updatedAt: Date; updatedBy: string | null; source: string }>();
    for (const kind of CATALOGUE_KINDS) next.set(kind, new Map());
    for (const r of await catalogueEntries(this.db)) {
      next.get(r.kind as CatalogueKind)?.set(r.code, r.data as CatalogueEntry);
      meta.set(`${r.kind}/${r.code}`, { updatedAt: r.updatedAt, updatedBy: r.updatedBy, source: r.source });
    }
    const years: Record<string, CalendarYear> = {};
    for (const y of await calendarYears(this.db)) years[String(y.year)] = y.data as CalendarYear;
    this.calendar.load(years);
    this.entries = next;
    this.meta = meta;
    this.seen = version;
    this.options.onCurrent?.(version);
  }

  list(kind: CatalogueKind, day?: string): CatalogueEntry[] {
    const all = [...(this.entries.get(kind)?.values() ?? [])];
    return day ? all.filter((e) => inForce(e, day)) : all;
  }

  get(kind: CatalogueKind, code: string): CatalogueEntry | undefined {
    return this.entries.get(kind)?.get(code);
  }

  /** Who changed an entry last, and when. */
  changed(kind: CatalogueKind, code: string): { updatedAt: Date; updatedBy: string | null; source: string } | undefined {
    return this.meta.get(`${kind}/${code}`);
  }

  isEmpty(): boolean {
    return [...this.entries.values()].every((m) => m.size === 0);
  }

  /**
   * Create or change one entry (PUT /v1/catalogue/{kind}/{code}): checked
   * against catalogue.schema.json and against the catalogue (successor,
   * parent and unit must exist; validTo not before validFrom), then written
   * with its before and after on the system chain, in one transaction.
   */
  /**
   * `ifMatch` (the request's If-Match, optional): the entry's tag as the caller read it (`"…"` from ETag), or `*` for
   * "it exists". Checked under the same lock as the write, so of two analysts who read the same version only the
   * first one's change is kept; the second gets 412 and reads again (the last write won, silently, before).
   */
  async put(kind: CatalogueKind, code: string, body: Record<string, unknown>, actor: Actor, ifMatch?: string): Promise<{ entry: CatalogueEntry; created: boolean }> {
    const entry = { ...body, code } as CatalogueEntry;
    const problems: FieldProblem[] = [];
    if (body.code !== undefined && body.code !== code) problems.push({ path: '/code', message: `must be the code in the path (${code}) or left out` });
    const validate = this.entryValidators()[kind];
    if (!validate(entry)) problems.push(...fieldProblems(validate.errors));
    if (!problems.length) problems.push(...this.entryReferences(kind, entry));
    if (problems.length) throw new UnprocessableError(`The ${kind} entry ${code} is not valid.`, dedupe(problems));
    const result = await this.db.transaction(async (trx) => {
      await lockSystemChain(trx);
      const before = await findEntry(trx, kind, code, true);
      if (ifMatch !== undefined) {
        const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
        const current = before ? entryTag(before.data) : null;
        if (!current || (!tags.includes('*') && !tags.includes(current))) {
          throw new PreconditionFailedError(
            current
              ? `The ${kind} entry ${code} changed since it was read (its ETag is now ${current}): read it again, then send the change.`
              : `There is no ${kind} entry ${code} to match If-Match: leave If-Match out to create it.`,
          );
        }
      }
      const created = !before;
      if (before && sameData(before.data, entry)) return { created, changed: false };
      await putEntry(trx, kind, entry, this.clock.now(), actor.id);
      await appendSystemEvent(trx, { type: 'catalogue.changed', payload: { kind, code, before: before?.data ?? null, after: entry }, actor }, this.clock);
      await bumpReferenceVersion(trx);
      return { created, changed: true };
    });
    await this.refresh();
    return { entry, created: result.created };
  }

  private entryValidators(): Record<CatalogueKind, ValidateFunction> {
    if (!this.validators) {
      if (!this.options.schemaDir) throw new Error('The catalogue has no schema directory: it cannot check new entries.');
      this.validators = entryValidators(this.options.schemaDir);
    }
    return this.validators;
  }

  private entryReferences(kind: CatalogueKind, e: CatalogueEntry): FieldProblem[] {
    const out: FieldProblem[] = [];
    if (e.validTo && e.validTo < e.validFrom) out.push({ path: '/validTo', message: `${e.validTo} is before validFrom ${e.validFrom}` });
    const must = (field: string, refKind: CatalogueKind, value: unknown) => {
      if (typeof value !== 'string') return;
      if (value === e.code) out.push({ path: `/${field}`, message: 'cannot name the entry itself' });
      else if (!this.get(refKind, value)) out.push({ path: `/${field}`, message: `"${value}" is not in the ${refKind} catalogue` });
    };
    if (typeof e.name === 'string' && !e.name.trim()) out.push({ path: '/name', message: 'must not be blank (only spaces)' });
    must('successor', kind, e.successor);
    if (typeof e.successor === 'string' && e.successor !== e.code && this.get(kind, e.successor)) {
      // README rule 3: the heir takes over the day after validTo; and a chain that comes back here would never end.
      const heir = this.get(kind, e.successor)!;
      const dayAfter = e.validTo ? nextDay(e.validTo) : null;
      if (dayAfter && !inForce(heir, dayAfter)) out.push({ path: '/successor', message: `"${heir.code}" is not in force on ${dayAfter}, the day after validTo: the work would have no one to go to` });
      const seen = new Set([e.code]);
      for (let next: CatalogueEntry | undefined = heir; next?.successor; next = this.get(kind, next.successor)) {
        if (seen.has(next.successor)) {
          out.push({ path: '/successor', message: `leads back to "${next.successor}": a successor chain must end at an entry in force` });
          break;
        }
        seen.add(next.code);
      }
    }
    if (kind === 'units') {
      must('parent', 'units', e.parent);
      (Array.isArray(e.formerUnits) ? e.formerUnits : []).forEach((u, i) => must(`formerUnits/${i}`, 'units', u));
    }
    if (kind === 'agencies') must('unit', 'units', e.unit);
    if (kind === 'fields') must('defaultAgency', 'agencies', e.defaultAgency);
    if (kind === 'procedures') {
      must('field', 'fields', e.field);
      must('agency', 'agencies', e.agency);
    }
    return out;
  }

  /**
   * Set a year's holidays and make-up working days (PUT
   * /v1/catalogue/calendar/{year}, pakn calendar import): checked day by
   * day, written with before and after on the system chain, in force on
   * every node at its next request. Deadlines already set keep their date;
   * every deadline computed from now on uses the new data.
   */
  async putCalendarYear(year: number, body: CalendarYear, actor: Actor): Promise<{ created: boolean; changed: boolean }> {
    const problems = calendarYearProblems(year, body, this.calendar.settings.weekend);
    if (problems.length) throw new UnprocessableError(`The calendar of ${year} is not valid.`, problems);
    const data: CalendarYear = { ...body, workingDays: body.workingDays ?? [] };
    const result = await this.db.transaction(async (trx) => {
      await lockSystemChain(trx);
      const before = await findCalendarYear(trx, year, true);
      if (before && before.source === 'api' && sameData(before.data, data)) return { created: false, changed: false };
      await putCalendarYear(trx, year, data, 'api', this.clock.now(), actor.id);
      await appendSystemEvent(trx, { type: 'calendar.changed', payload: { year, before: before?.data ?? null, after: data }, actor }, this.clock);
      await bumpReferenceVersion(trx);
      return { created: !before, changed: true };
    });
    await this.refresh();
    return result;
  }

  /** A stored year: its data, who wrote it last, and when. */
  async calendarYear(year: number): Promise<{ data: CalendarYear; source: string; updatedAt: Date; updatedBy: string } | undefined> {
    const y = await findCalendarYear(this.db, year);
    return y && { data: y.data as CalendarYear, source: y.source, updatedAt: y.updatedAt, updatedBy: y.updatedBy };
  }

  /**
   * Years analysts must enter soon: the current year if missing, and from
   * 1 October the next year too (the holiday decree for it is usually out
   * by then). Empty when nothing is due.
   */
  missingYears(at: Date): number[] {
    const today = vietnamDate(at);
    const year = Number(today.slice(0, 4));
    const due = today.slice(5) >= '10-01' ? [year, year + 1] : [year];
    return due.filter((y) => !this.calendar.covers(y));
  }

  /** Years without data that deadlines from `from` to `to` crossed (Monday–Friday used): what flags a case. */
  fallbackYears(from: Date, to: Date): number[] {
    return this.calendar.missingBetween(from, to);
  }

  /** Entries that replaced `code` and are in force on `day` (successor chain, or units formed from it). */
  replacements(kind: CatalogueKind, code: string, day: string): CatalogueEntry[] {
    const out: CatalogueEntry[] = [];
    let e = this.get(kind, code);
    const seen = new Set<string>();
    while (e?.successor && !seen.has(e.successor)) {
      seen.add(e.successor);
      e = this.get(kind, e.successor);
      if (e && inForce(e, day)) out.push(e);
    }
    if (kind === 'units') out.push(...this.list('units', day).filter((u) => u.formerUnits?.includes(code)));
    return out;
  }

  /**
   * A decision's output row with every retired code (agency, unit, field, procedure: DEFAULT_CODE_FIELDS) replaced
   * by the entry its `successor` chain leads to that is in force on `at`'s day; codes in force, unknown, or retired
   * without an heir in force stay as they are (validation reports them). The routing table names agencies; when one
   * is retired with a successor, new cases go to the successor (processes/catalogue/README.md) — they went on to
   * the retired code, whose inbox nobody reads, until routing.dmn was edited.
   */
  currentCodes(row: Record<string, unknown>, at: Date): Record<string, unknown> {
    if (this.isEmpty()) return row;
    const day = vietnamDate(at);
    let out = row;
    for (const [field, kind] of Object.entries(DEFAULT_CODE_FIELDS)) {
      const code = row[field];
      if (typeof code !== 'string') continue;
      const entry = this.get(kind, code);
      if (!entry || inForce(entry, day)) continue;
      let next = entry;
      const seen = new Set([code]);
      while (next.successor && !seen.has(next.successor) && this.get(kind, next.successor)) {
        seen.add(next.successor);
        next = this.get(kind, next.successor)!;
        if (inForce(next, day)) {
          out = { ...out, [field]: next.code };
          break;
        }
      }
    }
    return out;
  }

  /**
   * New input (intake variables, a classification form) may only name codes in
   * force on `at`. Throws 422 naming each field, with what replaced a retired code.
   */
  checkCodes(values: Record<string, unknown>, at: Date, fields: Record<string, CatalogueKind> = DEFAULT_CODE_FIELDS): void {
    if (this.isEmpty()) return;
    const day = vietnamDate(at);
    const problems: FieldProblem[] = [];
    for (const [field, kind] of Object.entries(fields)) {
      const code = values[field];
      if (code === undefined || code === null) continue;
      const entry = typeof code === 'string' ? this.get(kind, code) : undefined;
      if (!entry) {
        problems.push({ path: `/${field}`, message: `"${String(code)}" is not in the ${kind} catalogue` });
      } else if (!inForce(entry, day)) {
        const instead = this.replacements(kind, entry.code, day).slice(0, 8).map((r) => r.code);
        problems.push({
          path: `/${field}`,
          message: `"${entry.code}" (${entry.name}) is not in force on ${day}${instead.length ? `; use ${instead.join(' or ')}` : ''}`,
        });
      }
    }
    if (problems.length) throw new UnprocessableError('Some codes are not in the catalogue in force today.', problems);
  }
}

/**
 * What a diagram may name as a literal candidate group: a role, or an agency
 * code of the catalogue. Agencies no longer in force on `day` are listed apart
 * (with their successor) so validation can warn instead of refusing.
 */
export function candidateGroupNames(roles: readonly string[], agencies: CatalogueEntry[], day: string): { known: string[]; retired: Record<string, string> } {
  const retired: Record<string, string> = {};
  for (const a of agencies) {
    if (!inForce(a, day)) retired[a.code] = `${a.name}, until ${a.validTo}${a.successor ? `; successor ${a.successor}` : ''}`;
  }
  return { known: [...roles, ...agencies.filter((a) => !retired[a.code]).map((a) => a.code)], retired };
}

/** Variable names that carry catalogue codes in intake data and forms. */
export const DEFAULT_CODE_FIELDS: Record<string, CatalogueKind> = {
  field: 'fields',
  unit: 'units',
  procedure: 'procedures',
  agency: 'agencies',
  toAgency: 'agencies',
  findingAgency: 'agencies',
};

/** Problems of one year's data: its schema, then day by day (engine/hotline/calendar.ts). */
let calendarYearValidator: ValidateFunction | undefined;

export function calendarYearProblems(year: number, body: unknown, weekend: readonly number[]): FieldProblem[] {
  const validate = (calendarYearValidator ??= createAjv().compile(CALENDAR_YEAR_SCHEMA));
  if (!validate(body)) return fieldProblems(validate.errors);
  return checkCalendarYear(year, body as CalendarYear, weekend);
}

function dedupe(problems: FieldProblem[]): FieldProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => !seen.has(`${p.path}|${p.message}`) && seen.add(`${p.path}|${p.message}`));
}

/** The actor of the calendar.fallback event: the calendar, not the caller, decided. */
const CALENDAR_ACTOR: Actor = { id: 'system:calendar', name: 'Working-day calendar', roles: ['system'], agency: null };

/**
 * RuntimeOptions.onSave: a command whose deadlines ran through a year
 * without calendar data (counted Monday to Friday, holidays unknown) leaves
 * a calendar.fallback event in the case's history (returned to the runtime,
 * which writes it with the command's events), naming the years and the deadlines, so the case can be
 * reviewed when the year is entered. The deadlines are the command's task
 * deadlines and the date-times it set in variables (dueAt …) that lie
 * ahead of it: a deadline in or beyond a missing year crossed it.
 */
export function flagCalendarFallback(catalogue: Catalogue) {
  return async (_trx: Knex.Transaction, _kase: { id: string }, events: readonly PendingEvent[], now: Date): Promise<PendingEvent[]> => {
    const deadlines: Array<{ what: string; at: string }> = [];
    for (const e of events) {
      if (e.type === 'task.created' && typeof e.payload?.due === 'string') deadlines.push({ what: `task ${e.elementId ?? ''}`.trim(), at: e.payload.due });
      if (e.type === 'variables.changed') {
        for (const c of (e.payload?.changes as Array<{ name: string; new: unknown }> | undefined) ?? []) {
          if (typeof c.new === 'string' && isW3cInstant(c.new)) deadlines.push({ what: `variable ${c.name}`, at: c.new });
        }
      }
    }
    const years = new Set<number>();
    const crossed: Array<{ what: string; at: string }> = [];
    for (const d of deadlines) {
      const at = new Date(d.at);
      if (Number.isNaN(at.getTime()) || at.getTime() < now.getTime()) continue;
      const missing = catalogue.fallbackYears(now, at);
      if (!missing.length) continue;
      missing.forEach((y) => years.add(y));
      crossed.push(d);
    }
    if (!years.size) return [];
    return [{ type: 'calendar.fallback', payload: { years: [...years].sort(), rule: 'Monday to Friday are working days (no holiday data)', deadlines: crossed }, actor: CALENDAR_ACTOR }];
  };
}

/**
 * pakn calendar import FILE: the years of a holiday decree file (the shape
 * of processes/calendar/vn-holidays.json, or one year's object with
 * `year`), every year checked before any is written; each year then goes
 * through putCalendarYear (history, version bump) like the API's PUT.
 */
export async function importCalendar(
  catalogue: Catalogue,
  data: unknown,
  actor: Actor,
  only?: number,
): Promise<Array<{ year: number; holidays: number; workingDays: number; outcome: 'added' | 'changed' | 'unchanged' }>> {
  const file = (data ?? {}) as { years?: Record<string, unknown>; year?: unknown };
  let years: Record<string, unknown>;
  if (file.years && typeof file.years === 'object') years = file.years;
  else if (typeof file.year === 'number' || only !== undefined) {
    const { year, ...rest } = file as Record<string, unknown>;
    years = { [String(only ?? year)]: rest };
  } else throw new UnprocessableError('The file holds no years: expected {"years": {"2028": {"holidays": [...]}}} as in processes/calendar/vn-holidays.json, or one year with --year.', [{ path: '/years', message: 'is required' }]);
  const chosen = Object.entries(years).filter(([y]) => only === undefined || Number(y) === only);
  if (!chosen.length) throw new UnprocessableError(`The file has no year ${only}.`, [{ path: `/years/${only}`, message: 'is not in the file' }]);
  const problems: FieldProblem[] = [];
  for (const [y, body] of chosen) {
    if (!/^\d{4}$/.test(y)) problems.push({ path: `/years/${y}`, message: 'is not a four-digit year' });
    else problems.push(...calendarYearProblems(Number(y), body, catalogue.calendar.settings.weekend).map((p) => ({ path: `/years/${y}${p.path === '/' ? '' : p.path}`, message: p.message })));
  }
  if (problems.length) throw new UnprocessableError('The calendar file is not valid; nothing was imported.', problems);
  const out = [];
  for (const [y, body] of chosen) {
    const year = body as CalendarYear;
    const r = await catalogue.putCalendarYear(Number(y), year, actor);
    out.push({ year: Number(y), holidays: year.holidays.length, workingDays: year.workingDays?.length ?? 0, outcome: r.created ? ('added' as const) : r.changed ? ('changed' as const) : ('unchanged' as const) });
  }
  return out;
}

import { readFileSync } from 'node:fs';
import { FeelDate, FeelDateTime, parseDateTime } from 'feelin';
import { DomainError, type FieldProblem } from '../errors.js';
import { formatVietnamTime, VIETNAM_OFFSET_MS as OFFSET_MS, VIETNAM_TIME_ZONE } from '../vietnam-time.js';

/**
 * The working-day calendar of the provincial administration, built from
 * `processes/calendar/vn-holidays.json` (data owned by Home Affairs, so a new
 * year or a changed swap needs no code change).
 *
 * Deadline rule (the one `addWorkingDays` implements):
 *
 * - Only the calendar date of `from` in Asia/Ho_Chi_Minh matters, not its
 *   time of day. Like Civil Code 2015 art. 147 ("the first day is not
 *   counted"), the day of receipt is never one of the N days, whether the
 *   case arrived at 08:00, at 16:59, after hours, or on a day off.
 * - n > 0: the deadline is `workingDayEnds` (17:00, +07:00) on the Nth
 *   working day strictly after that date. Received Friday 16:00 with n = 1
 *   → Monday 17:00; received on a holiday or at the weekend → the first
 *   working day after it is day 1.
 * - n < 0: 17:00 on the |n|th working day strictly before that date
 *   (reminders: "2 working days before the deadline" of Friday 17:00 is
 *   Wednesday 17:00).
 * - n = 0: 17:00 on that date if it is a working day, else on the next
 *   working day (the close of business "today"; may lie in the past).
 * - A working day is a listed make-up day (làm bù), or a day whose ISO
 *   weekday is not in `weekend` and which is not a listed holiday.
 *
 * `workingDaysBetween(a, b)` counts the working days d with
 * date(a) < d <= date(b) (negated when b is before a), so for n > 0
 * `workingDaysBetween(from, addWorkingDays(from, n)) === n`; for n <= 0 the
 * same holds when `from` falls on a working day.
 */

export interface CalendarDay {
  /** YYYY-MM-DD, a civil date in Asia/Ho_Chi_Minh. */
  date: string;
  name: string;
  note?: string;
}

export interface CalendarYear {
  /** Every weekday that is off: holidays, compensatory days (nghỉ bù), swapped days (hoán đổi); holidays on a weekend may be listed for reference. */
  holidays: CalendarDay[];
  /** Weekend days that are worked (làm bù). */
  workingDays?: CalendarDay[];
  source?: string;
  note?: string;
  /** True while the year is derived from the law and precedent rather than from the official notice. */
  provisional?: boolean;
}

export interface CalendarData {
  timeZone: string;
  /** ISO weekdays (1 = Monday … 7 = Sunday) that are not worked. */
  weekend: number[];
  /** HH:MM local time at which a working day, and so a deadline, ends. Default 17:00. */
  workingDayEnds?: string;
  years: Record<string, CalendarYear>;
  description?: string;
}

/** Anything a caller or FEEL may hand over as a date. */
export type DateInput = Date | string | FeelDate | FeelDateTime;

export const CALENDAR_TIME_ZONE = VIETNAM_TIME_ZONE;
const CALENDAR_FILE = 'processes/calendar/vn-holidays.json';
// Vietnam has kept UTC+7 without daylight saving since 1975, so a fixed
// offset gives exact, machine-independent arithmetic (no Intl, no host zone).
const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A deadline (or report) needs a year nobody has entered yet; refusing beats silently ignoring its holidays. */
export class CalendarYearMissingError extends DomainError {
  override readonly title = 'Working-day calendar incomplete';
  constructor(
    readonly year: number,
    readonly coveredYears: readonly number[],
  ) {
    super(
      `The working-day calendar has no data for ${year} (it covers ${coveredYears.join(', ') || 'no year'}): ` +
        `the Department of Home Affairs (Sở Nội vụ) must add year ${year} to ${CALENDAR_FILE} (or through PUT /v1/catalogue/calendar/${year} or pakn calendar import).`,
    );
    this.name = 'CalendarYearMissingError';
  }
}

// Days are handled as integers: the number of days from 1970-01-01 to the
// civil date in Vietnam. Holidays are civil dates, so this keeps comparisons
// free of time-of-day and of the host's time zone.
function dayOfInstant(ms: number): number {
  return Math.floor((ms + OFFSET_MS) / DAY_MS);
}

function dayOfParts(year: number, month: number, day: number): number | null {
  const ms = Date.UTC(year, month - 1, day);
  const d = new Date(ms);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return ms / DAY_MS;
}

function dayOfIsoDate(text: string): number | null {
  const m = ISO_DATE.exec(text);
  return m ? dayOfParts(Number(m[1]), Number(m[2]), Number(m[3])) : null;
}

function isoDateOfDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function yearOfDay(day: number): number {
  return new Date(day * DAY_MS).getUTCFullYear();
}

function isoWeekdayOfDay(day: number): number {
  // 1970-01-01 was a Thursday (ISO weekday 4).
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  return `${String(value)} (${typeof value === 'object' ? value.constructor?.name ?? 'object' : typeof value})`;
}

function instantOfFeelDateTime(value: FeelDateTime): number {
  // A zone-less FEEL date-time is a wall-clock time; in this system that means Vietnam time.
  const zone = value.zone === null ? CALENDAR_TIME_ZONE : value.zone === 'Z' ? 'UTC' : value.zone;
  return value.value.toZonedDateTime(zone).epochMilliseconds;
}

/** The civil date in Vietnam of any accepted date input. */
function toDay(value: unknown, what: string): number {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new TypeError(`${what} is an invalid Date`);
    return dayOfInstant(ms);
  }
  if (value instanceof FeelDate) {
    const day = dayOfParts(value.year, value.month, value.day);
    if (day === null) throw new TypeError(`${what} ${describe(value)} is not a valid date`);
    return day;
  }
  if (value instanceof FeelDateTime) return dayOfInstant(instantOfFeelDateTime(value));
  if (typeof value === 'string') {
    const text = value.trim();
    const day = dayOfIsoDate(text);
    if (day !== null) return day;
    // FEEL's parser accepts exactly the forms a diagram can produce: Z, ±hh:mm,
    // @Zone/Name and zone-less wall-clock times.
    const parsed = parseDateTime(text);
    if (parsed) return dayOfInstant(instantOfFeelDateTime(parsed));
  }
  throw new TypeError(
    `${what} must be a date or date-time (a Date, a FEEL date / date and time, or ISO 8601 text such as ` +
      `"2026-02-13" or "2026-02-13T16:00:00+07:00"), got ${describe(value)}`,
  );
}

export { formatVietnamTime };

/** What deadlines need of a calendar: WorkingCalendar, or LiveCalendar (the stored calendar, current on every node). */
export interface WorkingDays {
  isWorkingDay(date: DateInput): boolean;
  addWorkingDays(from: DateInput, n: number): Date;
  workingDaysBetween(a: DateInput, b: DateInput): number;
}

export class WorkingCalendar implements WorkingDays {
  readonly timeZone = CALENDAR_TIME_ZONE;
  /** Years the data covers, ascending. */
  readonly years: readonly number[];
  /** Minutes after local midnight at which a working day ends. */
  readonly dayEndsAtMinute: number;
  private readonly weekend: ReadonlySet<number>;
  private readonly covered: ReadonlySet<number>;
  private readonly provisionalYears: ReadonlySet<number>;
  private readonly daysOff = new Map<number, CalendarDay>();
  private readonly makeUpDays = new Map<number, CalendarDay>();

  /**
   * What a day of a year without data is. 'error' (files and tools): refuse
   * with CalendarYearMissingError. 'weekdays' (the running hotline): Monday to
   * Friday are worked, so intake never stops; the cases whose deadlines
   * needed such a year are flagged (calendarFallbackYears).
   */
  readonly missingYears: 'error' | 'weekdays';

  constructor(data: CalendarData, options: { missingYears?: 'error' | 'weekdays' } = {}) {
    this.missingYears = options.missingYears ?? 'error';
    // Home Affairs edits this file by hand, so report every mistake at once, at start-up.
    const problems: string[] = [];
    if (data === null || typeof data !== 'object') throw new Error(`${CALENDAR_FILE}: expected a JSON object`);

    if (data.timeZone !== CALENDAR_TIME_ZONE) {
      problems.push(`timeZone must be "${CALENDAR_TIME_ZONE}" (deadlines are computed with its fixed +07:00 offset), got ${describe(data.timeZone)}`);
    }

    const weekend = Array.isArray(data.weekend) ? data.weekend : [];
    if (!Array.isArray(data.weekend)) problems.push('weekend must be a list of ISO weekdays, e.g. [6, 7] for Saturday and Sunday');
    for (const d of weekend) {
      if (!Number.isInteger(d) || d < 1 || d > 7) problems.push(`weekend: ${describe(d)} is not an ISO weekday (1 = Monday … 7 = Sunday)`);
    }
    this.weekend = new Set(weekend);
    if (this.weekend.size >= 7) problems.push('weekend cannot contain every day of the week');

    const ends = data.workingDayEnds ?? '17:00';
    const endMatch = typeof ends === 'string' ? /^([01]\d|2[0-3]):([0-5]\d)$/.exec(ends) : null;
    if (!endMatch) problems.push(`workingDayEnds must be HH:MM, got ${describe(ends)}`);
    this.dayEndsAtMinute = endMatch ? Number(endMatch[1]) * 60 + Number(endMatch[2]) : 17 * 60;

    const years: number[] = [];
    const provisional = new Set<number>();
    const yearEntries = data.years && typeof data.years === 'object' ? Object.entries(data.years) : [];
    if (yearEntries.length === 0 && this.missingYears === 'error') problems.push('years must hold at least one year, e.g. "2026": { "holidays": [...] }');

    for (const [key, entry] of yearEntries) {
      if (!/^\d{4}$/.test(key)) {
        problems.push(`years: key ${describe(key)} is not a four-digit year`);
        continue;
      }
      const year = Number(key);
      const read = readYear(year, entry, this.weekend);
      problems.push(...read.problems.map((p) => `years.${key}${p.path.replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.')}: ${p.message}`));
      if (read.problems.length) continue;
      years.push(year);
      if (entry.provisional === true) provisional.add(year);
      for (const [day, item] of read.daysOff) this.daysOff.set(day, item);
      for (const [day, item] of read.makeUpDays) this.makeUpDays.set(day, item);
    }

    if (problems.length > 0) throw new Error(`${CALENDAR_FILE} is invalid:\n- ${problems.join('\n- ')}`);
    this.years = years.sort((a, b) => a - b);
    this.covered = new Set(years);
    this.provisionalYears = provisional;
  }

  /** Whether the data holds `year` (else its days follow missingYears). */
  covers(year: number): boolean {
    return this.covered.has(year);
  }

  /** Whether a year's data is still an estimate awaiting the official notice. */
  isProvisional(year: number): boolean {
    return this.provisionalYears.has(year);
  }

  /** Whether the Vietnam civil date of `date` is worked. A bare "YYYY-MM-DD" is that civil date. */
  isWorkingDay(date: DateInput): boolean {
    return this.worked(toDay(date, 'date'));
  }

  /** See the deadline rule at the top of this file. */
  addWorkingDays(from: DateInput, n: number): Date {
    if (!Number.isSafeInteger(n)) throw new TypeError(`the number of working days must be a whole number, got ${describe(n)}`);
    let day = toDay(from, 'from');
    if (n === 0) {
      while (!this.worked(day)) day += 1;
    } else {
      const step = n > 0 ? 1 : -1;
      for (let left = Math.abs(n); left > 0; ) {
        day += step;
        if (this.worked(day)) left -= 1;
      }
    }
    return new Date(day * DAY_MS + this.dayEndsAtMinute * 60_000 - OFFSET_MS);
  }

  /** Whole working days d with date(a) < d <= date(b); negative when b is before a. Times of day are ignored. */
  workingDaysBetween(a: DateInput, b: DateInput): number {
    const from = toDay(a, 'start');
    const to = toDay(b, 'end');
    const [lo, hi, sign] = from <= to ? [from, to, 1] : [to, from, -1];
    let count = 0;
    for (let day = lo + 1; day <= hi; day += 1) if (this.worked(day)) count += 1;
    return sign * count;
  }

  private worked(day: number): boolean {
    const year = yearOfDay(day);
    if (!this.covered.has(year)) {
      if (this.missingYears === 'error') throw new CalendarYearMissingError(year, this.years);
      return isoWeekdayOfDay(day) <= 5;
    }
    if (this.makeUpDays.has(day)) return true;
    if (this.daysOff.has(day)) return false;
    return !this.weekend.has(isoWeekdayOfDay(day));
  }

  /** The entry that makes `date` special (a holiday or a make-up day), for messages and the UI; null for an ordinary day. */
  dayEntry(date: DateInput): (CalendarDay & { working: boolean }) | null {
    const day = toDay(date, 'date');
    const working = this.worked(day);
    const entry = this.makeUpDays.get(day) ?? this.daysOff.get(day);
    return entry ? { ...entry, date: isoDateOfDay(day), working } : null;
  }
}

/**
 * One year's data checked day by day, with problems named by JSON pointer
 * (/holidays/3/date): the one home of the rules for the file, the API and
 * the import command. A day must be a real date of that year, named, listed
 * once; a make-up working day must fall on a weekend day.
 */
function readYear(year: number, entry: CalendarYear, weekend: ReadonlySet<number>): { problems: FieldProblem[]; daysOff: Map<number, CalendarDay>; makeUpDays: Map<number, CalendarDay> } {
  const problems: FieldProblem[] = [];
  const daysOff = new Map<number, CalendarDay>();
  const makeUpDays = new Map<number, CalendarDay>();
  if (!entry || typeof entry !== 'object' || !Array.isArray(entry.holidays)) {
    problems.push({ path: '/holidays', message: 'must be a list (it may be empty)' });
    return { problems, daysOff, makeUpDays };
  }
  if (entry.workingDays !== undefined && !Array.isArray(entry.workingDays)) {
    problems.push({ path: '/workingDays', message: 'must be a list' });
    return { problems, daysOff, makeUpDays };
  }
  const lists: Array<['holidays' | 'workingDays', CalendarDay[], Map<number, CalendarDay>]> = [
    ['holidays', entry.holidays, daysOff],
    ['workingDays', entry.workingDays ?? [], makeUpDays],
  ];
  for (const [listName, list, target] of lists) {
    list.forEach((item, i) => {
      const where = `/${listName}/${i}`;
      const day = item && typeof item.date === 'string' ? dayOfIsoDate(item.date) : null;
      if (day === null) return problems.push({ path: `${where}/date`, message: `must be a real YYYY-MM-DD date, got ${describe(item?.date)}` });
      if (yearOfDay(day) !== year) return problems.push({ path: `${where}/date`, message: `${item.date} is not in ${year}` });
      if (typeof item.name !== 'string' || item.name.trim() === '') return problems.push({ path: `${where}/name`, message: 'is required' });
      if (daysOff.has(day) || makeUpDays.has(day)) return problems.push({ path: `${where}/date`, message: `${item.date} is listed twice` });
      if (listName === 'workingDays' && !weekend.has(isoWeekdayOfDay(day))) {
        return problems.push({ path: `${where}/date`, message: `${item.date} is not a weekend day, so listing it as a make-up working day changes nothing (typo?)` });
      }
      target.set(day, item);
    });
  }
  return { problems, daysOff, makeUpDays };
}

/** Problems of one year's data (PUT /v1/catalogue/calendar/{year}, pakn calendar import), by JSON pointer. */
export function checkCalendarYear(year: number, entry: CalendarYear, weekend: readonly number[]): FieldProblem[] {
  return readYear(year, entry, new Set(weekend)).problems;
}

/** The settings every year shares; the shipped file's header, or these. */
export interface CalendarSettings {
  timeZone: string;
  weekend: number[];
  workingDayEnds?: string;
}

export const DEFAULT_CALENDAR_SETTINGS: CalendarSettings = { timeZone: CALENDAR_TIME_ZONE, weekend: [6, 7], workingDayEnds: '17:00' };

/**
 * The calendar as every node computes deadlines with it: the years stored in
 * the database (calendar_years), reloaded whenever the reference version
 * changes (engine/hotline/catalogue.ts, Catalogue.ensureCurrent), so a year
 * an analyst adds or corrects is in force on every node without a restart.
 * A year without data never stops the hotline: its Monday to Friday are
 * working days, and the cases that needed it are flagged.
 */
export class LiveCalendar implements WorkingDays {
  private current: WorkingCalendar;

  constructor(readonly settings: CalendarSettings = DEFAULT_CALENDAR_SETTINGS) {
    this.current = new WorkingCalendar({ ...settings, years: {} }, { missingYears: 'weekdays' });
  }

  /** Replace the data with these years (already checked when they were written). */
  load(years: Record<string, CalendarYear>): void {
    this.current = new WorkingCalendar({ ...this.settings, years }, { missingYears: 'weekdays' });
  }

  get years(): readonly number[] {
    return this.current.years;
  }

  covers(year: number): boolean {
    return this.current.covers(year);
  }

  isProvisional(year: number): boolean {
    return this.current.isProvisional(year);
  }

  isWorkingDay(date: DateInput): boolean {
    return this.current.isWorkingDay(date);
  }

  addWorkingDays(from: DateInput, n: number): Date {
    return this.current.addWorkingDays(from, n);
  }

  workingDaysBetween(a: DateInput, b: DateInput): number {
    return this.current.workingDaysBetween(a, b);
  }

  dayEntry(date: DateInput): (CalendarDay & { working: boolean }) | null {
    return this.current.dayEntry(date);
  }

  /**
   * Years without data that a deadline running from `from` to `to` crossed
   * (their weekdays were counted as working days): what flags a case.
   */
  missingBetween(from: Date, to: Date): number[] {
    const a = Number(formatVietnamTime(from).slice(0, 4));
    const b = Number(formatVietnamTime(to).slice(0, 4));
    const out: number[] = [];
    for (let y = Math.min(a, b); y <= Math.max(a, b); y++) if (!this.covers(y)) out.push(y);
    return out;
  }
}

/** Read and validate the calendar file (e.g. `processes/calendar/vn-holidays.json` under the processes directory). */
export function loadCalendar(path: string | URL): WorkingCalendar {
  const text = readFileSync(path, 'utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err: any) {
    throw new Error(`${String(path)} is not valid JSON: ${err?.message ?? err}`, { cause: err });
  }
  return new WorkingCalendar(data as CalendarData);
}

/** The shipped holiday file's data, checked (every mistake named); for seeding the stored calendar. */
export function readCalendarFile(path: string | URL): CalendarData {
  const text = readFileSync(path, 'utf8');
  let data: CalendarData;
  try {
    data = JSON.parse(text);
  } catch (err: any) {
    throw new Error(`${String(path)} is not valid JSON: ${err?.message ?? err}`, { cause: err });
  }
  new WorkingCalendar(data);
  return data;
}

/** The calendar's FEEL functions by name, known to validation even where no calendar is loaded (pakn lint). */
export const CALENDAR_FUNCTIONS = ['add working days', 'working days between', 'is working day'] as const;

export type CalendarFeelFunctions = Record<(typeof CALENDAR_FUNCTIONS)[number], (...args: any[]) => unknown>;

/**
 * The calendar as FEEL functions, for the FEEL context (`add working days(now(), 10)`).
 * Dates come back as ISO text with +07:00 because the engine turns FEEL
 * results into `new Date(text)`; inside FEEL, wrap the result in
 * `date and time(...)` to compare it with other date-times.
 * Bad arguments throw instead of yielding FEEL null: a deadline that
 * silently became null would never fire.
 */
export function feelFunctions(calendar: WorkingDays): CalendarFeelFunctions {
  const fns: CalendarFeelFunctions = {
    'add working days': (from: unknown, n: unknown) => {
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new TypeError(`add working days: n must be a whole number of working days, got ${describe(n)}`);
      return formatVietnamTime(calendar.addWorkingDays(asInput(from, 'add working days: from'), n));
    },
    'working days between': (start: unknown, end: unknown) =>
      calendar.workingDaysBetween(asInput(start, 'working days between: start'), asInput(end, 'working days between: end')),
    'is working day': (date: unknown) => calendar.isWorkingDay(asInput(date, 'is working day: date')),
  };
  // feelin recovers parameter names (for named-argument calls) from the
  // function source unless $args is set; compiled or minified code would
  // otherwise rename them.
  const params: Record<keyof CalendarFeelFunctions, string[]> = {
    'add working days': ['from', 'n'],
    'working days between': ['start', 'end'],
    'is working day': ['date'],
  };
  for (const [name, args] of Object.entries(params)) (fns[name as keyof CalendarFeelFunctions] as any).$args = args;
  return fns;
}

function asInput(value: unknown, what: string): DateInput {
  toDay(value, what); // validates with a message that names the FEEL function and parameter
  return value as DateInput;
}

import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import type { FieldProblem } from './errors.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

/** One ajv configuration for request bodies and task forms alike. */
export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, useDefaults: false, coerceTypes: false });
  addFormats(ajv);
  // RFC 3339 as ajv-formats checks it, and an instant the product can keep: see YEARS.
  const { 'date-time': dateTime, date } = fullFormats as unknown as Record<string, { validate: (s: string) => boolean; compare: (a: string, b: string) => number | undefined }>;
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => dateTime.validate(s) && storableInstant(s), compare: dateTime.compare });
  ajv.addFormat('date', { type: 'string', validate: isDay, compare: date.compare });
  // The product's own: a day (Vietnam time) or an instant, as case search takes them; a day or the word today.
  ajv.addFormat('day-or-instant', { type: 'string', validate: (s: string) => isDay(s) || isW3cInstant(s) });
  ajv.addFormat('day-or-today', { type: 'string', validate: (s: string) => s === 'today' || isDay(s) });
  ajv.addKeyword({ keyword: 'x-pii', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'example' });
  return ajv;
}

/**
 * The years a date or an instant from a client may fall in. RFC 3339 allows 0000-01-01 and a leap second
 * (23:59:60), which JavaScript cannot represent (new Date gives Invalid Date) and PostgreSQL refuses (it has
 * no year 0): an export from 0000-01-01 died after its headers were sent, a report answered 500. No case of
 * the hotline is older than 1900, and a bound this wide still leaves an open end ("to=9999-12-31") usable.
 */
export const YEARS = { min: 1900, max: 9999 } as const;

function inYears(year: number): boolean {
  return year >= YEARS.min && year <= YEARS.max;
}

/** An RFC 3339 date-time JavaScript represents (no leap second) whose instant, in UTC, falls in YEARS. */
function storableInstant(s: string): boolean {
  const t = new Date(s);
  return !Number.isNaN(t.getTime()) && inYears(t.getUTCFullYear());
}

/** A calendar date (YYYY-MM-DD, a real day) in YEARS. */
export function isDay(s: string): boolean {
  return (fullFormats.date as unknown as { validate: (s: string) => boolean }).validate(s) && inYears(Number(s.slice(0, 4)));
}

const W3C_INSTANT = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** A W3C date-time (ISO 8601 with its zone; seconds optional): a real day and time, storable (YEARS). */
export function isW3cInstant(s: string): boolean {
  const m = W3C_INSTANT.exec(s);
  if (!m || !isDay(m[1])) return false;
  const [hour, minute, second, zoneHour, zoneMinute] = [m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number);
  return hour <= 23 && minute <= 59 && second <= 59 && zoneHour <= 23 && zoneMinute <= 59 && storableInstant(s);
}

/**
 * A phone number as people write it: 9 to 15 digits once spaces, dots, dashes
 * and parentheses are left out, optionally after one leading + (a Vietnamese
 * number is 10 digits as 0…, 11 as 84…; E.164 allows 15). The former
 * character class ^[+0-9 ().-]{6,20}$ took "+++ ... ---", and an SMS went to
 * "+++". Each repetition ends with a digit, so matching is linear.
 */
export const PHONE_PATTERN = '^[ ().-]*\\+?(?:[ ().-]*[0-9]){9,15}[ ().-]*$';

/** An http(s) URL without spaces or control characters: links to files and photos (javascript: and data: are URIs too). */
export const HTTP_URL_PATTERN = '^https?://[^\\u0000-\\u0020\\u007F]+$';

/** What a value failing PHONE_PATTERN is told, wherever it is checked. */
export const PHONE_MESSAGE = 'must be a phone number: 9 to 15 digits, optionally after one leading +, with only spaces, dots, dashes or parentheses between (e.g. 0912 000 111, +84 912 000 111)';

/** What a value failing one of these patterns must be, in words (ajv's own message quotes the pattern). */
const PATTERN_MESSAGES: Record<string, string> = {
  [PHONE_PATTERN]: PHONE_MESSAGE,
  '\\S': 'must not be blank (only spaces)',
  [HTTP_URL_PATTERN]: 'must be an http(s) address (no other scheme, no spaces)',
};

const FORMAT_MESSAGES: Record<string, string> = {
  'date-time': `must be a date and time with its zone (RFC 3339, e.g. 2026-12-01T08:00:00+07:00), seconds 00–59, between the years ${YEARS.min} and ${YEARS.max}`,
  date: `must be a date (YYYY-MM-DD, e.g. 2026-12-01) between the years ${YEARS.min} and ${YEARS.max}`,
  'day-or-instant': `must be a date (YYYY-MM-DD) or a date and time with its zone (e.g. 2026-12-01T08:00:00+07:00), between the years ${YEARS.min} and ${YEARS.max}`,
  'day-or-today': `must be a date (YYYY-MM-DD, between the years ${YEARS.min} and ${YEARS.max}) or "today"`,
};

/** ajv errors as `{path, message}` naming the field, e.g. `/variables/citizenPhone`. */
export function fieldProblems(errors: ErrorObject[] | null | undefined): FieldProblem[] {
  return (errors ?? []).map((e) => {
    let path = e.instancePath || '';
    if (e.keyword === 'required') path += `/${(e.params as any).missingProperty}`;
    if (e.keyword === 'additionalProperties') path += `/${(e.params as any).additionalProperty}`;
    const message =
      e.keyword === 'additionalProperties'
        ? 'is not a known field'
        : e.keyword === 'required'
          ? 'is required'
          : e.keyword === 'enum'
            ? `must be one of ${((e.params as any).allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
            : e.keyword === 'format' && FORMAT_MESSAGES[(e.params as any).format]
              ? FORMAT_MESSAGES[(e.params as any).format]
              : e.keyword === 'pattern' && Object.hasOwn(PATTERN_MESSAGES, (e.params as any).pattern)
                ? PATTERN_MESSAGES[(e.params as any).pattern]
                : (e.message ?? 'is invalid');
    return { path: path || '/', message };
  });
}

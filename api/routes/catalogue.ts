import { rolesFor } from '../../engine/hotline/policy.js';
import { CALENDAR_YEAR_SCHEMA, CATALOGUE_KINDS, entryTag, type Catalogue, type CatalogueKind } from '../../engine/hotline/catalogue.js';
import type { CalendarYear } from '../../engine/hotline/calendar.js';
import { vietnamDate } from '../../engine/vietnam-time.js';
import { NotFoundError } from '../../engine/errors.js';
import { actorOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';
import { CatalogueEntrySchema } from '../schemas.js';

const yearParam = { type: 'integer', minimum: 1900, maximum: 2200 };

const DaySchema = {
  type: 'object',
  required: ['date', 'name'],
  properties: { date: { type: 'string', format: 'date' }, name: { type: 'string' }, note: { type: 'string' } },
};

/** GET and PUT answer the same view of a year. */
const CalendarYearView = {
  type: 'object',
  additionalProperties: false,
  required: ['year', 'covered', 'provisional', 'fallback', 'holidays', 'workingDays', 'source', 'note', 'storedFrom', 'updatedAt', 'updatedBy', 'years', 'missingYears', 'warnings'],
  properties: {
    year: { type: 'integer' },
    covered: { type: 'boolean', description: 'Whether the year has holiday data; without it deadlines count Monday to Friday and the cases are flagged (calendar.fallback in their history)' },
    provisional: { type: 'boolean' },
    fallback: { type: ['string', 'null'], enum: ['monday-friday', null], description: 'How days of the year count while it has no data' },
    holidays: { type: 'array', items: DaySchema },
    workingDays: { type: 'array', items: DaySchema, description: 'Make-up working days (làm bù)' },
    source: { type: ['string', 'null'] },
    note: { type: ['string', 'null'] },
    storedFrom: { type: ['string', 'null'], enum: ['file', 'api', null], description: 'file: seeded from processes/calendar; api: an analyst (API, page or pakn calendar import)' },
    updatedAt: { type: ['string', 'null'], format: 'date-time' },
    updatedBy: { type: ['string', 'null'] },
    years: { type: 'array', items: { type: 'integer' }, description: 'Every year with data' },
    missingYears: { type: 'array', items: { type: 'integer' }, description: 'Years to enter now: this year if missing and, from 1 October, next year' },
    warnings: { type: 'array', items: { type: 'string' }, description: 'In Vietnamese, for the page' },
  },
};

/** The warning analysts see from 1 October of the year before (and for the current year, if it ever lacks data). */
export function calendarWarnings(catalogue: Catalogue, at: Date): string[] {
  return catalogue
    .missingYears(at)
    .map((y) => `Chưa có lịch nghỉ lễ, Tết năm ${y}: thời hạn trong năm ${y} sẽ tính theo thứ Hai – thứ Sáu và hồ sơ bị đánh dấu. Hãy nhập lịch nghỉ năm ${y} theo thông báo của Chính phủ.`);
}

async function calendarView(deps: AppDeps, year: number) {
  const stored = await deps.catalogue.calendarYear(year);
  const cal = deps.catalogue.calendar;
  const data: Partial<CalendarYear> = stored?.data ?? {};
  return {
    year,
    covered: Boolean(stored),
    provisional: data.provisional === true,
    fallback: stored ? null : 'monday-friday',
    holidays: data.holidays ?? [],
    workingDays: data.workingDays ?? [],
    source: data.source ?? null,
    note: data.note ?? null,
    storedFrom: stored?.source ?? null,
    updatedAt: stored ? stored.updatedAt.toISOString() : null,
    updatedBy: stored?.updatedBy ?? null,
    years: [...cal.years],
    missingYears: deps.catalogue.missingYears(deps.clock.now()),
    warnings: calendarWarnings(deps.catalogue, deps.clock.now()),
  };
}

function kindOf(value: string): CatalogueKind {
  if (!(CATALOGUE_KINDS as readonly string[]).includes(value)) throw new NotFoundError(`No catalogue "${value}"; there are ${CATALOGUE_KINDS.join(', ')} and calendar.`);
  return value as CatalogueKind;
}

export function catalogueRoutes(deps: AppDeps): RouteSpec[] {
  // The calendar's routes come first: /v1/catalogue/calendar would otherwise be read as a kind.
  return [
    {
      method: 'get',
      path: '/v1/catalogue/calendar',
      summary: 'The working-day calendar of a year: holidays and make-up working days',
      description:
        'year defaults to the current year in Asia/Ho_Chi_Minh. A year without data answers 200 with covered=false: its deadlines count Monday to Friday (the hotline never stops) and the cases are flagged. missingYears and warnings name the years to enter: the current one if missing, and from 1 October the next one.',
      tags: ['Catalogue'],
      access: rolesFor('readCatalogue'),
      query: { type: 'object', additionalProperties: false, properties: { year: { ...yearParam, description: 'YYYY' } } },
      responses: { 200: { description: 'The year', schema: CalendarYearView } },
      handler: async (ctx) => {
        const year = Number(ctx.state.query?.year ?? vietnamDate(deps.clock.now()).slice(0, 4));
        ctx.body = await calendarView(deps, year);
      },
    },
    {
      method: 'put',
      path: '/v1/catalogue/calendar/:year',
      summary: 'Set the holidays and make-up working days of a year',
      description:
        'The whole year is replaced. Each day must be a real date of that year, named, listed once; a make-up working day must be a weekend day (422 naming the day otherwise). Recorded on the system chain (calendar.changed, before and after); in force on every node from its next request. Deadlines already set keep their date; every deadline computed from then on uses the new data.',
      tags: ['Catalogue'],
      access: rolesFor('writeCatalogue'),
      params: { type: 'object', properties: { year: yearParam } },
      body: CALENDAR_YEAR_SCHEMA as any,
      responses: { 200: { description: 'Changed (or unchanged)', schema: CalendarYearView }, 201: { description: 'The year was added', schema: CalendarYearView } },
      handler: async (ctx) => {
        const year = Number(ctx.params.year);
        const r = await deps.catalogue.putCalendarYear(year, ctx.state.body as CalendarYear, actorOf(ctx.state.principal!, ctx.state.requestId));
        ctx.status = r.created ? 201 : 200;
        ctx.body = await calendarView(deps, year);
      },
    },
    {
      method: 'get',
      path: '/v1/catalogue/:kind',
      summary: 'Catalogue entries (agencies, units, fields, procedures) with validity dates',
      description: 'With ?on=YYYY-MM-DD only the entries in force that day; ?on=today for today in Asia/Ho_Chi_Minh.',
      tags: ['Catalogue'],
      access: rolesFor('readCatalogue'),
      query: { type: 'object', additionalProperties: false, properties: { on: { type: 'string', maxLength: 10, format: 'day-or-today' } } },
      responses: { 200: { description: 'Entries, by code', schema: { type: 'array', items: CatalogueEntrySchema } } },
      handler: (ctx) => {
        const kind = kindOf(ctx.params.kind);
        const on = ctx.state.query?.on === 'today' ? vietnamDate(deps.clock.now()) : ctx.state.query?.on;
        ctx.body = deps.catalogue.list(kind, on).sort((a, b) => a.code.localeCompare(b.code));
      },
    },
    {
      method: 'get',
      path: '/v1/catalogue/:kind/:code',
      summary: 'One catalogue entry, in force or not',
      tags: ['Catalogue'],
      access: rolesFor('readCatalogue'),
      responses: {
        200: {
          description: 'The entry',
          schema: CatalogueEntrySchema,
          headers: {
            'Last-Modified': { description: 'When it was last written', schema: { type: 'string' } },
            ETag: { description: 'Its version: send it back as If-Match with a PUT so that a change made meanwhile is not overwritten', schema: { type: 'string' } },
          },
        },
      },
      handler: (ctx) => {
        const kind = kindOf(ctx.params.kind);
        const entry = deps.catalogue.get(kind, ctx.params.code);
        if (!entry) throw new NotFoundError(`No ${kind} entry ${ctx.params.code}.`);
        const changed = deps.catalogue.changed(kind, entry.code);
        if (changed) ctx.set('Last-Modified', changed.updatedAt.toUTCString());
        ctx.set('ETag', entryTag(entry));
        ctx.body = entry;
      },
    },
    {
      method: 'put',
      path: '/v1/catalogue/:kind/:code',
      summary: 'Create or change a catalogue entry',
      description:
        'The body is an entry of the kind as in processes/catalogue/catalogue.schema.json ($defs agency, unit, field, procedure), with validFrom and validTo (null while in force); code may be left out (the path gives it). 422 names each field that fails the schema, a successor, parent or unit not in the catalogue, or validTo before validFrom. Retire an entry by giving it a validTo (and a successor); entries are never deleted, running cases keep the codes they hold. Recorded on the system chain (catalogue.changed, before and after); in force on every node from its next request; the shipped files never overwrite it again.',
      tags: ['Catalogue'],
      access: rolesFor('writeCatalogue'),
      params: { type: 'object', properties: { code: { type: 'string', pattern: '^[A-Z0-9][A-Z0-9-]*$', maxLength: 64 } } },
      body: { type: 'object', description: 'A catalogue entry of the kind (catalogue.schema.json); checked in full by the route (422 naming the field)' },
      responses: {
        200: { description: 'Changed (or unchanged)', schema: CatalogueEntrySchema, headers: { ETag: { description: 'The version now', schema: { type: 'string' } } } },
        201: { description: 'Created', schema: CatalogueEntrySchema, headers: { ETag: { description: 'The version now', schema: { type: 'string' } } } },
        412: { description: 'If-Match names a version that is no longer the current one (someone changed the entry since it was read): nothing was written' },
      },
      handler: async (ctx) => {
        const kind = kindOf(ctx.params.kind);
        // Optional If-Match (the ETag of a GET): a change made meanwhile by another analyst is not overwritten.
        const ifMatch = ctx.get('If-Match') || undefined;
        const r = await deps.catalogue.put(kind, ctx.params.code, ctx.state.body as Record<string, unknown>, actorOf(ctx.state.principal!, ctx.state.requestId), ifMatch);
        ctx.status = r.created ? 201 : 200;
        ctx.set('ETag', entryTag(deps.catalogue.get(kind, ctx.params.code) ?? r.entry));
        ctx.body = r.entry;
      },
    },
  ];
}


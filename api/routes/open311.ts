import type Koa from 'koa';
import { create } from 'xmlbuilder2';
import { caseSummaries, type CaseSummary } from '../../db/cases.js';
import { vietnamDate } from '../../engine/vietnam-time.js';
import { isW3cInstant } from '../../engine/json-schema.js';
import { ForbiddenError, InputError, NotFoundError } from '../../engine/errors.js';
import { mayCall } from '../../engine/hotline/policy.js';
import { isPublished, publicVariables } from '../../engine/hotline/public-status.js';
import { actorOf } from '../auth.js';
import { onceFor } from '../idempotency.js';
import type { AppDeps } from '../deps.js';
import type { ErrorFormat, JsonSchema, RouteResponse, RouteSpec } from '../http.js';
import {
  GeoReportDiscoverySchema,
  GeoReportErrorsSchema,
  GeoReportPostBody,
  GeoReportRequestsQuery,
  GeoReportServiceDefinitionSchema,
  GeoReportServiceRequestSchema,
  GeoReportServiceSchema,
  GeoReportSubmittedSchema,
  GeoReportTokenSchema,
  UNCLASSIFIED_SERVICE,
} from '../schemas.js';

/**
 * Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): services are
 * the catalogue's fields in force (and one for "not classified yet"); a
 * request is a case; its id is the case code. JSON or XML by the path's
 * extension; every error under /open311/ — 404 and 500 included — as the
 * spec's list of {code, description} in the requested format (ErrorFormat,
 * wired in api/app.ts), never problem+json.
 */
type Format = 'json' | 'xml';

const PREFIX = '/open311/';
const SPEC = 'http://wiki.open311.org/GeoReport_v2';
const DAY_MS = 86_400_000;
/** The spec's longest start_date..end_date span, and the default window. */
const MAX_RANGE_DAYS = 90;

/** The element each list item is wrapped in, per root (the spec's XML examples). */
const XML_ITEM: Record<string, string> = { services: 'service', service_requests: 'request', errors: 'error', attributes: 'attribute', endpoints: 'endpoint', formats: 'format', values: 'value' };

function formatOfPath(path: string): Format {
  return /\.xml$/i.test(path) ? 'xml' : 'json';
}

/** Answer in the requested format; XML through an XML writer (characters XML 1.0 cannot carry become U+FFFD, so the answer is always well-formed). */
function send(ctx: Koa.Context, format: Format, root: string, value: unknown) {
  if (format === 'json') {
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = value;
    return;
  }
  ctx.type = 'text/xml; charset=utf-8';
  ctx.body = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '\uFFFD' }, { [root]: toXml(root, value) } as any).end({ prettyPrint: true });
}

/** JSON value → xmlbuilder2 object: lists become repeated item elements, null an empty element. */
function toXml(name: string, value: unknown): unknown {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.length ? { [XML_ITEM[name] ?? 'item']: value.map((v) => toXml('', v)) } : '';
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toXml(k, v)]));
  return String(value);
}

/** GeoReport error list for every error under /open311/ (see api/http.ts ErrorFormat). */
export const open311Errors: ErrorFormat = {
  prefix: PREFIX,
  render(ctx, status, detail, errors) {
    const list = errors.length ? errors.map((e) => ({ code: status, description: `${e.path.replace(/^\//, '')}: ${e.message}` })) : [{ code: status, description: detail }];
    send(ctx, formatOfPath(ctx.path), 'errors', list);
    ctx.status = status;
  },
};

/** A W3C date-time (the spec's subset of ISO 8601, with a time zone) as a Date, or a 400 naming the parameter. */
function w3cDate(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (!isW3cInstant(value)) throw new InputError(`${name} is not a valid date-time.`, [{ path: `/${name}`, message: 'must be a W3C date-time such as 2026-11-05T08:15:30+07:00' }]);
  return at;
}

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const HTTP_URL = /^https?:\/\/[^\s\u0000-\u001f\u007f]+$/;

/** The same statuses in both formats: the GeoReport error list as JSON or XML. */
function errors(...codes: Array<[number, string]>): Record<number, RouteResponse> {
  return Object.fromEntries(codes.map(([code, description]) => [code, { description }]));
}

const formatParam: JsonSchema = { type: 'object', required: ['format'], properties: { format: { enum: ['json', 'xml'], description: 'json or xml: the answer format' } } };

function both(schema: JsonSchema): Record<string, JsonSchema> {
  return { 'application/json': schema, 'text/xml': { type: 'string', description: 'The same data as XML (the spec’s element names)' } };
}

export function open311Routes(deps: AppDeps): RouteSpec[] {
  const serviceList = () => [
    ...deps.catalogue.list('fields', vietnamDate(deps.clock.now())).map((f) => ({
      service_code: f.code,
      service_name: f.name,
      description: `Phản ánh, kiến nghị lĩnh vực ${f.name}`,
      metadata: false,
      type: 'realtime',
      keywords: f.code.toLowerCase().split('-').join(','),
      group: 'Tổng đài 1022',
    })),
    {
      service_code: UNCLASSIFIED_SERVICE.code,
      service_name: UNCLASSIFIED_SERVICE.name,
      description: 'Chưa rõ lĩnh vực: tổng đài viên phân loại và chuyển cơ quan có thẩm quyền.',
      metadata: false,
      type: 'realtime',
      keywords: 'khac,chua-phan-loai',
      group: 'Tổng đài 1022',
    },
  ];

  const requestView = (row: CaseSummary) => {
    // Only the variables on the public allow-list (engine/hotline/public-status.ts), whoever asks.
    const v = publicVariables(row.variables);
    const field = typeof v.field === 'string' ? deps.catalogue.get('fields', v.field) : undefined;
    const agency = typeof v.agency === 'string' ? deps.catalogue.get('agencies', v.agency) : undefined;
    const published = isPublished(row.status, v);
    return {
      service_request_id: row.code,
      status: row.status === 'completed' ? 'closed' : 'open',
      status_notes: published && typeof v.answer === 'string' ? v.answer : null,
      // Not classified yet: the pseudo-service that says so, never a null code.
      service_name: typeof v.field === 'string' ? (field?.name ?? v.field) : UNCLASSIFIED_SERVICE.name,
      service_code: typeof v.field === 'string' ? v.field : UNCLASSIFIED_SERVICE.code,
      // The citizen's own words may name people: shown only once the answer is published.
      description: published && typeof v.title === 'string' ? v.title : null,
      agency_responsible: agency?.name ?? (typeof v.agency === 'string' ? v.agency : null),
      service_notice: null,
      requested_datetime: new Date(row.created_at).toISOString(),
      updated_datetime: new Date(row.updated_at).toISOString(),
      expected_datetime: row.status !== 'completed' && typeof v.dueAt === 'string' && isW3cInstant(v.dueAt) ? v.dueAt : null,
      address: published && typeof v.address === 'string' ? v.address : null,
      address_id: null,
      zipcode: null,
      lat: typeof v.lat === 'number' && typeof v.long === 'number' ? v.lat : null,
      long: typeof v.lat === 'number' && typeof v.long === 'number' ? v.long : null,
      media_url: typeof v.mediaUrl === 'string' && HTTP_URL.test(v.mediaUrl) ? v.mediaUrl : null,
    };
  };

  const base = { tags: ['Open311'], access: 'public' as const, params: formatParam, errorContent: both(GeoReportErrorsSchema) };
  return [
    {
      ...base,
      method: 'get',
      path: '/open311/v2/discovery.:format',
      summary: 'Open311: service discovery (the GeoReport v2 endpoint, its formats and contact)',
      responses: { 200: { description: 'Discovery document', content: both(GeoReportDiscoverySchema) } },
      handler: (ctx) => {
        const format = ctx.params.format as Format;
        const origin = `${ctx.protocol}://${ctx.host}`;
        send(ctx, format, 'discovery', {
          changeset: '2026-12-06T00:00:00Z',
          contact: 'Tổng đài dịch vụ công 1022 tỉnh Đồng Nai — gọi 1022',
          key_service: 'Khóa api_key do quản trị hệ thống cấp (khóa vai trò operator). Keys are issued by the operators of the hotline.',
          endpoints: [{ specification: SPEC, url: `${origin}/open311/v2`, changeset: '2026-12-06T00:00:00Z', type: 'production', formats: ['text/xml', 'application/json'] }],
        });
      },
    },
    {
      ...base,
      method: 'get',
      path: '/open311/v2/services.:format',
      summary: 'Open311: service list (the catalogue fields in force, and CHUA-PHAN-LOAI for a request whose field the citizen does not know)',
      responses: { 200: { description: 'Services', content: both({ type: 'array', items: GeoReportServiceSchema }) } },
      handler: (ctx) => send(ctx, ctx.params.format as Format, 'services', serviceList()),
    },
    {
      ...base,
      method: 'get',
      path: '/open311/v2/services/:code.:format',
      summary: 'Open311: service definition (no extra attributes)',
      params: { ...formatParam, required: ['code', 'format'], properties: { ...(formatParam.properties as object), code: { type: 'string', maxLength: 64 } } },
      responses: { 200: { description: 'Service definition', content: both(GeoReportServiceDefinitionSchema) }, ...errors([404, 'No such service']) },
      handler: (ctx) => {
        const code = ctx.params.code;
        if (!serviceList().some((s) => s.service_code === code)) throw new NotFoundError(`service_code ${code} not found`);
        send(ctx, ctx.params.format as Format, 'service_definition', { service_code: code, attributes: [] });
      },
    },
    {
      ...base,
      method: 'post',
      path: '/open311/v2/requests.:format',
      summary: 'Open311: create a service request (form-urlencoded or multipart, api_key of an operator key in the body or the query)',
      description:
        'Fields: api_key, service_code, a location (lat and long together, address_string, or address_id), description, first_name, last_name, phone, email, media_url (an http(s) address of a photo). An empty field counts as absent. A photo uploaded as the multipart file `media` is refused (400): put it online and send media_url. The answer carries service_request_id (the case code) at once.',
      forms: true,
      body: GeoReportPostBody,
      query: { type: 'object', properties: { api_key: { type: 'string', maxLength: 200, description: 'may come in the body instead' }, jurisdiction_id: { type: 'string', maxLength: 100, description: 'ignored: one jurisdiction' } } },
      responses: {
        201: { description: 'Created', content: both({ type: 'array', items: GeoReportSubmittedSchema, minItems: 1, maxItems: 1 }) },
        ...errors([403, 'api_key missing, unknown, or not allowed to create requests'], [404, 'No such service_code'], [413, 'The body (a photo) is larger than 10 MiB'], [422, 'The service is not in force on this day']),
      },
      handler: async (ctx) => {
        const format = ctx.params.format as Format;
        const b = ctx.state.body as Record<string, any>;
        const apiKey = typeof b.api_key === 'string' ? b.api_key : ctx.state.query?.api_key;
        const principal = typeof apiKey === 'string' ? await deps.keys.authenticate(apiKey) : null;
        if (!principal || !mayCall(principal, 'startCase')) throw new ForbiddenError('api_key is missing, unknown, or not allowed to create requests');
        if (ctx.state.files?.length) {
          throw new InputError('Photos are not accepted yet: put the photo online and send its address as media_url.', [{ path: `/${ctx.state.files[0].field}`, message: 'photos are not accepted yet; send media_url instead' }]);
        }
        if (!serviceList().some((s) => s.service_code === b.service_code)) throw new NotFoundError(`service_code ${b.service_code} not found`);
        const lat = b.lat !== undefined ? Number(b.lat) : undefined;
        const long = b.long !== undefined ? Number(b.long) : undefined;
        if ((lat === undefined) !== (long === undefined)) throw new InputError('lat and long come together.', [{ path: lat === undefined ? '/lat' : '/long', message: 'is required when the other coordinate is given' }]);
        if (lat !== undefined && !(lat >= -90 && lat <= 90)) throw new InputError('lat must be WGS84 degrees.', [{ path: '/lat', message: 'must be between -90 and 90' }]);
        if (long !== undefined && !(long >= -180 && long <= 180)) throw new InputError('long must be WGS84 degrees.', [{ path: '/long', message: 'must be between -180 and 180' }]);
        if (lat === undefined && b.address_string === undefined && b.address_id === undefined) {
          throw new InputError('a location is required: lat and long, address_string, or address_id', [{ path: '/lat', message: 'a location is required: lat and long, address_string, or address_id' }]);
        }
        const name = [b.last_name, b.first_name].filter((s) => typeof s === 'string' && s.trim()).map((s: string) => s.trim()).join(' ') || undefined;
        const description = typeof b.description === 'string' && b.description.trim() ? b.description.trim() : undefined;
        const classified = b.service_code !== UNCLASSIFIED_SERVICE.code;
        const title = description ? description.slice(0, 120) : `Phản ánh qua ứng dụng: ${classified ? b.service_code : UNCLASSIFIED_SERVICE.name}`;
        const variables: Record<string, unknown> = {
          title,
          // Intake needs a description; GeoReport makes it optional, so a request without one is described by its title.
          description: description ?? title,
          ...(classified ? { field: b.service_code } : {}),
          channel: 'app',
          ...(name ? { citizenName: name } : {}),
          ...(b.phone ? { citizenPhone: b.phone } : {}),
          ...(b.email ? { citizenEmail: b.email } : {}),
          ...(b.address_string ? { address: b.address_string } : {}),
          ...(lat !== undefined ? { lat, long } : {}),
          ...(b.media_url ? { mediaUrl: b.media_url } : {}),
        };
        const input = { processKey: deps.defaultProcess, variables, actor: actorOf(principal, ctx.state.requestId) };
        const created = (code: string) => [{ service_request_id: code, service_notice: 'Tổng đài 1022 đã tiếp nhận phản ánh.', account_id: null }];
        // An app retrying after a network error sends the same Idempotency-Key: one case, the same answer.
        const once = onceFor(ctx, 'POST /open311/v2/requests', async (_trx, result) => ({ status: 201, body: created(result.code) }), principal.id);
        if (once) {
          const answered = await deps.runtime.startCaseOnce({ ...input, once });
          ctx.status = answered.status;
          if (answered.replayed) ctx.set('Idempotent-Replayed', 'true');
          send(ctx, format, 'service_requests', answered.body);
          return;
        }
        const result = await deps.runtime.startCase(input);
        ctx.status = 201;
        send(ctx, format, 'service_requests', created(result.code));
      },
    },
    {
      ...base,
      method: 'get',
      path: '/open311/v2/requests.:format',
      summary: 'Open311: service requests (filters service_request_id, service_code, start_date, end_date, status)',
      description:
        'Without the api_key of a staff key, only published requests (answered and marked for publication) are listed; a request is always found by its service_request_id. service_request_id (several: comma-separated or repeated) overrides every other filter. service_code and status take several values the same way. start_date and end_date are W3C date-times with a time zone and span at most 90 days; without them the last 90 days (before end_date, or after start_date). At most 1000 requests, newest first.',
      query: GeoReportRequestsQuery,
      responses: { 200: { description: 'Requests', content: both({ type: 'array', items: GeoReportServiceRequestSchema, maxItems: 1000 }) } },
      handler: async (ctx) => {
        const format = ctx.params.format as Format;
        const q = ctx.state.query as { service_request_id?: string[]; service_code?: string[]; start_date?: string; end_date?: string; status?: string[] };
        let rows: CaseSummary[];
        if (q.service_request_id?.length) {
          rows = await caseSummaries(deps.db, { codes: q.service_request_id.map((s) => s.toUpperCase()), limit: 1000 });
        } else {
          const start = w3cDate(q.start_date, 'start_date');
          const end = w3cDate(q.end_date, 'end_date');
          const to = end ?? (start ? new Date(start.getTime() + MAX_RANGE_DAYS * DAY_MS) : deps.clock.now());
          const from = start ?? new Date(to.getTime() - MAX_RANGE_DAYS * DAY_MS);
          if (from > to) throw new InputError('start_date must not be after end_date.', [{ path: '/start_date', message: 'must not be after end_date' }]);
          if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) throw new InputError(`start_date to end_date may span at most ${MAX_RANGE_DAYS} days.`, [{ path: '/end_date', message: `must be at most ${MAX_RANGE_DAYS} days after start_date` }]);
          const statuses = new Set(q.status ?? []);
          const completed = statuses.size === 1 ? statuses.has('closed') : undefined;
          const codes = q.service_code ?? [];
          const fields = codes.length ? codes.map((c) => (c === UNCLASSIFIED_SERVICE.code ? null : c)) : undefined;
          rows = await caseSummaries(deps.db, { from, to, fields, completed, limit: 1000 });
          // Without a staff key the list shows published requests only: it must not enumerate every case code.
          const key = typeof ctx.state.query?.api_key === 'string' ? await deps.keys.authenticate(ctx.state.query.api_key) : null;
          if (!key || !mayCall(key, 'readCase')) rows = rows.filter((r) => isPublished(r.status, r.variables ?? {}));
        }
        send(ctx, format, 'service_requests', rows.map(requestView));
      },
    },
    {
      ...base,
      method: 'get',
      path: '/open311/v2/requests/:id.:format',
      summary: 'Open311: one service request',
      params: { ...formatParam, required: ['id', 'format'], properties: { ...(formatParam.properties as object), id: { type: 'string', maxLength: 32 } } },
      responses: { 200: { description: 'The request (a list of one)', content: both({ type: 'array', items: GeoReportServiceRequestSchema, minItems: 1, maxItems: 1 }) }, ...errors([404, 'No such request']) },
      handler: async (ctx) => {
        const [row] = await caseSummaries(deps.db, { codes: [ctx.params.id.toUpperCase()], limit: 1 });
        if (!row) throw new NotFoundError(`service_request_id ${ctx.params.id} not found`);
        send(ctx, ctx.params.format as Format, 'service_requests', [requestView(row)]);
      },
    },
    {
      ...base,
      method: 'get',
      path: '/open311/v2/tokens/:token.:format',
      summary: 'Open311: the request id for a token (requests get their id at once, so the token is the id)',
      params: { ...formatParam, required: ['token', 'format'], properties: { ...(formatParam.properties as object), token: { type: 'string', maxLength: 32 } } },
      responses: { 200: { description: 'Token', content: both({ type: 'array', items: GeoReportTokenSchema, minItems: 1, maxItems: 1 }) }, ...errors([404, 'No such token']) },
      handler: async (ctx) => {
        const token = ctx.params.token.toUpperCase();
        const [row] = await caseSummaries(deps.db, { codes: [token], limit: 1 });
        if (!row) throw new NotFoundError(`token ${token} not found`);
        send(ctx, ctx.params.format as Format, 'service_requests', [{ service_request_id: row.code, token: row.code }]);
      },
    },
  ];
}

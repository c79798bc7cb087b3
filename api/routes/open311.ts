import type Koa from 'koa';
import { create } from 'xmlbuilder2';
import { caseSummaries, type CaseSummary } from '../../db/cases.js';
import { vietnamDate } from '../../engine/hotline/catalogue.js';
import { DomainError, NotFoundError } from '../../engine/errors.js';
import { mayCall } from '../../engine/hotline/policy.js';
import { isPublished } from '../../engine/hotline/public-status.js';
import { actorOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';

/**
 * Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): services are
 * the catalogue's fields in force; a request is a case; its id is the case
 * code. JSON or XML by the path's extension; errors as the spec's list of
 * {code, description}.
 */
type Format = 'json' | 'xml';

class Open311Error extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const XML_ITEM: Record<string, string> = { services: 'service', service_requests: 'request', errors: 'error' };

function send(ctx: Koa.Context, format: Format, root: string, items: unknown) {
  if (format === 'json') {
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = items;
    return;
  }
  ctx.type = 'text/xml; charset=utf-8';
  const body = Array.isArray(items) ? { [root]: { [XML_ITEM[root] ?? 'item']: items.map(nullsToEmpty) } } : { [root]: nullsToEmpty(items) };
  ctx.body = create({ version: '1.0', encoding: 'utf-8' }, body as any).end({ prettyPrint: true });
}

function nullsToEmpty(o: any): any {
  if (!o || typeof o !== 'object') return o;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(',') : v;
  return out;
}

function formatOf(ctx: Koa.Context): Format {
  const f = String((ctx as any).params.format ?? '').toLowerCase();
  if (f !== 'json' && f !== 'xml') throw new Open311Error(404, 'Use .json or .xml');
  return f;
}

/** Every Open311 route answers errors in the spec's own shape, in the requested format. */
function open311(handler: (ctx: Koa.Context, format: Format) => Promise<void>) {
  return async (ctx: any) => {
    let format: Format = String(ctx.params.format ?? '').toLowerCase() === 'xml' ? 'xml' : 'json';
    try {
      format = formatOf(ctx);
      await handler(ctx, format);
    } catch (err: any) {
      const status = err instanceof Open311Error || err instanceof DomainError ? (err as any).status : 500;
      if (status >= 500) throw err;
      const errors = (err.errors?.length ? err.errors.map((e: any) => `${e.path.replace(/^\//, '')}: ${e.message}`) : [err.message]).map((description: string) => ({ code: status, description }));
      send(ctx, format, 'errors', errors);
      ctx.status = status;
    }
  };
}

export function open311Routes(deps: AppDeps): RouteSpec[] {
  const serviceList = () =>
    deps.catalogue.list('fields', vietnamDate(deps.clock.now())).map((f) => ({
      service_code: f.code,
      service_name: f.name,
      description: `Phản ánh, kiến nghị lĩnh vực ${f.name}`,
      metadata: false,
      type: 'realtime',
      keywords: f.code.toLowerCase().split('-').join(','),
      group: 'Tổng đài 1022',
    }));

  const requestView = (row: CaseSummary) => {
    const v = row.variables ?? {};
    const field = typeof v.field === 'string' ? deps.catalogue.get('fields', v.field) : undefined;
    const agency = typeof v.agency === 'string' ? deps.catalogue.get('agencies', v.agency) : undefined;
    const published = isPublished(row.status, v);
    return {
      service_request_id: row.code,
      status: row.status === 'completed' ? 'closed' : 'open',
      status_notes: published && typeof v.answer === 'string' ? v.answer : null,
      service_name: field?.name ?? null,
      service_code: v.field ?? null,
      // The citizen's own words may name people: shown only once the answer is published.
      description: published && typeof v.title === 'string' ? v.title : null,
      agency_responsible: agency?.name ?? v.agency ?? null,
      service_notice: null,
      requested_datetime: new Date(row.created_at).toISOString(),
      updated_datetime: new Date(row.updated_at).toISOString(),
      expected_datetime: row.status !== 'completed' && typeof v.dueAt === 'string' ? v.dueAt : null,
      address: published && typeof v.address === 'string' ? v.address : null,
      address_id: null,
      zipcode: null,
      lat: typeof v.lat === 'number' ? v.lat : null,
      long: typeof v.long === 'number' ? v.long : null,
      media_url: typeof v.mediaUrl === 'string' ? v.mediaUrl : null,
    };
  };

  const base = { tags: ['Open311'], access: 'public' as const };
  return [
    {
      ...base,
      method: 'get',
      path: '/open311/v2/services.:format',
      summary: 'Open311: service list (the catalogue fields in force)',
      responses: { 200: { description: 'Services', schema: { type: 'array', items: { type: 'object' } } } },
      handler: open311(async (ctx, format) => send(ctx, format, 'services', serviceList())),
    },
    {
      ...base,
      method: 'get',
      path: '/open311/v2/services/:code.:format',
      summary: 'Open311: service definition (no extra attributes)',
      responses: { 200: { description: 'Service definition', schema: { type: 'object' } } },
      handler: open311(async (ctx, format) => {
        const code = (ctx as any).params.code;
        if (!serviceList().some((s) => s.service_code === code)) throw new Open311Error(404, `service_code ${code} not found`);
        send(ctx, format, 'service_definition', { service_code: code, attributes: [] });
      }),
    },
    {
      ...base,
      method: 'post',
      path: '/open311/v2/requests.:format',
      summary: 'Open311: create a service request (form-urlencoded, api_key of a channel/operator key)',
      description: 'Fields: api_key, service_code, one of lat+long / address_string / address_id, description, first_name, last_name, phone, email, media_url. The answer carries service_request_id (the case code) at once.',
      body: { type: 'object' },
      responses: { 201: { description: 'Created', schema: { type: 'array', items: { type: 'object' } } } },
      handler: open311(async (ctx, format) => {
        const b = (ctx.request as any).body ?? {};
        const principal = typeof b.api_key === 'string' ? await deps.keys.authenticate(b.api_key) : null;
        if (!principal || !mayCall(principal, 'startCase')) throw new Open311Error(403, 'api_key is missing, unknown, or not allowed to create requests');
        if (!b.service_code) throw new Open311Error(400, 'service_code is required');
        if (!serviceList().some((s) => s.service_code === b.service_code)) throw new Open311Error(404, `service_code ${b.service_code} not found`);
        const hasLocation = (b.lat && b.long) || b.address_string || b.address_id;
        if (!hasLocation) throw new Open311Error(400, 'a location is required: lat and long, address_string, or address_id');
        const lat = b.lat !== undefined ? Number(b.lat) : undefined;
        const long = b.long !== undefined ? Number(b.long) : undefined;
        if ((lat !== undefined && !(lat >= -90 && lat <= 90)) || (long !== undefined && !(long >= -180 && long <= 180))) throw new Open311Error(400, 'lat and long must be WGS84 degrees');
        const text = (k: string, max = 4000) => (typeof b[k] === 'string' && b[k].trim() ? b[k].trim().slice(0, max) : undefined);
        const name = [text('last_name', 100), text('first_name', 100)].filter(Boolean).join(' ') || undefined;
        const description = text('description');
        const variables: Record<string, unknown> = {
          title: description ? description.slice(0, 120) : `Phản ánh qua ứng dụng: ${b.service_code}`,
          ...(description ? { description } : {}),
          field: b.service_code,
          channel: 'app',
          ...(name ? { citizenName: name } : {}),
          ...(text('phone', 20) ? { citizenPhone: text('phone', 20) } : {}),
          ...(text('email', 200) ? { citizenEmail: text('email', 200) } : {}),
          ...(text('address_string', 500) ? { address: text('address_string', 500) } : {}),
          ...(lat !== undefined ? { lat } : {}),
          ...(long !== undefined ? { long } : {}),
          ...(text('media_url', 2000) ? { mediaUrl: text('media_url', 2000) } : {}),
        };
        deps.catalogue.checkCodes(variables, deps.clock.now());
        const result = await deps.runtime.startCase({ processKey: deps.defaultProcess, variables, actor: actorOf(principal, ctx.state.requestId) });
        ctx.status = 201;
        send(ctx, format, 'service_requests', [{ service_request_id: result.code, service_notice: 'Tổng đài 1022 đã tiếp nhận phản ánh.', account_id: null }]);
      }),
    },
    {
      ...base,
      method: 'get',
      path: '/open311/v2/requests.:format',
      summary: 'Open311: service requests (filters service_request_id, service_code, start_date, end_date, status)',
      responses: { 200: { description: 'Requests', schema: { type: 'array', items: { type: 'object' } } } },
      handler: open311(async (ctx, format) => {
        const q = ctx.query as Record<string, string | undefined>;
        const filter: Parameters<typeof caseSummaries>[1] = { limit: 1000, field: q.service_code || undefined };
        if (q.service_request_id) filter.codes = q.service_request_id.split(',').map((s) => s.trim().toUpperCase());
        else {
          // The spec's default window: the last 90 days.
          filter.to = q.end_date ? new Date(q.end_date) : deps.clock.now();
          filter.from = q.start_date ? new Date(q.start_date) : new Date(filter.to.getTime() - 90 * 86_400_000);
          if (Number.isNaN(filter.from.getTime()) || Number.isNaN(filter.to.getTime())) throw new Open311Error(400, 'start_date and end_date must be W3C date-times');
        }
        if (q.status === 'open') filter.completed = false;
        if (q.status === 'closed') filter.completed = true;
        const rows = await caseSummaries(deps.db, filter);
        send(ctx, format, 'service_requests', rows.map(requestView));
      }),
    },
    {
      ...base,
      method: 'get',
      path: '/open311/v2/requests/:id.:format',
      summary: 'Open311: one service request',
      responses: { 200: { description: 'The request (a list of one)', schema: { type: 'array', items: { type: 'object' } } } },
      handler: open311(async (ctx, format) => {
        const [row] = await caseSummaries(deps.db, { codes: [String((ctx as any).params.id).toUpperCase()], limit: 1 });
        if (!row) throw new Open311Error(404, `service_request_id ${(ctx as any).params.id} not found`);
        send(ctx, format, 'service_requests', [requestView(row)]);
      }),
    },
    {
      ...base,
      method: 'get',
      path: '/open311/v2/tokens/:token.:format',
      summary: 'Open311: the request id for a token (requests get their id at once, so the token is the id)',
      responses: { 200: { description: 'Token', schema: { type: 'array', items: { type: 'object' } } } },
      handler: open311(async (ctx, format) => {
        const token = String((ctx as any).params.token).toUpperCase();
        const [row] = await caseSummaries(deps.db, { codes: [token], limit: 1 });
        if (!row) throw new NotFoundError(`token ${token} not found`);
        send(ctx, format, 'service_requests', [{ service_request_id: row.code, token: row.code }]);
      }),
    },
  ];
}

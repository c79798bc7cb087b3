import type { Clock } from '../engine/clock.js';
import { limit } from './throttle.js';
import type Koa from 'koa';
import type { Router, RouterContext } from '@koa/router';
import type { ValidateFunction } from 'ajv';
import { randomUUID } from 'node:crypto';
import { DomainError, ForbiddenError, InputError, NotFoundError, UnauthorizedError, UnavailableError } from '../engine/errors.js';
import { isDatabaseUnavailable, isStalePreparedStatement, type Db } from '../db/connect.js';
import { createAjv, fieldProblems } from '../engine/json-schema.js';
import type { Role } from '../engine/hotline/policy.js';
import type { Authenticator, Principal } from './auth.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export type JsonSchema = Record<string, unknown>;

export interface State {
  requestId: string;
  principal?: Principal;
  body?: any;
  query?: any;
  files?: UploadedFile[];
}

export type Ctx = RouterContext<State>;

/**
 * One declaration per endpoint: it registers the Koa route, enforces auth and
 * ajv validation, and is the source of the OpenAPI document, so the document
 * and the code cannot disagree.
 */
export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Koa path, e.g. /v1/cases/:code */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  /** 'public': no credential; otherwise any of these roles may call. */
  access: 'public' | Role[];
  body?: JsonSchema;
  /** Alternative raw body media types accepted besides JSON (e.g. application/xml). */
  rawBody?: string[];
  /**
   * The body may also come as an HTML form: application/x-www-form-urlencoded or
   * multipart/form-data (files land in ctx.state.files, validated by `body` like the fields).
   */
  forms?: boolean;
  query?: JsonSchema;
  /**
   * Schema of the path parameters (an object schema), checked by ajv like the
   * body: a value that fails it answers 400 naming the parameter (an enum —
   * Open311's format — answers 404: it names a resource that does not exist).
   * A parameter it does not declare is a string of at most MAX_PATH_PARAM_LENGTH
   * characters; one declared `integer` is read from its digits first.
   */
  params?: JsonSchema;
  /** Every status the route answers itself (errors the middleware adds for every route are added by the document builder). */
  responses: Record<number, RouteResponse>;
  /** Content of this route's error answers when they are not problem+json (Open311: the GeoReport error list). */
  errorContent?: Record<string, JsonSchema>;
  handler: (ctx: Ctx) => Promise<void> | void;
}

export interface RouteResponse {
  description: string;
  /** The body's schema, of contentType (default application/json; problem+json for error statuses). */
  schema?: JsonSchema;
  contentType?: string;
  /** Several content types, each with its schema (e.g. JSON and CSV of the same report). */
  content?: Record<string, JsonSchema>;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
}

/** A file of a multipart body: its name, type and size (the bytes stay here; no route stores files yet). */
export interface UploadedFile {
  field: string;
  name: string;
  type: string;
  size: number;
}

/**
 * Paths whose errors are not problem+json: the route family's own error shape
 * (Open311's GeoReport list), for every error under the prefix, 404 and 500 included.
 */
export interface ErrorFormat {
  prefix: string;
  render(ctx: Koa.Context, status: number, detail: string, errors: Array<{ path: string; message: string }>): void;
}

const ajv = createAjv();

export const PROBLEM_TYPE_BASE = '/problems/';

export function problem(ctx: Koa.Context, status: number, title: string, detail: string, extra: Record<string, unknown> = {}) {
  problemOf(ctx, status, title, detail, extra);
}

function problemOf(ctx: Koa.Context, status: number, title: string, detail: string, extra: Record<string, unknown> = {}) {
  ctx.status = status;
  ctx.type = 'application/problem+json';
  ctx.body = { type: `${PROBLEM_TYPE_BASE}${slug(title)}`, title, status, detail, instance: ctx.path, requestId: ctx.state.requestId, ...extra };
}

function slug(s: string) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/(^-|-$)/g, '');
}

/** Seconds a client is told to wait (Retry-After) while the database is unavailable. */
export const UNAVAILABLE_RETRY_AFTER = 5;
/** …and after a request met a prepared statement a migration had just made stale (its retry gets a fresh connection). */
const STALE_RETRY_AFTER = 1;

/**
 * Remembers whether the database is away, so that an outage is one log line
 * when it starts and one when it heals, not a line per request. While it is
 * away each request first waits for one shared probe (a `select 1`): if the
 * database is still away the request answers 503 at once, without queueing
 * for a connection; the first probe that succeeds ends the outage.
 */
export class DatabaseOutage {
  private down = false;
  private refused = 0;
  private probing: Promise<boolean> | null = null;
  constructor(private readonly log: Logger, private readonly probe?: () => Promise<unknown>) {}

  get isDown(): boolean {
    return this.down;
  }

  failed(err: any): UnavailableError {
    this.refused++;
    if (!this.down) {
      this.down = true;
      this.refused = 1;
      this.log.error({ code: err?.code, reason: String(err?.message ?? err).slice(0, 200) }, 'database unavailable: answering 503 until it is back');
    }
    return new UnavailableError(`The database is unavailable; nothing was changed. Retry after ${UNAVAILABLE_RETRY_AFTER} seconds.`, UNAVAILABLE_RETRY_AFTER);
  }

  /** True when requests may go ahead: no outage, or the probe reached the database again. */
  async reachable(): Promise<boolean> {
    if (!this.down || !this.probe) return true;
    this.probing ??= this.probe().then(
      () => true,
      () => false,
    ).finally(() => (this.probing = null));
    const ok = await this.probing;
    if (ok && this.down) {
      this.down = false;
      this.log.info({ refusedRequests: this.refused }, 'database reachable again');
    }
    return ok;
  }
}

/**
 * First in the chain: request id, access log, and every error as problem+json.
 * `probe` checks the database during an outage (see DatabaseOutage).
 */
export function errorMiddleware(log: Logger, metrics?: Metrics, formats: ErrorFormat[] = [], probe?: () => Promise<unknown>): Koa.Middleware {
  const outage = new DatabaseOutage(log, probe);
  return async (ctx, next) => {
    const format = formats.find((f) => ctx.path.startsWith(f.prefix));
    const problem = (c: Koa.Context, status: number, title: string, detail: string, extra: Record<string, unknown> = {}) =>
      format ? format.render(c, status, detail, (extra.errors as Array<{ path: string; message: string }> | undefined) ?? []) : problemOf(c, status, title, detail, extra);
    const incoming = ctx.get('X-Request-Id');
    ctx.state.requestId = /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
    ctx.set('X-Request-Id', ctx.state.requestId);
    const started = performance.now();
    try {
      // Liveness (/health) says the process answers, whatever the database does.
      if (ctx.path !== '/health' && !(await outage.reachable())) throw outage.failed(null);
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        problem(ctx, 404, 'Not found', `No resource at ${ctx.method} ${ctx.path}.`);
      } else if (ctx.status === 405 && ctx.body === undefined) {
        problem(ctx, 405, 'Method not allowed', `${ctx.method} is not allowed on ${ctx.path}; allowed: ${ctx.response.get('Allow') || 'none'}.`);
      }
    } catch (caught: any) {
      const err =
        caught instanceof DomainError
          ? caught
          : isStalePreparedStatement(caught)
            ? // An upgrade changed a table under a prepared statement; its connection is being replaced (db/connect.ts).
              new UnavailableError(`The database changed during this request (an upgrade); nothing was changed. Retry after ${STALE_RETRY_AFTER} second.`, STALE_RETRY_AFTER)
            : isDatabaseUnavailable(caught)
              ? outage.failed(caught)
              : caught;
      if (err instanceof UnavailableError) ctx.set('Retry-After', String(err.retryAfterSeconds));
      if (err instanceof DomainError) {
        const extra: Record<string, unknown> = {};
        if ((err as any).errors?.length) extra.errors = (err as any).errors;
        if ((err as any).problems?.length) extra.problems = (err as any).problems;
        problem(ctx, err.status, err.title, err.message, extra);
        if (err.status === 401) ctx.set('WWW-Authenticate', 'Bearer');
      } else if (err?.status === 429) {
        for (const [k, v] of Object.entries<string>(err.headers ?? {})) ctx.set(k, String(v));
        problem(ctx, 429, 'Too many requests', err.message);
      } else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
        // Koa / body-parser errors: bad JSON, body too large, wrong content type.
        const detail =
          err.status === 413
              ? `The body is larger than the limit (${err.limit ?? 'see the API reference'} bytes).`
              : err.expose
                ? err.message
                : 'The request could not be read.';
        problem(ctx, err.status, err.status === 413 ? 'Payload too large' : 'Invalid request', detail);
      } else {
        log.error({ err, requestId: ctx.state.requestId, method: ctx.method, path: ctx.path }, 'unhandled error');
        problem(ctx, 500, 'Internal error', `Something failed on our side; quote request id ${ctx.state.requestId} when reporting it.`);
      }
    } finally {
      const route = (ctx as any)._matchedRoute ?? 'unmatched';
      metrics?.requests.observe({ method: ctx.method, route: String(route), status: String(ctx.status) }, (performance.now() - started) / 1000);
      log.info(
        {
          requestId: ctx.state.requestId,
          method: ctx.method,
          route: (ctx as any)._matchedRoute ?? ctx.path,
          status: ctx.status,
          ms: Math.round((performance.now() - started) * 10) / 10,
          principal: ctx.state.principal?.id,
        },
        'request',
      );
    }
  };
}

export interface RateLimit {
  /** Writes (POST/PUT/DELETE) allowed per principal per window; 0 turns the limit off. */
  max: number;
  windowMs: number;
  /** Where the counters live (shared by every node) and the clock their windows run on. */
  db?: Db;
  clock?: Clock;
}

/**
 * `reference`: makes the catalogue and calendar this node holds current before a route's handler runs
 * (Catalogue.ensureCurrent), given the stored version when the API key's read brought it along, and the
 * path (the probes /health and /ready must answer without it).
 */
export function mountRoutes(router: Router<State>, specs: RouteSpec[], authenticators: Authenticator[], rateLimit: RateLimit = { max: 0, windowMs: 60_000 }, reference?: (known: number | undefined, path: string) => Promise<void>): void {
  // Per key, per node, in memory: several nodes multiply the allowance, which
  // is fine for its purpose (stop a runaway integration), not a quota.
  // Counted in the database (api/throttle.ts): every node shares the budget, so two nodes do not allow twice it.
  const limitWrites =
    rateLimit.max > 0 && rateLimit.db && rateLimit.clock
      ? (ctx: Ctx) =>
          limit(rateLimit.db!, rateLimit.clock!, `writes:${ctx.state.principal?.id ?? ctx.ip}`, rateLimit.max, rateLimit.windowMs, `Too many write requests for this key: at most ${rateLimit.max} per ${Math.round(rateLimit.windowMs / 1000)} s. Retry after the time in Retry-After.`)
      : null;
  for (const spec of specs) {
    const validateBody = spec.body ? ajv.compile(spec.body) : null;
    // An API route that declares no query parameters takes none: a misspelt one (?activat=false) is named, not ignored.
    const validateQuery = spec.query ? ajv.compile(spec.query) : spec.path.startsWith('/v1/') ? ajv.compile(NO_QUERY) : null;
    const paramsSchema = pathParamsSchema(spec);
    const validateParams = paramsSchema ? ajv.compile(paramsSchema) : null;
    (router as any)[spec.method](spec.path, async (ctx: Ctx) => {
      cleanParams(ctx.params);
      if (validateParams) {
        const params = normalizeQuery(ctx.params, paramsSchema!, false);
        if (!validateParams(params)) {
          const failures = validateParams.errors ?? [];
          const errors = fieldProblems(failures).map((e) => ({ path: e.path.replace(/^\//, ''), message: e.message }));
          const detail = errors.map((e) => `path parameter ${e.path} ${e.message}`).join('; ');
          if (failures.every((f) => f.keyword === 'enum')) throw new NotFoundError(`No resource at ${ctx.method} ${ctx.path}: ${detail}.`);
          throw new InputError(`The ${detail}.`, errors);
        }
      }
      if (spec.access !== 'public') {
        const principal = await authenticate(ctx, authenticators);
        const allowed = spec.access.some((r) => principal.roles.includes(r));
        if (!allowed) throw new ForbiddenError(`This needs one of the roles ${spec.access.join(', ')}; your key has ${principal.roles.join(', ')}.`);
      }
      // The catalogue and calendar another node changed are in force here from the next request.
      await reference?.(ctx.state.principal?.referenceVersion, ctx.path);
      if (limitWrites && spec.method !== 'get') {
        const left = await limitWrites(ctx);
        ctx.set('X-RateLimit-Limit', String(left.limit));
        ctx.set('X-RateLimit-Remaining', String(left.remaining));
        ctx.set('X-RateLimit-Reset', String(left.resetAt.getTime() / 1000));
      }
      if (validateQuery) ctx.state.query = check(validateQuery, normalizeQuery(cleanText(ctx.query, 'query') as Record<string, unknown>, spec.query ?? NO_QUERY), 'query');
      if (spec.method !== 'get' && spec.method !== 'delete') {
        let raw = (ctx.request as any).body;
        const isForm = spec.forms && ctx.is('urlencoded', 'multipart');
        if (isForm) raw = withoutEmpty(ctx.is('multipart') ? await readMultipart(ctx) : (raw ?? {}));
        const isRaw = spec.rawBody && ctx.is(spec.rawBody) && typeof raw === 'string';
        if (!isRaw && validateBody) {
          // A body of any other type (a form, as `curl -d` sends by default) is refused, not read as fields: it
          // completed tasks before (the body parser reads forms for the routes that take them).
          if (!isForm && (raw === undefined || ctx.is('json') === false)) {
            throw new InputError(
              spec.forms
                ? 'Send the fields as a form (application/x-www-form-urlencoded or multipart/form-data) or as JSON.'
                : spec.rawBody
                  ? `Send the XML with Content-Type: ${spec.rawBody.join(', ')}, or a JSON body with Content-Type: application/json.`
                  : 'Send a JSON body with Content-Type: application/json.',
            );
          }
          ctx.state.body = check(validateBody, raw ?? {}, 'body');
        } else if (!isRaw && !validateBody && !spec.forms && hasContent(ctx) && !(ctx.is('json') && isEmptyObject(raw))) {
          // A command that takes no body (claim, unclaim, retry) refuses one rather than ignore it: {"assignee": …} did nothing.
          throw new InputError(`${spec.method.toUpperCase()} ${spec.path} takes no body: send none, or {}.`, [{ path: '/', message: 'must be empty' }]);
        } else {
          ctx.state.body = isRaw ? raw : cleanText(raw, 'body');
        }
      }
      await spec.handler(ctx);
    });
  }
}

/** Whether the request carries bytes (Content-Length: 0, as many clients send with an empty POST, carries none). */
function hasContent(ctx: Ctx): boolean {
  return (ctx.request.length ?? 0) > 0 || Boolean(ctx.get('Transfer-Encoding'));
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

/** The query schema of an API route that declares none. */
const NO_QUERY: JsonSchema = { type: 'object', additionalProperties: false, properties: {} };

/**
 * The route's path parameters as one object schema: what the route declares,
 * and a bounded string for a parameter it does not, so that every path
 * parameter of every route goes through ajv.
 */
export function pathParamsSchema(spec: RouteSpec): JsonSchema | null {
  const names = [...spec.path.matchAll(/:([A-Za-z_]\w*)/g)].map((m) => m[1]);
  if (!names.length) return null;
  const declared = (spec.params?.properties ?? {}) as Record<string, JsonSchema>;
  const properties = Object.fromEntries(names.map((n) => [n, declared[n] ?? { type: 'string', minLength: 1, maxLength: MAX_PATH_PARAM_LENGTH }]));
  return { ...(spec.params ?? {}), type: 'object', required: names, properties };
}

/** Largest multipart body read (photos included): beyond it, 413 before anything is parsed. */
const MULTIPART_LIMIT = 10 * 1024 * 1024;

/**
 * A multipart/form-data body: fields as strings (a repeated field as a list),
 * files described in ctx.state.files. Parsed by the platform's own FormData
 * (undici), after reading at most MULTIPART_LIMIT bytes.
 */
async function readMultipart(ctx: Ctx): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > MULTIPART_LIMIT) throw Object.assign(new Error('too large'), { status: 413, expose: true, limit: MULTIPART_LIMIT });
    chunks.push(chunk as Buffer);
  }
  let form: FormData;
  try {
    form = await new Response(Buffer.concat(chunks), { headers: { 'content-type': ctx.get('Content-Type') } }).formData();
  } catch (err: any) {
    throw new InputError(`The multipart/form-data body could not be read: ${err?.message ?? err}.`);
  }
  const fields: Record<string, unknown> = {};
  const files: UploadedFile[] = [];
  for (const [name, value] of form.entries()) {
    if (typeof value !== 'string') {
      files.push({ field: name, name: value.name, type: value.type, size: value.size });
      continue;
    }
    const prev = fields[name];
    fields[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  ctx.state.files = files;
  return fields;
}

/** In a form or a query, an empty optional parameter means "not given" (HTML forms send every field). */
function withoutEmpty(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
}

async function authenticate(ctx: Ctx, authenticators: Authenticator[]): Promise<Principal> {
  const header = ctx.get('Authorization');
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new UnauthorizedError('Send your API key as "Authorization: Bearer <key>".');
  for (const a of authenticators) {
    const p = await a.authenticate(match[1]);
    if (p) {
      ctx.state.principal = p;
      return p;
    }
  }
  throw new UnauthorizedError('The API key is unknown or has been revoked.');
}

/** Deepest nesting of objects and arrays a request body may have (documented in the operator guide). */
export const MAX_JSON_DEPTH = 64;
/** Longest path parameter, in characters (codes, ids and keys are far shorter). */
export const MAX_PATH_PARAM_LENGTH = 256;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * One string of the request, before validation: PostgreSQL text cannot hold
 * U+0000 and a lone UTF-16 surrogate is not text, so both are refused naming
 * the field rather than failing in the database; the rest is normalised to
 * NFC, so that text typed decomposed (NFD, as some phones send it) is stored
 * and searched like the same text typed composed.
 */
export function cleanString(value: string, where: string, path: string): string {
  if (value.includes('\u0000')) throw new InputError(`The request ${where} contains a NUL character (U+0000) at ${path}, which cannot be stored.`, [{ path, message: 'must not contain U+0000' }]);
  if (LONE_SURROGATE.test(value)) throw new InputError(`The request ${where} contains ill-formed Unicode (a lone UTF-16 surrogate) at ${path}.`, [{ path, message: 'must be well-formed Unicode (no lone surrogate)' }]);
  return value.normalize('NFC');
}

/**
 * A copy of a parsed body or query with every string (keys included) through
 * cleanString, refusing nesting deeper than MAX_JSON_DEPTH before anything
 * recursive (ajv, the engine, jsonb) meets it.
 */
function cleanText(value: unknown, where: string, path = '', depth = 0): unknown {
  if (typeof value === 'string') return cleanString(value, where, path || '/');
  if (!value || typeof value !== 'object') return value;
  if (depth >= MAX_JSON_DEPTH) {
    throw new InputError(`The request ${where} is nested deeper than the limit of ${MAX_JSON_DEPTH} levels of objects and arrays.`, [{ path: path || '/', message: `must not be nested deeper than ${MAX_JSON_DEPTH} levels` }]);
  }
  if (Array.isArray(value)) return value.map((v, i) => cleanText(v, where, `${path}/${i}`, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = cleanString(k, where, `${path}/${k}`);
    // defineProperty: a "__proto__" key from JSON stays a field and never becomes the prototype.
    Object.defineProperty(out, key, { value: cleanText(v, where, `${path}/${key}`, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Path parameters, in place (handlers read ctx.params): NUL, ill-formed or over-long → 400 naming the parameter; NFC. */
function cleanParams(params: Record<string, string>): void {
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== 'string') continue;
    if (value.length > MAX_PATH_PARAM_LENGTH) {
      throw new InputError(`The path parameter ${name} is longer than the limit of ${MAX_PATH_PARAM_LENGTH} characters.`, [{ path: name, message: `must not be longer than ${MAX_PATH_PARAM_LENGTH} characters` }]);
    }
    params[name] = cleanString(value, 'path parameter', name);
  }
}

function check(validate: ValidateFunction, data: unknown, where: 'body' | 'query') {
  const clean = cleanText(data, where);
  if (!validate(clean)) {
    const errors = fieldProblems(validate.errors);
    throw new InputError(`The request ${where} is invalid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}.`, errors);
  }
  return clean;
}

/**
 * Query strings (and path parameters) are text: turn declared integers and booleans into numbers and
 * booleans; a declared list takes both `a,b` and a repeated parameter; an empty
 * parameter is absent. A repeated scalar stays a list, which its schema refuses.
 */
function normalizeQuery(query: Record<string, unknown>, schema: JsonSchema, dropEmpty = true): Record<string, unknown> {
  const props = (schema.properties ?? {}) as Record<string, { type?: string }>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(dropEmpty ? withoutEmpty(query) : query)) {
    const type = props[k]?.type;
    if (type === 'array') {
      out[k] = (Array.isArray(v) ? v : [v]).flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean);
      continue;
    }
    if (typeof v === 'string' && type === 'integer' && /^-?\d+$/.test(v)) out[k] = Number(v);
    else if (typeof v === 'string' && type === 'boolean' && (v === 'true' || v === 'false')) out[k] = v === 'true';
    else out[k] = v;
  }
  return out;
}

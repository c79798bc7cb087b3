import type { JsonSchema, RouteResponse, RouteSpec } from './http.js';
import { MAX_JSON_DEPTH, MAX_PATH_PARAM_LENGTH, pathParamsSchema } from './http.js';
import {
  BatchMigrationSchema,
  CaseSchema,
  DefinitionSchema,
  DiagramProblemSchema,
  DryRunReportSchema,
  EventSchema,
  MigrationSchema,
  ProblemSchema,
  TaskSchema,
} from './schemas.js';

/** Errors every route of a kind can answer, whatever its handler does (added unless the route declares them). */
const COMMON_ERRORS: Record<number, string> = {
  400: `Invalid request: \`errors\` names each field (also JSON nested deeper than ${MAX_JSON_DEPTH} levels, a path parameter that fails its schema — an integer beyond its range, a malformed id, longer than ${MAX_PATH_PARAM_LENGTH} characters —, NUL or a lone UTF-16 surrogate in any string; strings are normalised to NFC first)`,
  401: 'No or unknown API key',
  403: 'The key lacks the role, or may see but not act',
  404: 'Not found, or not visible to the caller',
  409: 'Conflict: the state changed (task no longer open, race lost)',
  413: 'The body is larger than the limit',
  422: 'Refused by the domain: diagram problems or form errors',
  429: 'Too many writes for this API key on this node: retry after Retry-After seconds',
  500: 'A bug on our side: quote the request id when reporting it',
  503: 'The database is unavailable: nothing was changed; retry after Retry-After seconds',
};

const PROBLEM = { $ref: '#/components/schemas/Problem' };

/** Koa `/v1/cases/:code` → OpenAPI `/v1/cases/{code}`. */
export function openApiPath(koaPath: string): string {
  return koaPath.replace(/:([A-Za-z_]\w*)/g, '{$1}');
}

/** The statuses the shared middleware answers for a route, beside what its handler answers. */
function commonErrors(spec: RouteSpec): number[] {
  const codes = [500, 503];
  const hasParams = /:[A-Za-z_]/.test(spec.path);
  if (spec.body || spec.query || hasParams) codes.push(400);
  if (spec.body) codes.push(413);
  if (hasParams) codes.push(404);
  if (spec.access !== 'public') {
    codes.push(401, 403);
    if (spec.method !== 'get') codes.push(409, 422, 429);
  }
  return codes;
}

function responseObject(status: number, r: RouteResponse, spec: RouteSpec): Record<string, unknown> {
  const isError = status >= 400;
  let content: Record<string, JsonSchema> | undefined = r.content;
  if (!content && r.schema) content = { [r.contentType ?? (isError ? 'application/problem+json' : 'application/json')]: r.schema };
  if (!content && isError) content = spec.errorContent ?? { 'application/problem+json': PROBLEM };
  const headers = { ...(r.headers ?? {}), ...(status === 429 || status === 503 ? { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds to wait' } } : {}), ...(status === 405 ? { Allow: { schema: { type: 'string' }, description: 'the methods the path takes' } } : {}) };
  return {
    description: r.description,
    ...(Object.keys(headers).length ? { headers } : {}),
    ...(content ? { content: Object.fromEntries(Object.entries(content).map(([type, schema]) => [type, { schema }])) } : {}),
  };
}

/** OpenAPI 3.1, generated from the same route specs and schemas ajv enforces on requests (and, in tests, on responses). */
export function buildOpenApi(specs: RouteSpec[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const path = openApiPath(spec.path);
    // The same schemas ajv checks the path parameters with (a bounded string where the route declares none).
    const paramSchemas = (pathParamsSchema(spec)?.properties ?? {}) as Record<string, JsonSchema>;
    const params = Object.entries(paramSchemas).map(([name, schema]) => ({ name, in: 'path', required: true, schema }));
    const requiredQuery = new Set((spec.query?.required ?? []) as string[]);
    const queryParams = Object.entries((spec.query?.properties ?? {}) as Record<string, JsonSchema>).map(([name, schema]) => ({
      name,
      in: 'query',
      required: requiredQuery.has(name),
      ...(schema.description ? { description: schema.description } : {}),
      ...(schema.type === 'array' ? { style: 'form', explode: true } : {}),
      schema,
    }));
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(spec.responses)) responses[status] = responseObject(Number(status), r, spec);
    for (const code of commonErrors(spec)) if (!(code in responses)) responses[code] = responseObject(code, { description: COMMON_ERRORS[code] }, spec);
    const content: Record<string, unknown> = {};
    if (spec.body) content['application/json'] = { schema: spec.body };
    if (spec.body && spec.forms) {
      content['application/x-www-form-urlencoded'] = { schema: spec.body };
      content['multipart/form-data'] = { schema: spec.body };
    }
    for (const t of spec.rawBody ?? []) content[t] = { schema: { type: 'string' } };
    (paths[path] ??= {})[spec.method] = {
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: spec.tags,
      operationId: `${spec.method}${spec.path.replace(/[/:.]+(\w)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      ...(spec.access === 'public' ? { security: [] } : { 'x-roles': spec.access }),
      parameters: [...params, ...queryParams, { $ref: '#/components/parameters/RequestId' }],
      ...(Object.keys(content).length ? { requestBody: { required: true, content } } : {}),
      responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b))),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'PAKN 1022 — complaint-handling workflow API',
      version,
      description:
        'Tổng đài dịch vụ công 1022: tiếp nhận, xử lý phản ánh, kiến nghị. Errors are application/problem+json, except under /open311/ where they are the GeoReport v2 list of {code, description} (JSON or XML). A method a path does not take answers 405 with Allow.',
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      parameters: {
        RequestId: { name: 'X-Request-Id', in: 'header', required: false, schema: { type: 'string', pattern: '^[\\w.-]{1,100}$' }, description: 'Your id for this request, echoed in the answer and recorded in logs and history; one is generated when absent or malformed.' },
      },
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'API key from `pakn keys create` or POST /v1/keys' } },
      schemas: { Problem: ProblemSchema, DiagramProblem: DiagramProblemSchema, Case: CaseSchema, Task: TaskSchema, Definition: DefinitionSchema, Migration: MigrationSchema, BatchMigration: BatchMigrationSchema, DryRunReport: DryRunReportSchema, Event: EventSchema },
    },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A readable reference page, served without any third-party script. */
export function renderDocsPage(doc: any): string {
  const rows: string[] = [];
  for (const [path, ops] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(ops)) {
      const roles = op['x-roles'] ? op['x-roles'].join(', ') : 'công khai / public';
      const codes = Object.keys(op.responses).join(' ');
      rows.push(`<tr><td><code class="m ${method}">${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(op.summary)}${op.description ? `<br><small>${escapeHtml(op.description)}</small>` : ''}</td><td>${escapeHtml(roles)}</td><td>${codes}</td></tr>`);
    }
  }
  return `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tài liệu API — Tổng đài 1022</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:75rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}code.m{font-weight:bold}.get{color:#1565c0}.post{color:#2e7d32}.delete{color:#c62828}.put{color:#ef6c00}small{color:#555}</style>
</head><body>
<h1>Tài liệu API — Hệ thống xử lý phản ánh, kiến nghị (Tổng đài 1022)</h1>
<p>Xác thực: <code>Authorization: Bearer &lt;khóa API&gt;</code>. Lỗi trả về dạng <code>application/problem+json</code>.
Tài liệu máy đọc: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${escapeHtml(doc.openapi)}).</p>
<table><thead><tr><th>Phương thức</th><th>Đường dẫn</th><th>Chức năng</th><th>Vai trò</th><th>Mã trả về</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
</body></html>`;
}

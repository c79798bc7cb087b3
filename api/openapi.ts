import type { JsonSchema, RouteSpec } from './http.js';
import { BatchMigrationSchema, DryRunReportSchema, CaseSchema, DefinitionSchema, DiagramProblemSchema, MigrationSchema, ProblemSchema, TaskSchema } from './schemas.js';

const ERROR_RESPONSES: Record<number, string> = {
  400: 'Invalid request: `errors` names each field',
  401: 'No or unknown API key',
  403: 'The key lacks the role, or may see but not act',
  404: 'Not found, or not visible to the caller',
  409: 'Conflict: the state changed (task no longer open, race lost)',
  422: 'Refused by the domain: diagram problems or form errors',
  429: 'Too many writes for this API key on this node: retry after Retry-After seconds',
};

/** Koa `/v1/cases/:code` → OpenAPI `/v1/cases/{code}`. */
export function openApiPath(koaPath: string): string {
  return koaPath.replace(/:([A-Za-z_]\w*)/g, '{$1}');
}

/** OpenAPI 3.1, generated from the same route specs and schemas ajv enforces. */
export function buildOpenApi(specs: RouteSpec[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const path = openApiPath(spec.path);
    const params = [...spec.path.matchAll(/:([A-Za-z_]\w*)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const queryParams = Object.entries(((spec.query?.properties ?? {}) as Record<string, JsonSchema>)).map(([name, schema]) => ({ name, in: 'query', required: false, schema }));
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(spec.responses)) {
      responses[status] = r.schema ? { description: r.description, content: { [r.contentType ?? 'application/json']: { schema: r.schema } } } : { description: r.description };
    }
    const errorCodes = spec.access === 'public' ? [400] : [400, 401, 403, 404, 409, 422, ...(spec.method === 'get' ? [] : [429])];
    for (const code of errorCodes) {
      if (!(code in spec.responses) && (spec.body || spec.query || code !== 400)) {
        responses[code] = {
          description: ERROR_RESPONSES[code],
          ...(code === 429 ? { headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds to wait' } } } : {}),
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        };
      }
    }
    const content: Record<string, unknown> = {};
    if (spec.body) content['application/json'] = { schema: spec.body };
    for (const t of spec.rawBody ?? []) content[t] = { schema: { type: 'string' } };
    (paths[path] ??= {})[spec.method] = {
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: spec.tags,
      operationId: `${spec.method}${spec.path.replace(/[/:.]+(\w)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      ...(spec.access === 'public' ? { security: [] } : { 'x-roles': spec.access }),
      parameters: [...params, ...queryParams, { $ref: '#/components/parameters/RequestId' }],
      ...(Object.keys(content).length ? { requestBody: { required: true, content } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'PAKN 1022 — complaint-handling workflow API',
      version,
      description: 'Tổng đài dịch vụ công 1022: tiếp nhận, xử lý phản ánh, kiến nghị. Errors are application/problem+json.',
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      parameters: {
        RequestId: { name: 'X-Request-Id', in: 'header', required: false, schema: { type: 'string', pattern: '^[\\w.-]{1,100}$' }, description: 'Your id for this request, echoed in the answer and recorded in logs and history; one is generated when absent or malformed.' },
      },
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'API key from `pakn keys create` or POST /v1/keys' } },
      schemas: { Problem: ProblemSchema, DiagramProblem: DiagramProblemSchema, Case: CaseSchema, Task: TaskSchema, Definition: DefinitionSchema, Migration: MigrationSchema, BatchMigration: BatchMigrationSchema, DryRunReport: DryRunReportSchema },
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

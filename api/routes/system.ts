import { migrationsCurrent } from '../../db/migrate.js';
import { rolesFor } from '../../engine/hotline/policy.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';
import { problem } from '../http.js';
import { MeSchema, OpenApiDocumentSchema } from '../schemas.js';

export function systemRoutes(deps: AppDeps, openApi: () => Record<string, unknown>, docsPage: () => string): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/health',
      summary: 'Liveness: the process answers',
      tags: ['Operations'],
      access: 'public',
      responses: { 200: { description: 'Alive', schema: { type: 'object', properties: { status: { const: 'ok' } } } } },
      handler: (ctx) => {
        ctx.body = { status: 'ok' };
      },
    },
    {
      method: 'get',
      path: '/ready',
      summary: 'Readiness: database reachable and migrations current',
      tags: ['Operations'],
      access: 'public',
      responses: {
        200: { description: 'Ready', schema: { type: 'object', required: ['status'], properties: { status: { const: 'ready' } } } },
        503: { description: 'Not ready', schema: { $ref: '#/components/schemas/Problem' }, contentType: 'application/problem+json' },
      },
      handler: async (ctx) => {
        try {
          // Reading the migrations table is the reachability check too.
          if (!(await migrationsCurrent(deps.db))) return problem(ctx, 503, 'Not ready', 'Database migrations are pending: run `pakn migrate`.');
          ctx.body = { status: 'ready' };
        } catch (err: any) {
          deps.log.warn({ err: err?.message }, 'readiness check failed');
          problem(ctx, 503, 'Not ready', 'The database is not reachable.');
        }
      },
    },
    {
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics: request latency by route, commands by type and outcome, job queue depth and age, incidents, open cases and overdue tasks by agency',
      description: 'Scrape with an API key (Prometheus: authorization.credentials) of role admin or auditor.',
      tags: ['Operations'],
      access: rolesFor('readMetrics'),
      responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain', schema: { type: 'string' } }, 404: { description: 'Metrics are not enabled on this node' } },
      handler: async (ctx) => {
        if (!deps.metrics) return problem(ctx, 404, 'Not found', 'Metrics are not enabled on this node.');
        ctx.type = deps.metrics.registry.contentType;
        ctx.body = await deps.metrics.registry.metrics();
      },
    },
    {
      method: 'get',
      path: '/v1/me',
      summary: 'Who the key belongs to: id, name, roles, agency (pages use it to offer only what the key may do)',
      tags: ['Operations'],
      access: rolesFor('whoAmI'),
      responses: { 200: { description: 'The principal', schema: MeSchema } },
      handler: (ctx) => {
        const { id, name, roles, agency } = ctx.state.principal!;
        ctx.body = { id, name, roles, agency };
      },
    },
    {
      method: 'get',
      path: '/openapi.json',
      summary: 'This API as OpenAPI 3.1',
      tags: ['Operations'],
      access: 'public',
      responses: { 200: { description: 'OpenAPI document', schema: OpenApiDocumentSchema } },
      handler: (ctx) => {
        ctx.body = openApi();
      },
    },
    {
      method: 'get',
      path: '/docs',
      summary: 'API reference page',
      tags: ['Operations'],
      access: 'public',
      responses: { 200: { description: 'HTML page', contentType: 'text/html', schema: { type: 'string' } } },
      handler: (ctx) => {
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = docsPage();
      },
    },
  ];
}

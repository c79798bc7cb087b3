import { caseIdByCode } from '../../db/cases.js';
import { incidentsOfCase, listIncidents, type IncidentRow } from '../../db/incidents.js';
import { NotFoundError } from '../../engine/errors.js';
import { resolveIncident } from '../../engine/incidents.js';
import { rolesFor } from '../../engine/hotline/policy.js';
import { actorOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';
import { VariablesSchema, PathParam, pathParams } from '../schemas.js';

/** Runtime incidents: a timer or task the guard held because its expression gave null or a wrong type (engine/incidents.ts). */
const IncidentSchema = {
  type: 'object',
  required: ['id', 'caseCode', 'kind', 'elementId', 'expression', 'message', 'status', 'createdAt'],
  properties: {
    id: { type: 'string' },
    caseCode: { type: 'string' },
    kind: { enum: ['timer', 'task'], description: 'timer: held, it does not fire; task: not created (it would have no candidate group)' },
    elementId: { type: 'string' },
    expression: { type: 'string', description: 'the expression as written in the diagram' },
    yielded: { description: 'what it gave (null when nothing)' },
    message: { type: 'string' },
    status: { enum: ['open', 'resolved'] },
    createdAt: { type: 'string', format: 'date-time' },
    resolvedAt: { type: ['string', 'null'], format: 'date-time' },
    resolvedBy: { type: ['string', 'null'] },
    resolution: { type: ['string', 'null'] },
  },
};

function view(i: IncidentRow, code: string) {
  return {
    id: String(i.id),
    caseCode: code,
    kind: i.kind,
    elementId: i.element_id,
    expression: i.expression,
    // jsonb: the driver has parsed it (parsing again failed on a text value, and every incident list answered 500).
    yielded: i.yielded ?? null,
    message: i.message,
    status: i.status,
    createdAt: new Date(i.created_at).toISOString(),
    resolvedAt: i.resolved_at ? new Date(i.resolved_at).toISOString() : null,
    resolvedBy: i.resolved_by,
    resolution: i.resolution,
  };
}

export function incidentRoutes(deps: AppDeps): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/v1/incidents',
      summary: 'Runtime incidents: timers held and tasks not created because an expression gave nothing',
      description: 'Newest first. A held timer does not fire and a task that would have no candidate group is not created, instead of escalating a case falsely or showing a task to nobody; the case goes on once the incident is resolved (or the case is migrated).',
      tags: ['Incidents'],
      access: rolesFor('readIncidents'),
      query: { type: 'object', additionalProperties: false, properties: { status: { enum: ['open', 'resolved'] }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 } } },
      responses: { 200: { description: 'Incidents', schema: { type: 'array', items: IncidentSchema } } },
      handler: async (ctx) => {
        const q = ctx.state.query ?? {};
        ctx.body = (await listIncidents(deps.db, { status: q.status, limit: q.limit ?? 100 })).map((i) => view(i, i.case_code));
      },
    },
    {
      method: 'get',
      path: '/v1/cases/:code/incidents',
      params: pathParams({ code: PathParam.caseCode }),
      summary: 'The incidents of one case (open and resolved)',
      tags: ['Incidents'],
      access: rolesFor('readIncidents'),
      responses: { 200: { description: 'Incidents of the case', schema: { type: 'array', items: IncidentSchema } } },
      handler: async (ctx) => {
        const id = await caseIdByCode(deps.db, ctx.params.code);
        if (!id) throw new NotFoundError(`Case ${ctx.params.code} does not exist.`);
        ctx.body = (await incidentsOfCase(deps.db, id)).map((i) => view(i, ctx.params.code.toUpperCase()));
      },
    },
    {
      method: 'post',
      path: '/v1/incidents/:id/resolve',
      summary: 'Set the variables an incident lacked; the held timer is re-armed or the task created',
      description: 'One command: the expression is evaluated again with the variables; if it still gives nothing, 422 and the case is as it was. The variables are recorded in the case history with the caller.',
      tags: ['Incidents'],
      access: rolesFor('resolveIncident'),
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,17}$' } } },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['variables'],
        properties: { variables: { ...VariablesSchema, minProperties: 1 }, comment: { type: 'string', maxLength: 2000 } },
      },
      responses: { 200: { description: 'Resolved; the case went on', schema: { type: 'object', properties: { caseCode: { type: 'string' }, caseVersion: { type: 'integer' }, status: { type: 'string' }, incident: IncidentSchema } } } },
      handler: async (ctx) => {
        const b = ctx.state.body;
        const r = await resolveIncident(deps.runtime, { id: ctx.params.id, variables: b.variables, comment: b.comment, actor: actorOf(ctx.state.principal!, ctx.state.requestId) });
        ctx.body = { caseCode: r.code, caseVersion: r.version, status: r.status, incident: view(r.incident, r.code) };
      },
    },
  ];
}

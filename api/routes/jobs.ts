import { jobIncidents, type JobRow } from '../../db/jobs.js';
import { rolesFor } from '../../engine/hotline/policy.js';
import { retryIncidentJob } from '../../engine/jobs.js';
import { actorOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';
import { PathParam, pathParams } from '../schemas.js';

/** A job that failed every attempt: an SMS the provider kept refusing, a webhook nobody accepted, a timer whose command kept failing. */
const JobIncidentSchema = {
  type: 'object',
  required: ['id', 'type', 'caseCode', 'elementId', 'attempts', 'lastError', 'status', 'dueAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string', maxLength: 40, description: 'sms, notification, webhook, timer …' },
    caseCode: { type: ['string', 'null'] },
    elementId: { type: ['string', 'null'] },
    attempts: { type: 'integer' },
    lastError: { type: ['string', 'null'], description: 'why the last attempt failed' },
    status: { enum: ['incident', 'pending', 'done', 'skipped'] },
    dueAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

function view(j: JobRow & { case_code?: string | null; updated_at?: Date }) {
  return {
    id: String(j.id),
    type: j.type,
    caseCode: j.case_code ?? null,
    elementId: j.element_id,
    attempts: j.attempts,
    lastError: j.last_error,
    status: j.status,
    dueAt: new Date(j.due_at).toISOString(),
    updatedAt: new Date(j.updated_at ?? j.due_at).toISOString(),
  };
}

export function jobRoutes(deps: AppDeps): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/v1/jobs/incidents',
      summary: 'Outgoing messages and timers that failed every attempt (SMS, notifications, webhooks, timers)',
      description: 'Newest first. No personal data: the SMS text and phone stay in the job. A coordinator sends one again with POST /v1/jobs/{id}/retry.',
      tags: ['Incidents'],
      access: rolesFor('readJobIncidents'),
      query: { type: 'object', additionalProperties: false, properties: { type: { type: 'string', pattern: '^[a-z][a-z-]{0,30}$' }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 } } },
      responses: { 200: { description: 'Job incidents', schema: { type: 'array', items: JobIncidentSchema } } },
      handler: async (ctx) => {
        const q = ctx.state.query ?? {};
        ctx.body = (await jobIncidents(deps.db, { type: q.type, limit: q.limit ?? 100 })).map(view);
      },
    },
    {
      method: 'post',
      path: '/v1/jobs/:id/retry',
      params: pathParams({ id: PathParam.int64 }),
      summary: 'Send again a job that failed every attempt (e.g. an SMS to the citizen)',
      description: 'The job goes back in the queue with fresh attempts; the case history records job.retried with who asked. 404 for an unknown job, 409 when the job is not an incident. An SMS keeps its reference, so the provider does not send it twice.',
      tags: ['Incidents'],
      access: rolesFor('retryJob'),
      responses: {
        200: { description: 'Queued again', schema: JobIncidentSchema },
        404: { description: 'No such job' },
        409: { description: 'The job is not an incident' },
      },
      handler: async (ctx) => {
        const id = String(ctx.params.id);
        const job = await retryIncidentJob(deps.db, deps.clock, /^[0-9]{1,18}$/.test(id) ? id : '0', actorOf(ctx.state.principal!, ctx.state.requestId));
        ctx.body = view(job);
      },
    },
  ];
}

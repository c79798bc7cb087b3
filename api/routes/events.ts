import { eventsAfter } from '../../db/events.js';
import { inboxGroups, rolesFor } from '../../engine/hotline/policy.js';
import { EVENT_TYPES, eventView } from '../../engine/hotline/webhooks.js';
import type { AppDeps } from '../deps.js';
import type { JsonSchema, RouteSpec } from '../http.js';

const EventFeedQuery: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // 18 digits at most: 19 could pass bigint's maximum (a 500 from PostgreSQL); ids never get near 10^18.
    after: { type: 'string', pattern: '^[0-9]{1,18}$', description: 'nextCursor of the previous answer; omitted: from the first event' },
    type: { enum: [...EVENT_TYPES], description: 'only events of this type' },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
  },
};

/** {id, type, occurredAt, data}: the body of a webhook delivery too. */
export const EventSchema: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'unique; receivers dedupe by it' },
    type: { enum: [...EVENT_TYPES] },
    occurredAt: { type: 'string', format: 'date-time' },
    data: {
      type: 'object',
      description: 'codes, ids and dates, never personal data',
      properties: {
        caseCode: { type: 'string' },
        taskId: { type: 'string', description: 'task events' },
        elementId: { type: ['string', 'null'] },
        task: { type: ['string', 'null'], description: 'task.created: the step name' },
        candidateGroups: { type: 'array', items: { type: 'string' } },
        agency: { type: ['string', 'null'], description: 'the agency holding the case' },
        due: { type: ['string', 'null'], format: 'date-time' },
        reason: { type: ['string', 'null'], description: 'case.escalated: overdue, transfer-limit, not-competent' },
        fromAgency: { type: 'string', description: 'case.transferred' },
        toAgency: { type: 'string', description: 'case.transferred' },
        by: { enum: ['transfer', 'reassignment'], description: 'case.transferred' },
        transferCount: { type: ['integer', 'null'], description: 'case.transferred' },
      },
    },
  },
};

export function eventRoutes(deps: AppDeps): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/v1/events',
      summary: 'The event feed, for systems that poll instead of receiving webhooks',
      description:
        "The same events as the webhooks ({id, type, occurredAt, data}), oldest first, scoped like the inbox: an agency sees the events of its own tasks and cases, coordinators and auditors every event. Keep nextCursor and send it as `after` next time (it stays the same when nothing new happened); dedupe by id.",
      tags: ['Notifications'],
      access: rolesFor('readEvents'),
      query: EventFeedQuery,
      responses: {
        200: {
          description: 'Events after the cursor',
          schema: { type: 'object', properties: { items: { type: 'array', items: EventSchema }, nextCursor: { type: 'string', description: 'send it as after next time' } } },
        },
      },
      handler: async (ctx) => {
        const q = ctx.state.query as { after?: string; type?: string; limit?: number };
        const after = q.after ?? '0';
        const rows = await eventsAfter(deps.db, { after, groups: inboxGroups(ctx.state.principal!), types: q.type ? [q.type] : undefined, limit: q.limit ?? 100 });
        ctx.body = { items: rows.map(eventView), nextCursor: rows.length ? String(rows[rows.length - 1].id) : after };
      },
    },
  ];
}

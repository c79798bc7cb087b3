import { deliveriesOf, endSubscription, findSubscription, insertSubscription } from '../../db/subscriptions.js';
import { InputError, NotFoundError, UnprocessableError } from '../../engine/errors.js';
import { mayManageSubscription, rolesFor, subscriptionAgency, type Caller } from '../../engine/hotline/policy.js';
import { refusedAtSubscription, systemResolver } from '../../engine/hotline/webhook-targets.js';
import { EVENT_TYPES, newSecret, targetAllowed } from '../../engine/hotline/webhooks.js';
import type { AppDeps } from '../deps.js';
import { sendAnswered, writeOnce } from '../idempotency.js';
import type { JsonSchema, RouteSpec } from '../http.js';
import { PathParam, pathParams } from '../schemas.js';

const SubscriptionBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'events'],
  properties: {
    url: { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2000, description: "The receiver: an http(s) URL among the server's configured targets (PAKN_WEBHOOK_TARGETS), on a public address unless the operator named its host there" },
    events: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...EVENT_TYPES] } },
    agency: { type: 'string', pattern: '^[A-Z0-9][A-Z0-9-]*$', maxLength: 64, description: "Admins only: deliver one agency's events (default: every event). An agency key always gets its own agency's." },
  },
};

const DeliveryListQuery: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    // 18 digits at most: 19 could pass bigint's maximum (a 500 from PostgreSQL); ids never get near 10^18.
    cursor: { type: 'string', pattern: '^[0-9]{1,18}$', description: 'nextCursor of the previous page' },
  },
};

const str = { type: 'string' };
const strOrNull = { type: ['string', 'null'] };

const Delivery: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'this attempt (keyset cursor)' },
    eventId: { type: 'string', description: 'the event id receivers dedupe by' },
    type: str,
    attempt: { type: 'integer', description: '1 for the first try' },
    outcome: { enum: ['delivered', 'failed', 'refused'] },
    httpStatus: { type: ['integer', 'null'], description: 'what the receiver answered; null when it could not be reached' },
    error: strOrNull,
    at: { type: 'string', format: 'date-time' },
  },
};

const Subscription: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    secret: { type: 'string', description: 'Shown once: the HMAC-SHA256 key of X-Pakn-Signature' },
    url: { type: 'string' },
    events: { type: 'array', items: { type: 'string' } },
    agency: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
  },
};

/** 404 rather than 403 for another agency's subscription: ids cannot be probed. */
async function ownSubscription(deps: AppDeps, id: string, caller: Caller) {
  const sub = /^[0-9a-f-]{36}$/i.test(id) ? await findSubscription(deps.db, id) : undefined;
  if (!sub || !mayManageSubscription(caller, sub)) throw new NotFoundError(`Subscription ${id} does not exist.`);
  return sub;
}

export function subscriptionRoutes(deps: AppDeps): RouteSpec[] {
  const targets = deps.webhookTargets ?? ['https://'];
  return [
    {
      method: 'post',
      path: '/v1/subscriptions',
      summary: "Subscribe a system to events (webhooks): new tasks, reminders, overdue tasks, escalations, transfers",
      description:
        "With an Idempotency-Key header, a repeated request with the same body answers the first response (header Idempotent-Replayed: true) and subscribes nothing more; the same key with another body is 409. An agency key subscribes to its own agency's events, an admin to any. Each event is POSTed as JSON {id, type, occurredAt, data} with header X-Pakn-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>; anything but a 2xx is retried with growing delays (5 s, 10 s, 20 s … up to 1 h between attempts); receivers dedupe by id. The secret is in this answer only.",
      tags: ['Notifications'],
      access: rolesFor('subscribe'),
      body: SubscriptionBody,
      responses: { 201: { description: 'Subscribed', schema: Subscription } },
      handler: async (ctx) => {
        const p = ctx.state.principal!;
        const b = ctx.state.body as { url: string; events: string[]; agency?: string };
        // A user name and password in the URL would be sent (Basic auth) with every event, and "https://allowed.host:@other.host/"
        // passes a prefix of PAKN_WEBHOOK_TARGETS while it goes elsewhere: receivers authenticate the signature instead.
        const parsed = new URL(b.url);
        if (parsed.username || parsed.password) {
          throw new UnprocessableError('A webhook URL must not carry a user name or password: receivers check the X-Pakn-Signature of each delivery instead.', [{ path: '/url', message: 'must not contain a user name or password' }]);
        }
        if (!targetAllowed(b.url, targets)) {
          throw new UnprocessableError(`This server delivers only to URLs starting with ${targets.join(' or ')}; ask the administrator to add yours to PAKN_WEBHOOK_TARGETS.`, [{ path: '/url', message: 'is not among the configured targets' }]);
        }
        // The server would connect to it and list each attempt's error: an internal address would let a key probe
        // the internal network (engine/hotline/webhook-targets.ts). Deliveries check again.
        const why = await refusedAtSubscription(b.url, targets, deps.resolveHost ?? systemResolver);
        if (why) {
          throw new UnprocessableError(`Webhooks are delivered only to public addresses, and ${why}. Give your system's public address, or ask the administrator to name this host in PAKN_WEBHOOK_TARGETS.`, [{ path: '/url', message: 'is not a public address' }]);
        }
        const agency = subscriptionAgency(p, b.agency);
        const at = deps.clock.now();
        // With an Idempotency-Key a retried subscription is made once and answered the same (its secret included).
        const answered = await writeOnce(ctx, deps.db, at, 'POST /v1/subscriptions', async (trx) => {
          const sub = await insertSubscription(trx, { url: b.url, events: b.events, agency, secret: newSecret(), created_by: p.id, at });
          return { status: 201, body: { id: sub.id, secret: sub.secret, url: sub.url, events: sub.events, agency: sub.agency, createdAt: new Date(sub.created_at).toISOString() } };
        });
        sendAnswered(ctx, answered);
        ctx.set('Location', `/v1/subscriptions/${(answered.body as { id: string }).id}`);
      },
    },
    {
      method: 'get',
      path: '/v1/subscriptions/:id/deliveries',
      params: pathParams({ id: PathParam.uuid }),
      summary: "A subscription's delivery attempts, newest first",
      description: 'One entry per attempt: the event (id, type), attempt number, outcome (delivered, failed, refused), the HTTP status the receiver answered, the error. For the key that subscribed, keys of its agency, and admins.',
      tags: ['Notifications'],
      access: rolesFor('subscribe'),
      query: DeliveryListQuery,
      responses: {
        200: {
          description: 'A page of attempts',
          schema: {
            type: 'object',
            properties: {
              subscription: { type: 'object', properties: { id: str, url: str, events: { type: 'array', items: str }, agency: strOrNull, endedAt: { type: ['string', 'null'], format: 'date-time' } } },
              items: { type: 'array', items: Delivery },
              nextCursor: strOrNull,
            },
          },
        },
      },
      handler: async (ctx) => {
        const sub = await ownSubscription(deps, ctx.params.id, ctx.state.principal!);
        const q = ctx.state.query as { limit?: number; cursor?: string };
        const limit = q.limit ?? 50;
        const rows = await deliveriesOf(deps.db, sub.id, { before: q.cursor, limit: limit + 1 });
        const page = rows.slice(0, limit);
        ctx.body = {
          subscription: { id: sub.id, url: sub.url, events: sub.events, agency: sub.agency, endedAt: sub.ended_at ? new Date(sub.ended_at).toISOString() : null },
          items: page.map((d) => ({ id: String(d.id), eventId: d.event_uuid, type: d.type, attempt: d.attempt, outcome: d.outcome, httpStatus: d.http_status, error: d.error, at: new Date(d.at).toISOString() })),
          nextCursor: rows.length > limit ? String(page[page.length - 1].id) : null,
        };
      },
    },
    {
      method: 'delete',
      path: '/v1/subscriptions/:id',
      params: pathParams({ id: PathParam.uuid }),
      summary: 'End a subscription',
      description: 'No delivery starts after this, retries included; the attempts made stay listed.',
      tags: ['Notifications'],
      access: rolesFor('subscribe'),
      responses: { 204: { description: 'Ended' } },
      handler: async (ctx) => {
        if (!ctx.params.id) throw new InputError('Name the subscription.', [{ path: 'id', message: 'is required' }]);
        const sub = await ownSubscription(deps, ctx.params.id, ctx.state.principal!);
        await endSubscription(deps.db, sub.id, deps.clock.now());
        ctx.status = 204;
      },
    },
  ];
}

import { recordSmsStatus } from '../../engine/hotline/delivery.js';
import { rolesFor } from '../../engine/hotline/policy.js';
import { receiveSms } from '../../engine/hotline/rating.js';
import { actorOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';
import { PhoneSchema, SmsInboundResultSchema, SmsStatusResultSchema } from '../schemas.js';

export function smsRoutes(deps: AppDeps): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/v1/sms/templates',
      summary: 'The SMS templates a diagram may name (camunda:property template), with their Vietnamese text',
      description:
        'Read from processes/sms/templates.json at start. {{name}} placeholders are filled from the case when the message is sent; `reads` lists them. The modeler\'s properties panel offers these names.',
      tags: ['SMS'],
      access: rolesFor('readDefinitions'),
      responses: {
        200: {
          description: 'Every template, by name',
          schema: {
            type: 'object',
            required: ['templates'],
            properties: {
              templates: {
                type: 'array',
                items: { type: 'object', required: ['name', 'text', 'reads'], properties: { name: { type: 'string' }, text: { type: 'string' }, reads: { type: 'array', items: { type: 'string' } } } },
              },
            },
          },
        },
      },
      handler: (ctx) => {
        const templates = deps.smsTemplates;
        const reads = templates?.placeholders() ?? {};
        ctx.body = { templates: (templates?.list() ?? []).map((t) => ({ ...t, reads: reads[t.name] ?? [] })) };
      },
    },
    {
      method: 'post',
      path: '/v1/sms/inbound',
      summary: 'An SMS from a citizen, forwarded by the provider: a rating reply (1 satisfied, 2 not), or information',
      description:
        'A rating reply rates the most recent case of that phone number that waits for a rating. Any other text is information: it resumes a case of that phone waiting for the information the agency asked for (message citizen-info), or else is attached to the phone\'s most recently active running case (history event sms.received, read by the handling agency). `as` says which. 200 with matched=false when the phone has no running case (the provider should not retry). A delivery repeated with the same providerId (a provider\'s retry), on any node, gets the first delivery\'s answer and changes nothing.',
      tags: ['SMS'],
      access: rolesFor('smsGateway'),
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['from', 'text'],
        properties: {
          from: { ...PhoneSchema, description: "the citizen's number, e.g. 84909111222" },
          text: { type: 'string', maxLength: 1000 },
          providerId: { type: 'string', maxLength: 200, description: "the provider's id of the message: a delivery repeated with it is answered as the first was and changes nothing" },
        },
      },
      responses: {
        200: { description: 'Whether the reply rated a case', schema: SmsInboundResultSchema },
        409: { description: 'This providerId was already received from another number or with another text' },
      },
      handler: async (ctx) => {
        const { from, text, providerId } = ctx.state.body;
        ctx.body = await receiveSms(deps.db, deps.runtime, { from, text, providerId, requestId: ctx.state.requestId });
      },
    },
    {
      method: 'post',
      path: '/v1/sms/status',
      summary: 'Delivery-status callback of the SMS provider',
      description: 'The provider reports the fate of a message by the reference it was sent with (pakn-sms-<id>). Recorded on the job and in the case history. Needs a key with role gateway.',
      tags: ['SMS'],
      access: rolesFor('smsGateway'),
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['reference', 'status'],
        properties: {
          reference: { type: 'string', pattern: '^pakn-sms-[0-9]{1,18}$' },
          status: { enum: ['delivered', 'failed', 'undeliverable'] },
          providerId: { type: 'string', maxLength: 200 },
          detail: { type: 'string', maxLength: 1000 },
        },
      },
      responses: { 200: { description: 'Recorded', schema: SmsStatusResultSchema }, 404: { description: 'No message was sent with this reference' } },
      handler: async (ctx) => {
        const { reference, status, providerId, detail } = ctx.state.body;
        const delivery = await recordSmsStatus(deps.db, deps.runtime, deps.clock, { reference, status, providerId, detail, actor: actorOf(ctx.state.principal!, ctx.state.requestId) });
        ctx.body = { reference, recorded: delivery };
      },
    },
  ];
}

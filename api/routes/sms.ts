import { NotFoundError } from '../../engine/errors.js';
import { actorOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';

export function smsRoutes(deps: AppDeps): RouteSpec[] {
  return [
    {
      method: 'post',
      path: '/v1/sms/status',
      summary: 'Delivery-status callback of the SMS provider',
      description: 'The provider reports the fate of a message by the reference it was sent with (pakn-sms-<id>). Recorded on the job and in the case history. Needs a key with role gateway.',
      tags: ['SMS'],
      access: ['gateway'],
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
      responses: { 200: { description: 'Recorded', schema: { type: 'object' } } },
      handler: async (ctx) => {
        const { reference, status, providerId, detail } = ctx.state.body;
        const id = reference.slice('pakn-sms-'.length);
        const job = await deps.db('jobs').where({ id, type: 'sms' }).first('id', 'case_id', 'payload', 'element_id');
        if (!job) throw new NotFoundError(`No message with reference ${reference}.`);
        const delivery = { status, providerId: providerId ?? null, detail: detail ?? null, at: new Date().toISOString() };
        await deps.db('jobs')
          .where({ id: job.id })
          .update({ payload: JSON.stringify({ ...job.payload, delivery }), updated_at: new Date() });
        if (job.case_id) {
          await deps.runtime.recordCaseEvent({
            caseId: job.case_id,
            type: status === 'delivered' ? 'sms.delivered' : 'sms.failed',
            actor: actorOf(ctx.state.principal!, ctx.state.requestId),
            payload: { jobId: String(job.id), template: job.payload?.template ?? null, ...delivery },
          });
        }
        ctx.body = { reference, recorded: delivery };
      },
    },
  ];
}

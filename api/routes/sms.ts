import { NotFoundError } from '../../engine/errors.js';
import { actorOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';
import { normalizePhone } from './public.js';

/** "1" (or "hài lòng") satisfied, "2" (or "chưa/không hài lòng") not: the answer SMS tells the citizen so. */
function ratingOf(text: string): boolean | null {
  const t = text.trim().toLowerCase().normalize('NFC');
  if (/^1\b/.test(t) || /^(có\s+)?hài lòng/.test(t)) return true;
  if (/^2\b/.test(t) || /^(chưa|không)\s+hài lòng/.test(t)) return false;
  return null;
}

export function smsRoutes(deps: AppDeps): RouteSpec[] {
  return [
    {
      method: 'post',
      path: '/v1/sms/inbound',
      summary: 'An SMS from a citizen, forwarded by the provider: a rating reply (1 satisfied, 2 not)',
      description: 'The reply is matched to the most recent case of that phone number that waits for a rating. 200 with matched=false when none does or the text is not a rating (the provider should not retry).',
      tags: ['SMS'],
      access: ['gateway'],
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['from', 'text'],
        properties: { from: { type: 'string', minLength: 6, maxLength: 20 }, text: { type: 'string', maxLength: 1000 }, providerId: { type: 'string', maxLength: 200 } },
      },
      responses: { 200: { description: 'Whether the reply rated a case', schema: { type: 'object' } } },
      handler: async (ctx) => {
        const satisfied = ratingOf(ctx.state.body.text);
        if (satisfied === null) {
          ctx.body = { matched: false, reason: 'not a rating reply' };
          return;
        }
        const phone = normalizePhone(ctx.state.body.from);
        // Cases waiting for a rating hold a pending timer job on the rating deadline.
        const candidates = await deps.db('cases as c')
          .join('jobs as j', 'j.case_id', 'c.id')
          .where({ 'c.status': 'running', 'j.type': 'timer', 'j.status': 'pending', 'j.element_id': 'noRating' })
          .whereRaw(`regexp_replace(c.variables->>'citizenPhone', '\\D', '', 'g') in (?, ?)`, [phone, `84${phone.slice(1)}`])
          .orderBy('c.updated_at', 'desc')
          .select('c.code');
        const citizen = { id: `citizen:sms`, name: 'Công dân', roles: ['citizen'], agency: null, requestId: ctx.state.requestId };
        for (const { code } of candidates) {
          try {
            await deps.runtime.correlateMessage({ code, name: 'citizen-rating', payload: { satisfied, ratingChannel: 'sms' }, actor: citizen });
            ctx.body = { matched: true, code };
            return;
          } catch (err: any) {
            if (err?.status !== 409) throw err;
          }
        }
        ctx.body = { matched: false, reason: 'no case of this phone waits for a rating' };
      },
    },
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

import type { Db } from '../../db/connect.js';
import { finishJob, jobOfType, updateJobPayload, type JobRow } from '../../db/jobs.js';
import type { Actor } from '../actor.js';
import type { Clock } from '../clock.js';
import { NotFoundError } from '../errors.js';
import type { JobHandler } from '../jobs.js';
import type { Runtime } from '../runtime.js';
import type { SmsGateway } from './sms.js';
import type { ResolveHost } from './webhook-targets.js';
import { webhookHandlers } from './webhooks.js';

/** Reference sent with every attempt of one message, so the provider sends it once. */
export function smsReference(jobId: string | number): string {
  return `pakn-sms-${jobId}`;
}

export type DeliveryLog = (level: 'info' | 'warn', msg: string, data: Record<string, unknown>) => void;

/**
 * The outbox's job handlers: `sms` through the gateway; `notification` (the
 * diagram's agency reminders), `task-deadline` and `webhook` as events for
 * agencies' systems, delivered to their subscriptions (webhooks.ts) to the
 * URLs `webhookTargets` allows, on public addresses (`resolve` finds a name's;
 * the system resolver unless given). Each marks its job when it is done.
 */
export function deliveryHandlers(db: Db, gateway: SmsGateway, clock: Clock, log: DeliveryLog, webhookTargets: readonly string[], resolve?: ResolveHost): Record<'sms' | 'notification' | 'webhook' | 'task-deadline', JobHandler> {
  return {
    sms: (job) => deliverSms(db, gateway, clock, log, job),
    ...webhookHandlers(db, clock, webhookTargets, log, resolve),
  };
}

/**
 * Deliver one queued SMS. A failure throws: the executor retries with backoff
 * and the same reference. A message with no phone or no text is skipped.
 */
async function deliverSms(db: Db, gateway: SmsGateway, clock: Clock, log: DeliveryLog, job: JobRow): Promise<void> {
  const p = job.payload ?? {};
  const done = (extra: Record<string, unknown>, status = 'done') => finishJob(db, job.id, { status, payload: { ...p, ...extra }, at: clock.now() });
  if (typeof p.to !== 'string' || !p.to || typeof p.text !== 'string' || !p.text) {
    log('warn', 'sms skipped: no phone number or no template text', { jobId: job.id, caseCode: p.caseCode, template: p.template });
    await done({ skipped: !p.to ? 'no phone number' : `no template "${p.template}"` }, 'skipped');
    return;
  }
  // Providers want the number alone: spaces, dots and brackets typed at intake are dropped.
  const { providerId } = await gateway.send({ to: p.to.replace(/[^\d+]/g, ''), text: p.text, idempotencyKey: smsReference(job.id) });
  await done({ gateway: gateway.name, providerId, sentAt: clock.now().toISOString() });
}

/**
 * The provider reports the fate of a message by its reference: recorded on
 * the job (payload.delivery) and, for a case's message, in the case history.
 */
export async function recordSmsStatus(
  db: Db,
  runtime: Runtime,
  clock: Clock,
  report: { reference: string; status: 'delivered' | 'failed' | 'undeliverable'; providerId?: string; detail?: string; actor: Actor },
): Promise<{ status: string; providerId: string | null; detail: string | null; at: string }> {
  const id = /^pakn-sms-(\d+)$/.exec(report.reference)?.[1];
  const job = id ? await jobOfType(db, id, 'sms') : undefined;
  if (!job) throw new NotFoundError(`No message with reference ${report.reference}.`);
  // A provider repeats a report it is not sure arrived: the same status again is answered as recorded, and
  // writes nothing (it wrote a second sms.delivered into the case history).
  const known = job.payload?.delivery as { status: string; providerId: string | null; detail: string | null; at: string } | undefined;
  if (known && known.status === report.status && known.providerId === (report.providerId ?? null)) return known;
  const now = clock.now();
  const delivery = { status: report.status, providerId: report.providerId ?? null, detail: report.detail ?? null, at: now.toISOString() };
  await updateJobPayload(db, job.id, { ...job.payload, delivery }, now);
  if (job.case_id) {
    await runtime.recordCaseEvent({
      caseId: job.case_id,
      type: report.status === 'delivered' ? 'sms.delivered' : 'sms.failed',
      actor: report.actor,
      payload: { jobId: String(job.id), template: job.payload?.template ?? null, ...delivery },
    });
  }
  return delivery;
}

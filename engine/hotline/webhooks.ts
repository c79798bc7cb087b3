/**
 * Events for agencies' systems: what a command changed, said as
 * task.created, task.due-soon, task.overdue, case.escalated and
 * case.transferred, written to hotline_events (the feed) in the command's
 * transaction, with one `webhook` job per subscriber; the job executor
 * POSTs each, signed, and retries with growing delays until a 2xx.
 *
 * Events carry codes, ids and dates only — never the citizen's data — so
 * the feed and the deliveries need no masking.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Knex } from 'knex';
import type { Db } from '../../db/connect.js';
import { findEvent, holdEventsWithDeliveries, insertEventsWithDeliveries, taskCompletedEver, type HotlineEventRow, type NewHotlineEvent } from '../../db/events.js';
import type { DeferredWrites } from '../../db/deferred.js';
import { finishJob, type JobRow } from '../../db/jobs.js';
import { findSubscription, insertDelivery } from '../../db/subscriptions.js';
import { caseSummary, pastTask } from '../../db/cases.js';
import { tasksOfCase } from '../../db/tasks.js';
import type { Clock } from '../clock.js';
import type { JobHandler } from '../jobs.js';
import type { PendingEvent } from '../session.js';
import { checkTarget, pinnedLookup, systemResolver, type ResolveHost, type TargetCheck } from './webhook-targets.js';

export const EVENT_TYPES = ['task.created', 'task.due-soon', 'task.overdue', 'case.escalated', 'case.transferred'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Delivery attempts before a webhook job becomes an incident: with delays doubling from 5 s up to 1 h, about 15 hours. */
export const WEBHOOK_MAX_ATTEMPTS = 20;
/** A receiver that does not answer within this long is a failed attempt (retried). */
const DELIVERY_TIMEOUT_MS = 10_000;

/** The role that handles escalations (the diagram's coordinate task): it hears of every escalation and transfer. */
const COORDINATOR = 'coordinator';

/** X-Pakn-Signature: sha256=<hex HMAC-SHA256 of the raw body with the subscription's secret>. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}

/** Whether a receiver URL is among the configured targets (prefixes, e.g. https://dms.snnmt.dongnai.gov.vn/). */
export function targetAllowed(url: string, targets: readonly string[]): boolean {
  return targets.some((t) => url.startsWith(t));
}

/** What a feed entry and a delivery body look like: {id, type, occurredAt, data}. */
export function eventView(e: Pick<HotlineEventRow, 'event_id' | 'type' | 'occurred_at' | 'data'>) {
  return { id: e.event_id, type: e.type, occurredAt: new Date(e.occurred_at).toISOString(), data: e.data };
}

const text = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/**
 * The events one command's history events mean, in the command's terms:
 *  - task.created: every task.created (its candidate groups hear of it);
 *  - case.escalated: the diagram's case.escalated (overdue, transfer limit
 *    exceeded, returned as not competent: the paths to the coordinator);
 *  - case.transferred: the agency variable changed from one agency to
 *    another (an agency's transfer within the limit, or the coordinator's
 *    reassignment).
 */
export function eventsOfCommand(kase: { id: string; code: string; variables: Record<string, unknown> }, events: readonly PendingEvent[], now: Date): NewHotlineEvent[] {
  const out: NewHotlineEvent[] = [];
  const agency = text(kase.variables.agency);
  const base = { case_id: kase.id, occurred_at: now, dedupe_key: null };
  for (const e of events) {
    const p = e.payload ?? {};
    if (e.type === 'task.created') {
      const groups = (p.candidateGroups as string[] | undefined) ?? [];
      out.push({ ...base, type: 'task.created', groups, data: { caseCode: kase.code, taskId: p.taskId, task: e.elementName ?? e.elementId, elementId: e.elementId, candidateGroups: groups, agency, due: p.due ?? null } });
    } else if (e.type === 'case.escalated') {
      const reason = text(p.escalationReason) ?? text(kase.variables.escalationReason);
      out.push({ ...base, type: 'case.escalated', groups: [...(agency ? [agency] : []), COORDINATOR], data: { caseCode: kase.code, agency, reason, elementId: e.elementId } });
    } else if (e.type === 'variables.changed') {
      const change = ((p.changes as Array<{ name: string; old: unknown; new: unknown }> | undefined) ?? []).find((c) => c.name === 'agency');
      const from = text(change?.old);
      const to = text(change?.new);
      if (!from || !to || from === to) continue;
      const transfer = events.some((x) => x.type === 'task.completed' && (x.payload?.output as any)?.outcome === 'transfer');
      out.push({
        ...base,
        type: 'case.transferred',
        groups: [from, to, COORDINATOR],
        data: { caseCode: kase.code, fromAgency: from, toAgency: to, by: transfer ? 'transfer' : 'reassignment', transferCount: typeof kase.variables.transferCount === 'number' ? kase.variables.transferCount : null },
      });
    }
  }
  return out;
}

/**
 * Write events and a delivery job per interested subscription (and any other
 * jobs that follow from them), in the caller's transaction, in one statement.
 */
export async function publish(trx: Knex.Transaction, events: NewHotlineEvent[], now: Date, jobs: Parameters<typeof insertEventsWithDeliveries>[1]['jobs'] = []): Promise<HotlineEventRow[]> {
  return insertEventsWithDeliveries(trx, { events, delivery: { type: 'webhook', dueAt: now, maxAttempts: WEBHOOK_MAX_ATTEMPTS }, jobs });
}

/**
 * RuntimeOptions.onSave: the command's events become hotline events (and
 * deliveries), and each new task with a deadline gets a job at its deadline
 * (task.overdue) — all committed or rolled back with the command. Reminders
 * before the deadline (task.due-soon) are the diagram's to time: its
 * notification send tasks (the agency reminder, two working days before).
 *
 * The deadline job carries the case in its payload, not in case_id: a case's
 * job rows are what its engine armed and queued (timers, messages), which
 * commands and migrations rewrite; an announcement is not one of them.
 */
export function onCommandSaved() {
  return async (trx: Knex.Transaction, kase: { id: string; code: string; variables: Record<string, unknown> }, events: readonly PendingEvent[], now: Date, held?: DeferredWrites): Promise<void> => {
    const deadlines = events
      .filter((e) => e.type === 'task.created' && typeof e.payload?.due === 'string')
      .map((e) => ({ type: 'task-deadline', case_id: null, element_id: e.elementId ?? null, due_at: new Date(e.payload!.due as string), payload: { kind: 'task.overdue', taskId: e.payload!.taskId, caseId: kase.id, caseCode: kase.code } }));
    const published = eventsOfCommand(kase, events, now);
    // Nothing of them is read back in the command: they go with its history when the runtime holds writes.
    if (held) holdEventsWithDeliveries(held, { events: published, delivery: { type: 'webhook', dueAt: now, maxAttempts: WEBHOOK_MAX_ATTEMPTS }, jobs: deadlines });
    else await publish(trx, published, now, deadlines);
  };
}

/**
 * A task's deadline passed: announce task.overdue once per task (dedupe
 * key), unless the task was completed in time. A task the diagram's overdue
 * timer took away is still overdue: only a completion (task.completed) or
 * the case's end cancels the announcement.
 */
async function deadlineReached(db: Db, clock: Clock, job: JobRow): Promise<void> {
  const { kind, taskId, caseId } = job.payload as { kind: EventType; taskId: string; caseId: string };
  await db.transaction(async (trx) => {
    const kase = await caseSummary(trx, caseId);
    const open = kase && kase.status === 'running' && !(await taskCompletedEver(trx, caseId, taskId));
    if (open) {
      const groups = await taskGroups(trx, caseId, taskId);
      const data = { caseCode: kase.code, taskId, elementId: job.element_id, candidateGroups: groups, agency: text(kase.variables.agency), due: job.due_at.toISOString() };
      await publish(trx, [{ type: kind, case_id: caseId, groups, dedupe_key: `${kind}:${taskId}`, occurred_at: clock.now(), data }], clock.now());
    }
    await finishJob(trx, job.id, { status: open ? 'done' : 'skipped', at: clock.now() });
  });
}

/** The candidate groups of a task: the open row's, else the ones its task.created event recorded. */
async function taskGroups(trx: Knex.Transaction, caseId: string, taskId: string): Promise<string[]> {
  const open = (await tasksOfCase(trx, caseId)).find((t) => t.id === taskId);
  if (open) return open.candidate_groups;
  return (await pastTask(trx, taskId))?.candidate_groups ?? [];
}

/**
 * The diagram's notification send tasks (camunda:topic="notify", e.g. the
 * agency reminder two working days before the deadline): a `reminder`
 * becomes task.due-soon for the open tasks of the agency it names (deduped
 * with the deadline job's). Other templates have no event: marked skipped.
 */
async function notificationToEvents(db: Db, clock: Clock, job: JobRow): Promise<void> {
  const p = job.payload ?? {};
  await db.transaction(async (trx) => {
    let written = 0;
    if (p.template === 'reminder' && typeof p.to === 'string' && job.case_id) {
      const kase = await caseSummary(trx, job.case_id);
      const tasks = (await tasksOfCase(trx, job.case_id)).filter((t) => t.candidate_groups.includes(p.to as string));
      const events: NewHotlineEvent[] = tasks.map((t) => ({
        type: 'task.due-soon',
        case_id: job.case_id,
        groups: t.candidate_groups,
        dedupe_key: `task.due-soon:${t.id}`,
        occurred_at: clock.now(),
        data: { caseCode: kase.code, taskId: t.id, elementId: t.element_id, candidateGroups: t.candidate_groups, agency: p.to, due: t.due_at ? new Date(t.due_at).toISOString() : null },
      }));
      written = (await publish(trx, events, clock.now())).length;
    }
    await finishJob(trx, job.id, { status: written ? 'done' : 'skipped', payload: { ...p, events: written }, at: clock.now() });
  });
}

export type WebhookLog = (level: 'info' | 'warn', msg: string, data: Record<string, unknown>) => void;

/**
 * POST one event to one subscription. Every attempt is recorded (GET
 * /v1/subscriptions/{id}/deliveries); anything but a 2xx throws, so the
 * executor retries it later with a longer delay. The body is the same at
 * every attempt: receivers dedupe by its `id`.
 */
async function deliver(db: Db, clock: Clock, targets: readonly string[], log: WebhookLog, resolve: ResolveHost, job: JobRow): Promise<void> {
  const { subscriptionId, eventId } = job.payload as { subscriptionId: string; eventId: string };
  const sub = await findSubscription(db, subscriptionId);
  const event = await findEvent(db, eventId);
  const record = (outcome: 'delivered' | 'failed' | 'refused', httpStatus: number | null, error: string | null) =>
    insertDelivery(db, { subscription_id: subscriptionId, event_id: eventId, job_id: job.id, attempt: job.attempts, outcome, http_status: httpStatus, error, at: clock.now() });
  if (!sub || !event || sub.ended_at) {
    await finishJob(db, job.id, { status: 'skipped', payload: { ...job.payload, skipped: 'subscription ended' }, at: clock.now() });
    return;
  }
  if (!targetAllowed(sub.url, targets)) {
    await record('refused', null, 'the URL is no longer among the configured targets (PAKN_WEBHOOK_TARGETS)');
    await finishJob(db, job.id, { status: 'skipped', payload: { ...job.payload, skipped: 'target not allowed' }, at: clock.now() });
    return;
  }
  // A name that does not resolve, a receiver that cannot be reached or does not answer: a failed attempt, retried.
  const unreachable = async (err: any): Promise<never> => {
    const error = String(err?.name === 'AbortError' ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s` : (err?.code ?? err?.cause?.code ?? err?.message ?? err)).slice(0, 500);
    await record('failed', null, error);
    throw new Error(`webhook ${subscriptionId}: ${error}`, { cause: err });
  };
  // Checked now, not only at subscription: the name may resolve elsewhere today (DNS rebinding), and subscriptions
  // made before the check existed were never checked.
  const target = await checkTarget(sub.url, targets, resolve).catch(unreachable);
  if (target.verdict === 'refused') {
    // The subscriber's list says only that it was refused: what the address is stays in the server's log.
    await record('refused', null, 'refused: the address is not public');
    await finishJob(db, job.id, { status: 'skipped', payload: { ...job.payload, skipped: 'address not public' }, at: clock.now() });
    log('warn', 'webhook refused: the address is not public', { jobId: job.id, subscriptionId, why: target.why });
    return;
  }
  const body = JSON.stringify(eventView(event));
  const headers = { 'Content-Type': 'application/json', 'User-Agent': 'pakn-webhooks', 'X-Pakn-Event': event.type, 'X-Pakn-Signature': signature(sub.secret, body) };
  const status = await post(sub.url, target, headers, body).catch(unreachable);
  if (status < 200 || status > 299) {
    await record('failed', status, `HTTP ${status}`);
    throw new Error(`webhook ${subscriptionId}: HTTP ${status}`);
  }
  await record('delivered', status, null);
  await finishJob(db, job.id, { status: 'done', at: clock.now() });
  log('info', 'webhook delivered', { jobId: job.id, subscriptionId, type: event.type, attempt: job.attempts });
}

/**
 * POST the body and answer the receiver's status. A checked public target is connected to at the addresses
 * checked (pinnedLookup), not at whatever the name resolves to by now. Redirects are not followed (a 3xx is a
 * failed attempt): they could lead anywhere. The answer's body is not read.
 */
function post(url: string, target: Exclude<TargetCheck, { verdict: 'refused' }>, headers: Record<string, string>, body: string): Promise<number> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
        // No pooled sockets: each delivery connects where its own check said.
        agent: false,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
        ...(target.verdict === 'public' ? { lookup: pinnedLookup(target.addresses) } : {}),
      },
      (res) => {
        resolve(res.statusCode ?? 0);
        res.destroy();
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The job handlers: webhook deliveries, task deadlines, and the diagram's notifications (which used to go to the log). */
export function webhookHandlers(db: Db, clock: Clock, targets: readonly string[], log: WebhookLog, resolve: ResolveHost = systemResolver): { webhook: JobHandler; 'task-deadline': JobHandler; notification: JobHandler } {
  return {
    webhook: (job) => deliver(db, clock, targets, log, resolve, job),
    'task-deadline': (job) => deadlineReached(db, clock, job),
    notification: (job) => notificationToEvents(db, clock, job),
  };
}

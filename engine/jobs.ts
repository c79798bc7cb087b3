import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { isDatabaseUnavailable, type Db } from '../db/connect.js';
import type { Knex } from 'knex';
import type { Writes } from '../db/deferred.js';
import { lockCase, touchCase } from '../db/cases.js';
import { appendEvents } from './history.js';
import { ConflictError, NotFoundError } from './errors.js';
import type { Actor } from './actor.js';
import { requeueIncident, jobById, armedTimerJobs, claimDueJobs, deleteJobs, failJob, insertTimerJobs, releaseJob, type JobRow } from '../db/jobs.js';
import { openIncident, resolveIncidents, type IncidentRow } from '../db/incidents.js';
import { isHeldExpiry } from './bpmn.js';
import type { EngineSession } from './session.js';
import { systemClock, type Clock } from './clock.js';

export type { JobRow };

/**
 * Runs one job. Answering JOB_GONE says the handler's own transaction removed
 * the job's row (a fired timer), so there is no lease to give back: one
 * statement fewer per job.
 */
export type JobHandler = (job: JobRow) => Promise<unknown>;
export const JOB_GONE = 'job-gone';

export interface JobExecutorOptions {
  handlers: Record<string, JobHandler>;
  workerId?: string;
  /** Time between polls when the last poll found nothing. */
  pollMs?: number;
  /** How long a claimed job stays invisible to other nodes. */
  leaseMs?: number;
  batchSize?: number;
  /**
   * How many cases' jobs of a batch run at once (each case's jobs one after
   * the other, so one case never has two commands in flight here). Default 4:
   * on PostgreSQL a firing is mostly engine CPU and a round trip or ten, so a
   * few in flight keep both the event loop and the database busy.
   */
  concurrency?: number;
  /** First retry delay; doubles per attempt, capped at one hour. */
  backoffMs?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
  /** The node's clock; the engine uses the same clock to decide that a timer expired. */
  clock?: Clock;
}

const MAX_BACKOFF_MS = 3_600_000;
/** Longest wait between polls while the database is unavailable (polls double from pollMs up to it). */
export const MAX_OUTAGE_POLL_MS = 30_000;

/**
 * Timers become jobs here, in the command's transaction: the case's pending
 * timer jobs are replaced with the timers the engine has armed (same
 * execution id: kept with its due time; gone from the engine: deleted; new:
 * inserted, due at the timer's expiry). The JobExecutor below claims them
 * when due and the runtime's fireTimer command fires them. `beforeDirectWrite`
 * runs before a write that goes at once (an incident for a held timer): a new
 * case's held row goes first.
 */
export async function projectTimers(
  trx: Knex.Transaction,
  caseId: string,
  session: EngineSession,
  known: { incidents: IncidentRow[]; existing?: Array<{ id: string; execution_id: string }>; writes?: Writes; beforeDirectWrite?: () => Promise<void> },
): Promise<string[]> {
  const writes = known.writes ?? trx;
  const now = session.now();
  // The runtime guard (engine/bpmn.ts) held these timers: an incident each, and no job (a held timer never falls due).
  if (session.heldTimers.length) await known.beforeDirectWrite?.();
  for (const held of session.heldTimers) {
    const opened = await openIncident(trx, caseId, { kind: 'timer', elementId: held.elementId, executionId: held.executionId, expression: held.expression, yielded: held.yielded, message: held.message }, now);
    if (opened) session.record({ type: 'incident.opened', elementId: held.elementId, payload: { kind: 'timer', expression: held.expression, yielded: held.yielded ?? null, message: held.message } });
  }
  const all = session.armedTimers();
  const armed = all.filter((t) => !isHeldExpiry(t.expireAt));
  // A held timer that is no longer armed (its task completed, the case moved) holds nothing any more.
  const stillHeld = new Set(all.filter((t) => isHeldExpiry(t.expireAt)).map((t) => t.executionId));
  // The open incidents as the command found them (the caller read them once): an incident opened just above is still held.
  const gone = known.incidents.filter((i) => i.kind === 'timer' && !stillHeld.has(i.execution_id));
  for (const i of await resolveIncidents(trx, gone.map((g) => g.id), { at: now, by: 'system', resolution: 'the timer is no longer armed (its step ended or the case moved)' })) {
    session.record({ type: 'incident.resolved', elementId: i.element_id, payload: { kind: 'timer', resolution: i.resolution } });
  }
  // The pending timer jobs as the command read them with the case row's lock, when it did.
  const existing = known.existing ?? (await armedTimerJobs(trx, caseId));
  const armedIds = new Set(armed.map((t) => t.executionId));
  await deleteJobs(writes, existing.filter((j) => !armedIds.has(j.execution_id)).map((j) => j.id));
  const jobsKept = new Set(existing.map((j) => j.execution_id));
  await insertTimerJobs(
    writes,
    caseId,
    armed.filter((t) => !jobsKept.has(t.executionId)),
  );
  // The jobs that were there and still are (a timer job the command fired is not among them).
  return existing.filter((j) => armedIds.has(j.execution_id)).map((j) => String(j.id));
}

/**
 * Claims due jobs with FOR UPDATE SKIP LOCKED and runs them. Any number of
 * nodes may run one; a job is executed by one node at a time, and a node that
 * dies mid-job loses its lease and the job is claimed again (at-least-once,
 * which the handlers make effectively-once: a fired timer is gone from the
 * case, so firing it again finds nothing).
 */
export class JobExecutor {
  readonly workerId: string;
  private readonly opts: Required<Omit<JobExecutorOptions, 'workerId' | 'log'>> & Pick<JobExecutorOptions, 'log'>;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** Set while the database is unavailable: how many polls failed since it went away. */
  private outage: { failedPolls: number } | null = null;

  constructor(
    private readonly db: Db,
    options: JobExecutorOptions,
  ) {
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.opts = {
      handlers: options.handlers,
      pollMs: options.pollMs ?? 1000,
      leaseMs: options.leaseMs ?? 60_000,
      batchSize: options.batchSize ?? 50,
      concurrency: options.concurrency ?? 4,
      backoffMs: options.backoffMs ?? 5_000,
      clock: options.clock ?? systemClock,
      log: options.log,
    };
  }

  /** Claim up to batchSize due jobs: one statement, so two nodes never claim the same row. */
  async claim(): Promise<JobRow[]> {
    const now = this.opts.clock.now();
    return claimDueJobs(this.db, { now, limit: this.opts.batchSize, lockedUntil: new Date(now.getTime() + this.opts.leaseMs), workerId: this.workerId });
  }

  /**
   * Claim and run one batch; returns how many jobs were run. The batch is
   * claimed in one statement (FOR UPDATE SKIP LOCKED: another node claims
   * other rows), grouped by case, and up to `concurrency` cases run at once;
   * a case's jobs run in due order, one at a time (they would only wait for
   * each other's row lock).
   */
  async runOnce(): Promise<number> {
    const jobs = await this.claim();
    const byCase = new Map<string, JobRow[]>();
    for (const job of jobs) {
      const key = job.case_id ?? `job:${job.id}`;
      byCase.set(key, [...(byCase.get(key) ?? []), job]);
    }
    const queues = [...byCase.values()];
    const worker = async () => {
      for (let queue = queues.shift(); queue; queue = queues.shift()) {
        for (const job of queue) await this.run(job);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.opts.concurrency, queues.length)) }, worker));
    return jobs.length;
  }

  /** Run batches until nothing is due (tests, and the CLI's one-shot mode). */
  async drain(): Promise<number> {
    let total = 0;
    for (let n = await this.runOnce(); n > 0; n = await this.runOnce()) total += n;
    return total;
  }

  private async run(job: JobRow): Promise<void> {
    const handler = this.opts.handlers[job.type];
    try {
      if (!handler) throw new Error(`No handler for job type "${job.type}"`);
      const result = await handler(job);
      // A handler that completed its job deleted it (timers) or marked it done.
      // If it is still ours and pending (e.g. a timer not yet expired by the
      // engine's clock), give the lease back without counting an attempt.
      if (result !== JOB_GONE) await releaseJob(this.db, job.id, this.workerId);
    } catch (err: any) {
      const message = String(err?.message ?? err).slice(0, 2000);
      const incident = job.attempts >= job.max_attempts;
      const delay = Math.min(this.opts.backoffMs * 2 ** (job.attempts - 1), MAX_BACKOFF_MS);
      const now = this.opts.clock.now();
      await failJob(this.db, job.id, this.workerId, { incident, dueAt: incident ? job.due_at : new Date(now.getTime() + delay), error: message, at: now });
      this.opts.log?.(incident ? 'error' : 'warn', incident ? 'job became an incident' : 'job failed, will retry', {
        jobId: job.id,
        type: job.type,
        caseId: job.case_id,
        attempts: job.attempts,
        error: message,
      });
    }
  }

  /**
   * One turn of the loop: run a batch; answer how long to wait before the
   * next (0: more may be due). While the database is unavailable the loop
   * neither stops nor logs per poll: one line when the outage starts, one
   * when a poll succeeds again, and polls back off (doubling from pollMs up
   * to MAX_OUTAGE_POLL_MS) instead of hammering a database that is away.
   */
  async tick(): Promise<number> {
    try {
      const ran = await this.runOnce();
      if (this.outage) {
        this.opts.log?.('info', 'job executor: database reachable again', { failedPolls: this.outage.failedPolls });
        this.outage = null;
      }
      return ran > 0 ? 0 : this.opts.pollMs;
    } catch (err: any) {
      if (!isDatabaseUnavailable(err)) {
        this.opts.log?.('error', 'job poll failed', { error: String(err?.message ?? err) });
        return this.opts.pollMs;
      }
      if (!this.outage) {
        this.outage = { failedPolls: 0 };
        this.opts.log?.('error', 'job executor: database unavailable, polling with back-off until it is back', { code: err?.code, error: String(err?.message ?? err).slice(0, 200) });
      }
      this.outage.failedPolls++;
      return Math.min(this.opts.pollMs * 2 ** this.outage.failedPolls, MAX_OUTAGE_POLL_MS);
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const waitMs = await this.tick();
        if (waitMs > 0 && this.running) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, waitMs);
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.wake = null;
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }
}

/**
 * Send again a job that became an incident (an SMS the provider refused five
 * times, say), on a person's request: back in the queue with fresh attempts,
 * and a job.retried event in the case's history, in one transaction with the
 * case row locked. The SMS keeps its reference (pakn-sms-<id>), so a provider
 * that did send it after all does not send it twice.
 */
export async function retryIncidentJob(db: Db, clock: Clock, jobId: string, actor: Actor): Promise<JobRow & { case_code: string | null }> {
  return db.transaction(async (trx) => {
    const job = await jobById(trx, jobId);
    if (!job) throw new NotFoundError(`Job ${jobId} does not exist.`);
    const locked = job.case_id ? await lockCase(trx, job.case_id) : undefined;
    const now = clock.now();
    const requeued = await requeueIncident(trx, jobId, now);
    if (!requeued) throw new ConflictError(`Job ${jobId} is ${job.status}, not an incident: only a job that failed every attempt can be sent again.`);
    if (job.case_id) {
      await appendEvents(trx, job.case_id, [{ type: 'job.retried', elementId: job.element_id, payload: { jobId: String(job.id), jobType: job.type, lastError: job.last_error }, actor }], clock);
      // The history moved: a command waiting for the lock must read the case again (db/cases.ts lockAndRead).
      await touchCase(trx, job.case_id);
    }
    // The answer names the case as the incident list does (it said caseCode null).
    return { ...requeued, case_code: locked?.code ?? null };
  });
}

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { connect, lockDataDir, type Db } from '../db/connect.js';
import { ensureEventPartitions, migrateLatest } from '../db/migrate.js';
import { DefinitionStore, isDmn } from '../engine/definitions.js';
import { DryRun } from '../engine/dry-run.js';
import { UnprocessableError } from '../engine/errors.js';
import type { Problem } from '../engine/validate.js';
import { CALENDAR_FUNCTIONS, loadCalendar, feelFunctions, type WorkingCalendar } from '../engine/hotline/calendar.js';
import { Catalogue, candidateGroupNames, readCatalogueFiles, syncCatalogue, vietnamDate } from '../engine/hotline/catalogue.js';
import { DecisionStore } from '../engine/decisions.js';
import type { JobHandler, JobRow } from '../engine/jobs.js';
import { FormRegistry } from '../engine/forms.js';
import { JobExecutor } from '../engine/jobs.js';
import { Runtime } from '../engine/runtime.js';
import { ApiKeys } from './auth.js';
import { TASK_ROLES } from '../engine/hotline/policy.js';
import type { Config } from './config.js';
import type { AppDeps } from './deps.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { HttpSmsGateway, LogSmsGateway, SmsTemplates, type SmsGateway } from '../engine/hotline/sms.js';

export const DEFAULT_PROCESS = 'complaint-handling';

export interface System extends AppDeps {
  executor: JobExecutor;
  /** What each job type does; the executor runs these, tests may run them with their own clock. */
  jobHandlers: Record<string, JobHandler>;
  sms: SmsGateway;
  decisions: DecisionStore;
  calendar: WorkingCalendar | null;
  close(): Promise<void>;
}

/**
 * Wire one node: database (migrated), forms, definitions, runtime, keys and a
 * job executor (not started). Everything a request needs is here; nothing of
 * a case is.
 */
export async function createSystem(config: Config, options: { log?: Logger; db?: Db; lock?: boolean; sms?: SmsGateway } = {}): Promise<System> {
  const log = options.log ?? createLogger(config.logLevel);
  let release = () => {};
  if (!options.db && !config.databaseUrl && config.dataDir !== 'memory' && options.lock !== false) release = lockDataDir(config.dataDir);
  const db = options.db ?? connect({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateLatest(db);
    await ensureEventPartitions(db);
  } catch (err) {
    release();
    throw err;
  }
  const forms = FormRegistry.fromDirectory(join(config.processesDir, 'forms'));
  const decisions = new DecisionStore(db);
  const calendarFile = join(config.processesDir, 'calendar', 'vn-holidays.json');
  const calendar = existsSync(calendarFile) ? loadCalendar(calendarFile) : null;
  const catalogue = new Catalogue(db);
  await catalogue.refresh();
  const definitions = new DefinitionStore(db, {
    forms: forms.keys(),
    decisionIds: () => decisions.ids(),
    functions: [...CALENDAR_FUNCTIONS],
    candidateGroups: () => (catalogue.isEmpty() ? undefined : candidateGroupNames(TASK_ROLES, catalogue.list('agencies'), vietnamDate(new Date()))),
  });
  const metrics = new Metrics(db);
  const functions = calendar ? feelFunctions(calendar) : {};
  const runtime = new Runtime(db, definitions, {
    functions,
    decisions,
    smsTemplates: SmsTemplates.fromFile(join(config.processesDir, 'sms', 'templates.json')),
    agencyName: (code) => catalogue.get('agencies', code)?.name,
    checkMessage: (name, payload) => forms.checkMessage(name, payload),
    onCommand: ({ command, caseId, ms, outcome }) => {
      metrics.observeCommand(command, ms, outcome);
      log.debug({ command, caseId, ms: Math.round(ms), outcome }, 'command');
    },
  });
  const keys = new ApiKeys(db);
  const sms =
    options.sms ??
    (config.smsUrl
      ? new HttpSmsGateway(config.smsUrl, config.smsToken)
      : new LogSmsGateway((m) => log.info({ phone: m.to, idempotencyKey: m.idempotencyKey, text: m.text }, 'sms delivered to the log (no PAKN_SMS_URL configured)')));
  const jobHandlers: Record<string, JobHandler> = {
    timer: (job) => runtime.fireTimer(job.id),
    sms: (job) => deliverSms(db, sms, log, job),
    notification: (job) => deliverWithoutGateway(db, log, job),
  };
  const executor = new JobExecutor(db, {
    pollMs: config.jobPollMs,
    handlers: jobHandlers,
    log: (level, msg, data) => log[level](data ?? {}, msg),
  });
  return {
    db,
    definitions,
    decisions,
    calendar,
    catalogue,
    metrics,
    clock: () => new Date(),
    writeRateLimitPerMinute: config.writeRateLimitPerMinute,
    trustProxy: config.trustProxy,
    runtime,
    dryRun: new DryRun(db, definitions, decisions, functions),
    forms,
    keys,
    authenticators: [keys],
    log,
    defaultProcess: DEFAULT_PROCESS,
    executor,
    jobHandlers,
    sms,
    async close() {
      await executor.stop();
      if (!options.db) await db.destroy();
      release();
    },
  };
}

/** Reference sent with every attempt of one message, so the provider sends it once. */
export function smsReference(jobId: string | number): string {
  return `pakn-sms-${jobId}`;
}

/**
 * Deliver one queued SMS. A failure throws: the executor retries with backoff
 * and the same reference. A message with no phone or no text is skipped.
 */
async function deliverSms(db: Db, gateway: SmsGateway, log: Logger, job: JobRow): Promise<void> {
  const p = job.payload ?? {};
  const done = (extra: Record<string, unknown>, status = 'done') =>
    db('jobs')
      .where({ id: job.id })
      .update({ status, payload: JSON.stringify({ ...p, ...extra }), locked_until: null, locked_by: null, updated_at: new Date() });
  if (typeof p.to !== 'string' || !p.to || typeof p.text !== 'string' || !p.text) {
    log.warn({ jobId: job.id, caseCode: p.caseCode, template: p.template }, 'sms skipped: no phone number or no template text');
    await done({ skipped: !p.to ? 'no phone number' : `no template "${p.template}"` }, 'skipped');
    return;
  }
  // Providers want the number alone: spaces, dots and brackets typed at intake are dropped.
  const { providerId } = await gateway.send({ to: p.to.replace(/[^\d+]/g, ''), text: p.text, idempotencyKey: smsReference(job.id) });
  await done({ gateway: gateway.name, providerId, sentAt: new Date().toISOString() });
}

/**
 * No SMS gateway is configured yet: the outbox row is the message; delivery
 * is a log line (phone masked) and the row is marked done.
 */
async function deliverWithoutGateway(db: Db, log: Logger, job: JobRow): Promise<void> {
  const payload = job.payload ?? {};
  log.info({ jobId: job.id, type: job.type, caseCode: payload.caseCode, template: payload.template, phone: payload.to }, `${job.type} delivered to the log (no gateway configured)`);
  await db('jobs').where({ id: job.id }).update({ status: 'done', locked_until: null, locked_by: null, updated_at: new Date() });
}

/**
 * Load processes/ into the database: the catalogue (replaced by the files'
 * content), then decision files, then diagrams (identical ones are no-ops).
 */
export async function deployProcesses(system: System, dir: string, deployedBy = 'system:seed'): Promise<Array<{ file: string; key: string; version: number; created: boolean; active: boolean; problems?: string[] }>> {
  if (!existsSync(dir)) return [];
  const catalogueDir = join(dir, 'catalogue');
  if (existsSync(join(catalogueDir, 'catalogue.schema.json'))) {
    await syncCatalogue(system.db, readCatalogueFiles(catalogueDir));
    await system.catalogue.refresh();
  }
  const out = [];
  const files = readdirSync(dir).filter((f) => f.endsWith('.bpmn') || f.endsWith('.dmn'));
  // Decisions first: a diagram's business-rule tasks must reference deployed decisions.
  files.sort((a, b) => Number(isDmn(readFileSync(join(dir, b), 'utf8'))) - Number(isDmn(readFileSync(join(dir, a), 'utf8'))) || a.localeCompare(b));
  for (const file of files) {
    try {
      // A changed file becomes a new, staged version once a version of its key is active: analysts switch it on.
      const r = await system.definitions.deploy(readFileSync(join(dir, file), 'utf8'), { deployedBy, comment: `seed from ${file}`, activate: 'if-none-active' });
      out.push({ file, key: r.key, version: r.version, created: r.created, active: r.active });
    } catch (err) {
      if (!(err instanceof UnprocessableError)) throw err;
      const problems = (err.problems as Problem[]).filter((p) => p.severity === 'error').map((p) => `${p.elementId ? `<${p.elementId}> ` : ''}${p.message}`);
      // On a database that already runs a version, a file that does not deploy must not stop the service.
      const running = await system.db('active_definitions as a').join('definitions as d', 'd.id', 'a.definition_id').where('d.kind', 'bpmn').first('a.key');
      if (running) {
        system.log.error({ file, problems }, `${file} was not deployed: ${err.message} The active versions keep running; fix the file, or deploy it with pakn deploy / the API.`);
        out.push({ file, key: '', version: 0, created: false, active: false, problems });
        continue;
      }
      throw new UnprocessableError(`${file} cannot be deployed: ${problems.join(' | ')}`, [], err.problems);
    }
  }
  return out;
}

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { connect, lockDataDir, type Db } from '../db/connect.js';
import { hasActiveProcess } from '../db/definitions.js';
import { ensureEventPartitions, migrateLatest, migrationsCurrent } from '../db/migrate.js';
import { CHECKPOINT_JOB, checkpointJob, Checkpoints, scheduleCheckpoints, signingKey } from '../engine/checkpoints.js';
import { systemClock, type Clock } from '../engine/clock.js';
import { DefinitionStore, isDmn } from '../engine/definitions.js';
import { DryRun } from '../engine/dry-run.js';
import { UnprocessableError } from '../engine/errors.js';
import type { Problem } from '../engine/validate.js';
import { CALENDAR_FUNCTIONS, DEFAULT_CALENDAR_SETTINGS, feelFunctions, LiveCalendar, readCalendarFile } from '../engine/hotline/calendar.js';
import { Catalogue, candidateGroupNames, DEFAULT_CODE_FIELDS, flagCalendarFallback, readCatalogueFiles, syncCalendar } from '../engine/hotline/catalogue.js';
import { vietnamDate } from '../engine/vietnam-time.js';
import { HOTLINE_PROCESS, PERSONAL_VARIABLES, READ_ELEMENTS, READ_MESSAGES, TASK_PROPERTIES } from '../engine/hotline/contract.js';
import { deliveryHandlers } from '../engine/hotline/delivery.js';
import { onCommandSaved } from '../engine/hotline/webhooks.js';
import { DecisionStore } from '../engine/decisions.js';
import { FormRegistry, FormStore } from '../engine/forms.js';
import { checkTaskRowAgainstHistory } from '../engine/history.js';
import { JOB_GONE, JobExecutor, type JobHandler } from '../engine/jobs.js';
import { Runtime } from '../engine/runtime.js';
import { newCaseCode } from '../engine/hotline/case-code.js';
import { TASK_ROLES, taskPolicy } from '../engine/hotline/policy.js';
import { checkIntake, checkTaskOutput, renderOutgoing, templateReads } from '../engine/hotline/tasks.js';
import { HttpSmsGateway, LogSmsGateway, SmsTemplates, type SmsGateway } from '../engine/hotline/sms.js';
import type { ResolveHost } from '../engine/hotline/webhook-targets.js';
import { ApiKeys } from './auth.js';
import { engineCacheSize, type Config } from './config.js';
import type { AppDeps } from './deps.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { ActiveVersions } from '../engine/active-versions.js';
import { StartCaseBody } from './schemas.js';

/** Intake starts the hotline's process when a request names no other. */
export const DEFAULT_PROCESS = HOTLINE_PROCESS;

/**
 * What intake may start the hotline's process with: its schema's variables and the catalogue codes it
 * checks. Validation checks the names a diagram of that process reads against them (and earlier steps).
 */
export const INTAKE_VARIABLES: Record<string, readonly string[]> = {
  [HOTLINE_PROCESS]: [...Object.keys((StartCaseBody.properties as any).variables.properties), ...Object.keys(DEFAULT_CODE_FIELDS)],
};

export interface System extends AppDeps {
  executor: JobExecutor;
  /** What each job type does; the executor runs these, tests may run them with their own clock. */
  jobHandlers: Record<string, JobHandler>;
  sms: SmsGateway;
  decisions: DecisionStore;
  /** The stored working-day calendar, reloaded with the catalogue (Catalogue.ensureCurrent). */
  calendar: LiveCalendar;
  close(): Promise<void>;
}

/**
 * Wire one node: database (migrated), forms, definitions, runtime, keys and a
 * job executor (not started). Everything a request needs is here; nothing of
 * a case is.
 */
export async function createSystem(config: Config, options: { log?: Logger; db?: Db; lock?: boolean; sms?: SmsGateway; clock?: Clock; resolveHost?: ResolveHost } = {}): Promise<System> {
  const log = options.log ?? createLogger(config.logLevel);
  // The node's one clock: every component below reads "now" from it (tests pass a ManualClock).
  const clock = options.clock ?? systemClock;
  let release = () => {};
  if (!options.db && !config.databaseUrl && config.dataDir !== 'memory' && options.lock !== false) release = lockDataDir(config.dataDir);
  const db = options.db ?? connect({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log });
  try {
    if (config.migrationDatabaseUrl) {
      // Two roles: the owner migrates (and grants), the application's role may not (it owns nothing).
      const owner = connect({ databaseUrl: config.migrationDatabaseUrl, poolMax: 1, log });
      try {
        await migrateLatest(owner);
      } finally {
        await owner.destroy();
      }
      if (!(await migrationsCurrent(db))) throw new Error('PAKN_MIGRATION_DATABASE_URL and DATABASE_URL name different databases: the application\'s database has pending migrations.');
    } else {
      await migrateLatest(db);
    }
    await ensureEventPartitions(db, clock.now());
  } catch (err) {
    release();
    throw err;
  }
  // processes/forms is the installed library; each diagram version keeps the forms deployed with it.
  const forms = new FormStore(db, FormRegistry.fromDirectory(join(config.processesDir, 'forms')));
  // The active process and decision versions, kept while the reference version proves them current (engine/active-versions.ts).
  const active = new ActiveVersions();
  // A routing table naming a retired agency routes to its successor in force (the catalogue, made just below).
  const decisions = new DecisionStore(db, active, (row) => catalogue.currentCodes(row, clock.now()));
  const calendarFile = join(config.processesDir, 'calendar', 'vn-holidays.json');
  // The file seeds the stored calendar (years an analyst changed through the API stay); deadlines read the database's.
  const calendarData = existsSync(calendarFile) ? readCalendarFile(calendarFile) : null;
  const calendar = new LiveCalendar(calendarData ? { timeZone: calendarData.timeZone, weekend: calendarData.weekend, workingDayEnds: calendarData.workingDayEnds } : DEFAULT_CALENDAR_SETTINGS);
  if (calendarData) await syncCalendar(db, calendarData, clock);
  const catalogue = new Catalogue(db, clock, { calendar, schemaDir: join(config.processesDir, 'catalogue'), onCurrent: (version) => active.at(version) });
  await catalogue.refresh();
  const smsTemplates = SmsTemplates.fromFile(join(config.processesDir, 'sms', 'templates.json'));
  const definitions = new DefinitionStore(db, {
    formStore: forms,
    decisionIds: () => decisions.ids(),
    functions: [...CALENDAR_FUNCTIONS],
    candidateGroups: (at) => (catalogue.isEmpty() ? undefined : candidateGroupNames(TASK_ROLES, catalogue.list('agencies'), vietnamDate(at))),
    // The routing table's agency must be an agency in force when the table takes effect.
    decisionOutputCodes: (at) => (catalogue.isEmpty() ? undefined : { agency: { ...candidateGroupNames([], catalogue.list('agencies'), vietnamDate(at)), what: 'agencies catalogue in force' } }),
    // The hotline's contract: a diagram of its process that drops an element the hotline reads is refused.
    readElements: READ_ELEMENTS,
    // What the SMS templates read and the messages the hotline delivers by name: a diagram is checked against them.
    messageTemplates: { [HOTLINE_PROCESS]: templateReads(smsTemplates) },
    readMessages: READ_MESSAGES,
    taskProperties: TASK_PROPERTIES,
    intakeVariables: INTAKE_VARIABLES,
    clock,
    active,
  });
  const metrics = new Metrics(db, clock);
  metrics.watchCalendar(async () => {
    await catalogue.ensureCurrent();
    return catalogue.missingYears(clock.now());
  });
  const functions = feelFunctions(calendar);
  const runtime = new Runtime(db, definitions, {
    clock,
    functions,
    decisions,
    policy: taskPolicy,
    forms,
    newCaseCode,
    personalVariables: PERSONAL_VARIABLES,
    engineCacheSize: config.engineCacheSize ?? engineCacheSize(),
    checkStart: checkIntake(catalogue),
    // The task's form is its case's version's: looked up on the locked task row, checked with the output.
    checkOutput: ((hotline) => (task, output, at) => {
      forms.checkTask(task, output);
      hotline(task, output, at);
    })(checkTaskOutput(catalogue)),
    // A task row changed outside the application (say, another agency's group written into it) is not acted on.
    checkTaskRow: async (trx, task, kase) => {
      await checkTaskRowAgainstHistory(trx, task, new Date(kase.created_at), kase.taskHistory);
      await forms.prepareTask(trx, task, kase);
    },
    // Events for agencies' systems (feed, webhooks) and task deadline jobs, in the command's transaction (held for its history statement).
    onSave: ((published, flagged) => async (...args: Parameters<typeof published>) => {
      await published(...args);
      const [trx, kase, events, now] = args;
      return flagged(trx, kase, events, now);
    })(onCommandSaved(), flagCalendarFallback(catalogue)),
    renderMessage: renderOutgoing(smsTemplates, (code) => catalogue.get('agencies', code)?.name),
    onCommand: ({ command, caseId, ms, outcome }) => {
      metrics.observeCommand(command, ms, outcome);
      log.debug({ command, caseId, ms: Math.round(ms), outcome }, 'command');
    },
  });
  // A code the catalogue never held is a typo, refused however the key is made. A retired one is refused by the API
  // (POST /v1/keys wants it in force), while the command line may still make it: that agency finishes its open cases.
  const keys = new ApiKeys(db, clock, (agency) => {
    if (!catalogue.isEmpty() && !catalogue.get('agencies', agency)) catalogue.checkCodes({ agency }, clock.now());
  });
  const sms =
    options.sms ??
    (config.smsUrl
      ? new HttpSmsGateway(config.smsUrl, config.smsToken)
      : new LogSmsGateway((m) => {
          // The text carries the answer (and the phone is the citizen's): neither goes to the log at info.
          log.info({ idempotencyKey: m.idempotencyKey, chars: m.text.length }, 'sms delivered to the log (no PAKN_SMS_URL configured)');
          log.debug({ phone: m.to, text: m.text }, 'sms text (debug only)');
        }));
  const checkpoints = new Checkpoints(db, clock, config.checkpointKeyPem ? signingKey(config.checkpointKeyPem) : undefined);
  const checkpointMinutes = config.checkpointIntervalMinutes ?? 60;
  const jobHandlers: Record<string, JobHandler> = {
    // A timer's case computes deadlines with the catalogue and calendar as stored when its batch was claimed (another
    // node may have changed them): the claim brought their version along.
    timer: async (job) => {
      await catalogue.ensureCurrent(job.reference_version ?? undefined);
      // A fired timer's job row went with the command that fired it: no lease to give back.
      return (await runtime.fireTimer(job.id, job.case_id)) === 'fired' ? JOB_GONE : undefined;
    },
    [CHECKPOINT_JOB]: checkpointJob(db, checkpoints, clock, checkpointMinutes * 60_000),
    ...deliveryHandlers(db, sms, clock, (level, msg, data) => log[level](data, msg), config.webhookTargets ?? ['https://'], options.resolveHost),
  };
  if (checkpoints.key && checkpointMinutes > 0) await scheduleCheckpoints(db, clock);
  const executor = new JobExecutor(db, {
    pollMs: config.jobPollMs,
    handlers: jobHandlers,
    log: (level, msg, data) => log[level](data ?? {}, msg),
    clock,
  });
  return {
    db,
    definitions,
    decisions,
    calendar,
    catalogue,
    smsTemplates,
    metrics,
    clock,
    writeRateLimitPerMinute: config.writeRateLimitPerMinute,
    webhookTargets: config.webhookTargets ?? ['https://'],
    resolveHost: options.resolveHost,
    trustProxy: config.trustProxy,
    runtime,
    checkpoints,
    dryRun: new DryRun(db, definitions, decisions, functions, clock),
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
      runtime.engines.clear();
      if (!options.db) await db.destroy();
      release();
    },
  };
}

/**
 * Load processes/ into the database: the catalogue (replaced by the files'
 * content), then decision files, then diagrams (identical ones are no-ops).
 */
export async function deployProcesses(system: System, dir: string, deployedBy = 'system:seed'): Promise<Array<{ file: string; key: string; version: number; created: boolean; active: boolean; problems?: string[] }>> {
  if (!existsSync(dir)) return [];
  const catalogueDir = join(dir, 'catalogue');
  if (existsSync(join(catalogueDir, 'catalogue.schema.json'))) {
    await system.catalogue.sync(readCatalogueFiles(catalogueDir));
  }
  // Versions deployed before forms were versioned keep the installed forms from now on, whatever the files become.
  await system.forms.adoptInstalled();
  const out = [];
  const files = readdirSync(dir).filter((f) => f.endsWith('.bpmn') || f.endsWith('.dmn'));
  // Decisions first: a diagram's business-rule tasks must reference deployed decisions.
  files.sort((a, b) => Number(isDmn(readFileSync(join(dir, b), 'utf8'))) - Number(isDmn(readFileSync(join(dir, a), 'utf8'))) || a.localeCompare(b));
  for (const file of files) {
    try {
      // A changed file becomes a new, staged version once a version of its key is active: analysts switch it on.
      // With the installed forms (processes/forms): a changed form file, like a changed diagram, makes a new version.
      const r = await system.definitions.deploy(readFileSync(join(dir, file), 'utf8'), { deployedBy, comment: `seed from ${file}`, activate: 'if-none-active', forms: system.forms.installed() });
      out.push({ file, key: r.key, version: r.version, created: r.created, active: r.active });
    } catch (err) {
      if (!(err instanceof UnprocessableError)) throw err;
      const problems = (err.problems as Problem[]).filter((p) => p.severity === 'error').map((p) => `${p.elementId ? `<${p.elementId}> ` : ''}${p.message}`);
      // On a database that already runs a version, a file that does not deploy must not stop the service.
      if (await hasActiveProcess(system.db)) {
        system.log.error({ file, problems }, `${file} was not deployed: ${err.message} The active versions keep running; fix the file, or deploy it with pakn deploy / the API.`);
        out.push({ file, key: '', version: 0, created: false, active: false, problems });
        continue;
      }
      throw new UnprocessableError(`${file} cannot be deployed: ${problems.join(' | ')}`, [], err.problems);
    }
  }
  return out;
}

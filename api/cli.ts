#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { userInfo } from 'node:os';
import { connect, DataDirInUseError, isDatabaseUnavailable, lockDataDir } from '../db/connect.js';
import { migrateLatest, migrationsCurrent } from '../db/migrate.js';
import { UnprocessableError } from '../engine/errors.js';
import { FormRegistry, taskFormsIn } from '../engine/forms.js';
import { CALENDAR_FUNCTIONS } from '../engine/hotline/calendar.js';
import { candidateGroupNames, readCatalogueFiles } from '../engine/hotline/catalogue.js';
import { importCalendar } from '../engine/hotline/catalogue.js';
import { vietnamDate } from '../engine/vietnam-time.js';
import { TASK_ROLES } from '../engine/hotline/policy.js';
import { validateBpmn, type Problem } from '../engine/validate.js';
import { validateDmn } from '../engine/dmn.js';
import { isDmn } from '../engine/definitions.js';
import { deployWithImpact } from '../engine/dry-run.js';
import { HOTLINE_PROCESS, READ_ELEMENTS, READ_MESSAGES, TASK_PROPERTIES } from '../engine/hotline/contract.js';
import { SmsTemplates } from '../engine/hotline/sms.js';
import { templateReads } from '../engine/hotline/tasks.js';
import { BUILT_IN_SERVICES } from '../engine/session.js';
import { systemClock } from '../engine/clock.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { defaultWorkers, serve, serveCluster } from './server.js';
import { createSystem, INTAKE_VARIABLES, type System } from './system.js';
import { join } from 'node:path';

const USAGE = `pakn — workflow for the 1022 public-service hotline

  pakn serve [--workers N]           serve the API and run jobs (PORT, DATABASE_URL, PAKN_DATA_DIR); N processes
                                     share the port, each with its job executor (default: the machine's cores on
                                     PostgreSQL, 1 with the embedded database)
  pakn migrate                       bring the database schema up to date
  pakn lint FILE... [--impact]       validate BPMN and DMN files (decisions named on the same line are
                                     known to the diagrams); exit 1 when any has an error; --impact also replays
                                     the open cases of the active version (database) and exits 1 when one is at risk
  pakn deploy FILE... [--comment C] [--staged] [--confirm --reason R] [--forms DIR]
                                     deploy BPMN/DMN files (active at once unless --staged); exit 1 when any is refused;
                                     --forms: deploy the diagrams with the task forms in DIR (<formKey>.schema.json);
                                     without it a form keeps the newest version's, else the installed one;
                                     prints the impact on open cases, and a version that would fire a timer at once or
                                     leave a task without candidate group needs --confirm --reason (kept in the history)
  pakn keys create --role R [--role R2] [--agency CODE] --name N
                                     create an API key; the key is printed alone on the last line
  pakn keys list                     list keys (never their secrets)
  pakn keys revoke ID                revoke a key at once
  pakn jobs drain                    run every due job once, then exit (ops, cron, tests)
  pakn calendar import FILE [--year YYYY]
                                     import a year's holidays and make-up working days (the shape of
                                     processes/calendar/vn-holidays.json); every year is checked before any is
                                     written, each change is in the history and in force on every node at once

An embedded data folder belongs to one process: stop the server before keys,
deploy or migrate, or use the admin API (POST /v1/keys, POST /v1/definitions).`;

class UsageError extends Error {}

/** The files named on the command line, or a usage error naming the ones that cannot be read. */
function readFiles(command: string, files: string[]): Array<{ file: string; xml: string }> {
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) throw new UsageError(`pakn ${command}: no such file: ${missing.join(', ')}`);
  return files.map((file) => ({ file, xml: readFileSync(file, 'utf8') }));
}

function printProblems(file: string, problems: Problem[]) {
  // file:line:column first, as compilers print it, so editors and CI annotations can jump there.
  for (const p of problems) console.error(`${file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''}: ${p.severity} [${p.rule}]${p.elementId ? ` <${p.elementId}>` : ''} ${p.message}`);
}

async function withSystem<T>(config: Config, fn: (s: System) => Promise<T>): Promise<T> {
  const system = await createSystem({ ...config, logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel });
  try {
    return await fn(system);
  } finally {
    await system.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const config = loadConfig();
  switch (command) {
    case 'serve': {
      const { values } = parseArgs({ args: rest, options: { workers: { type: 'string' } } });
      const workers = values.workers === undefined ? defaultWorkers() : Number(values.workers);
      if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new UsageError(`pakn serve --workers must be a whole number from 1 to 256; got "${values.workers}".`);
      const running = values.workers === undefined && !config.databaseUrl ? await serve(config) : await serveCluster(config, workers);
      const shutdown = async () => {
        await running.stop();
        process.exit(0);
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
      return -1;
    }
    case 'migrate': {
      const release = config.databaseUrl ? () => {} : lockDataDir(config.dataDir);
      // Migrations run as the owner role when one is configured (the application's role may not change the schema).
      const db = connect({ databaseUrl: config.migrationDatabaseUrl ?? config.databaseUrl, dataDir: config.dataDir });
      try {
        const pending = !(await migrationsCurrent(db));
        await migrateLatest(db);
        console.log(pending ? 'Applied the pending migrations: the database schema is current.' : 'Nothing to apply: the database schema was already current.');
      } finally {
        await db.destroy();
        release();
      }
      return 0;
    }
    case 'lint': {
      const { positionals, values } = parseArgs({ args: rest, allowPositionals: true, options: { impact: { type: 'boolean', default: false } } });
      if (!positionals.length) throw new UsageError('pakn lint needs at least one FILE.');
      const formRegistry = FormRegistry.fromDirectory(join(config.processesDir, 'forms'));
      const forms = formRegistry.keys();
      const messageTemplates = { [HOTLINE_PROCESS]: templateReads(SmsTemplates.fromFile(join(config.processesDir, 'sms', 'templates.json'))) };
      const catalogueDir = join(config.processesDir, 'catalogue');
      const candidateGroups = existsSync(join(catalogueDir, 'agencies.json'))
        ? candidateGroupNames(TASK_ROLES, readCatalogueFiles(catalogueDir).agencies, vietnamDate(systemClock.now()))
        : undefined;
      // Decision files given on the same command line define the decisions diagrams may reference.
      const texts = readFiles('lint', positionals);
      const dmnResults = new Map<string, Awaited<ReturnType<typeof validateDmn>>>();
      for (const { file, xml } of texts) if (isDmn(xml)) dmnResults.set(file, await validateDmn(xml));
      const decisions = dmnResults.size ? [...dmnResults.values()].flatMap((r) => r.parsed?.decisions.map((d) => d.id) ?? []) : undefined;
      const decisionOutputs = Object.fromEntries([...dmnResults.values()].flatMap((r) => r.parsed?.decisions.map((d) => [d.id, d.outputs.map((o) => o.name)]) ?? []));
      let failed = false;
      for (const { file, xml } of texts) {
        const { problems } = dmnResults.get(file) ?? (await validateBpmn(xml, { forms, services: BUILT_IN_SERVICES, decisions, functions: [...CALENDAR_FUNCTIONS], candidateGroups, readElements: READ_ELEMENTS, taskProperties: TASK_PROPERTIES, intakeVariables: INTAKE_VARIABLES, formFields: formRegistry.fieldsByForm(), decisionOutputs, messageTemplates, readMessages: READ_MESSAGES }));
        printProblems(file, problems);
        if (problems.some((p) => p.severity === 'error')) failed = true;
        else console.log(`${file}: ok${problems.length ? ` (${problems.length} warning(s))` : ''}`);
      }
      // --impact: the diagrams that passed, replayed against the open cases of the version each would replace (needs the database).
      const candidates = texts.filter(({ file, xml }) => !dmnResults.has(file) && !isDmn(xml));
      if (values.impact && !failed && candidates.length) {
        await withSystem(config, async (system) => {
          for (const { file, xml } of candidates) {
            const key = (await system.definitions.validate(xml)).key ?? '';
            const i = await system.dryRun.impact({ key, xml });
            console.log(`${file}: impact on the ${i.openCases} open case(s) of version ${i.replacesVersion ?? '(none active)'}: ${i.wait} wait, ${i.move} move, ${i.timerAtOnce} fire a timer at once, ${i.noCandidateGroup} land on a task with no candidate group, ${i.failed} fail`);
            if (i.risky) {
              printProblems(file, i.problems);
              failed = true;
            }
          }
        });
      }
      return failed ? 1 : 0;
    }
    case 'deploy': {
      const { positionals, values } = parseArgs({ args: rest, allowPositionals: true, options: { comment: { type: 'string' }, staged: { type: 'boolean', default: false }, confirm: { type: 'boolean', default: false }, reason: { type: 'string' }, forms: { type: 'string' } } });
      if (!positionals.length) throw new UsageError('pakn deploy needs at least one FILE.');
      if (values.forms !== undefined && !existsSync(values.forms)) throw new UsageError(`pakn deploy --forms: no such folder: ${values.forms}`);
      // Forms edited in git go with the diagram: each version keeps the forms it was deployed with.
      const forms = values.forms === undefined ? undefined : taskFormsIn(values.forms);
      const texts = readFiles('deploy', positionals);
      // Recorded as the deployer: the operating-system account that ran the command.
      const deployedBy = `cli:${userInfo().username}`;
      return withSystem(config, async (system) => {
        let failed = false;
        for (const { file, xml } of texts) {
          try {
            // The impact preview: the open cases of the version it replaces, replayed; a risky version needs --confirm --reason.
            const r = await deployWithImpact(system.definitions, system.dryRun, xml, { deployedBy, comment: values.comment, activate: !values.staged, confirm: values.confirm, reason: values.reason, forms });
            console.log(`${file}: ${r.key} version ${r.version}${r.created ? ' deployed' : ' (identical to the deployed version)'}${r.active ? ', active' : ', staged (not active)'}`);
            const i = r.impact;
            if (i && i.replacesVersion !== null) {
              console.log(`${file}: impact on the ${i.openCases} open case(s) of version ${i.replacesVersion}${i.replayed < i.openCases ? ` (${i.replayed} replayed)` : ''}: ${i.wait} wait, ${i.move} move, ${i.timerAtOnce} fire a timer at once, ${i.noCandidateGroup} land on a task with no candidate group, ${i.failed} fail${i.risky ? ' (confirmed with --reason)' : ''}`);
            }
          } catch (err) {
            if (!(err instanceof UnprocessableError)) throw err;
            failed = true;
            printProblems(file, err.problems as Problem[]);
            console.error(`${file}: refused (problems above); nothing was deployed from it.`);
          }
        }
        return failed ? 1 : 0;
      });
    }
    case 'keys': {
      const [sub, ...args] = rest;
      const { positionals, values } = parseArgs({
        args,
        allowPositionals: true,
        options: { role: { type: 'string', multiple: true }, agency: { type: 'string' }, name: { type: 'string' } },
      });
      if (sub === 'create' && (!values.name || !values.role?.length)) throw new UsageError('pakn keys create needs --name N and at least one --role R.');
      if (sub === 'revoke' && positionals.length !== 1) throw new UsageError('pakn keys revoke needs the key ID.');
      if (!['create', 'list', 'revoke'].includes(sub ?? '')) throw new UsageError(`Unknown keys command "${sub ?? ''}".`);
      return withSystem(config, async (system) => {
        if (sub === 'create') {
          const { key, row } = await system.keys.create({ name: values.name!, roles: values.role!.flatMap((r) => r.split(',')), agency: values.agency, createdBy: 'cli' });
          console.log(`Created key ${row.id} for "${row.name}" (${row.roles.join(', ')}${row.agency ? `, ${row.agency}` : ''}). It is shown only now:`);
          console.log(key);
          return 0;
        }
        if (sub === 'list') {
          const keys = await system.keys.list();
          for (const k of keys) {
            console.log(`${k.id}  ${k.prefix}…  ${k.roles.join(',').padEnd(12)} ${String(k.agency ?? '').padEnd(14)} ${k.revoked_at ? 'REVOKED ' : ''}${k.name}`);
          }
          const revoked = keys.filter((k) => k.revoked_at).length;
          console.log(keys.length ? `${keys.length} key(s), ${revoked} revoked.` : 'No API keys yet: create one with pakn keys create --role ROLE --name NAME.');
          return 0;
        }
        const before = (await system.keys.list()).find((k) => k.id === positionals[0]);
        await system.keys.revoke(positionals[0]);
        console.log(before?.revoked_at ? `Key ${positionals[0]} was already revoked; nothing changed.` : `Key ${positionals[0]} ("${before?.name ?? ''}") revoked: it is refused from now on.`);
        return 0;
      });
    }
    case 'calendar': {
      const [sub, ...args] = rest;
      const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { year: { type: 'string' } } });
      if (sub !== 'import' || positionals.length !== 1) throw new UsageError('pakn calendar import needs one FILE (and optionally --year YYYY).');
      const year = values.year === undefined ? undefined : Number(values.year);
      if (year !== undefined && !/^\d{4}$/.test(values.year!)) throw new UsageError(`pakn calendar import --year must be a four-digit year; got "${values.year}".`);
      const [{ file, xml: text }] = readFiles('calendar import', positionals);
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (err: any) {
        throw new UsageError(`pakn calendar import: ${file} is not JSON: ${err?.message ?? err}`);
      }
      return withSystem(config, async (system) => {
        try {
          const actor = { id: `cli:${userInfo().username}`, name: `pakn calendar import ${file}`, roles: ['analyst'], agency: null };
          for (const r of await importCalendar(system.catalogue, data, actor, year)) {
            console.log(`${r.year}: ${r.holidays} day(s) off, ${r.workingDays} make-up working day(s) — ${r.outcome}`);
          }
          return 0;
        } catch (err) {
          if (!(err instanceof UnprocessableError)) throw err;
          console.error(`${file}: ${err.message}`);
          for (const p of err.errors) console.error(`${file}: ${p.path} ${p.message}`);
          return 1;
        }
      });
    }
    case 'jobs': {
      if (rest[0] !== 'drain') throw new UsageError(`Unknown jobs command "${rest[0] ?? ''}".`);
      return withSystem(config, async (system) => {
        const ran = await system.executor.drain();
        console.log(`Ran ${ran} due job(s).`);
        return 0;
      });
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command ? 0 : 2;
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    // parseArgs refusing an option (unknown, or missing its value) is a usage error too, not a crash with a stack.
    if (err instanceof UsageError || String(err?.code ?? '').startsWith('ERR_PARSE_ARGS')) {
      console.error(`${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    if (err instanceof ConfigError || err instanceof DataDirInUseError || err?.status) {
      console.error(`pakn: ${err.message}`);
      // A refused input names its fields (as the API's problem+json does): the code, and what to use instead.
      for (const p of (err.errors ?? []) as Array<{ path: string; message: string }>) console.error(`pakn: ${p.path} ${p.message}`);
      process.exit(err instanceof ConfigError ? 78 : 1);
    }
    if (isDatabaseUnavailable(err)) {
      // The server named in DATABASE_URL is not there (or refuses): say which setting, not a driver's stack trace.
      console.error(`pakn: the database cannot be reached (${String(err?.code ?? err?.message ?? err)}): check DATABASE_URL (and PAKN_MIGRATION_DATABASE_URL) and that PostgreSQL runs.`);
      process.exit(1);
    }
    createLogger('error').error({ err }, 'pakn failed');
    process.exit(1);
  },
);

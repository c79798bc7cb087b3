/**
 * npm run chaos [-- --short]: the chaos suite of issue 15 (docs/reliability.md, "Chaos").
 *
 * Starts its own PostgreSQL cluster in a temporary folder on a free loopback
 * port (or uses DATABASE_URL's server, in databases of its own), real
 * `pakn serve` processes against it, and then:
 *   a. kill -9 of one of two nodes during intakes and task completions with Idempotency-Keys;
 *   b. PostgreSQL stopped for 10 s mid-load (own cluster only);
 *   c. two nodes firing thousands of due timers;
 *   d. requests generated from the served OpenAPI document, every operation and role, hostile inputs.
 * Prints one table; exits 1 when a figure that must be zero is not. Bounded in
 * time (10 minutes; 4 with --short): it stops itself and always cleans up
 * (nodes killed, databases dropped, its cluster stopped and removed).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createDatabase, dropDatabase } from '../../db/connect.js';
import { createLogger } from '../../api/logger.js';
import { createSystem } from '../../api/system.js';
import { ROLES } from '../../engine/hotline/policy.js';
import { Checks } from './checks.js';
import { pool, send, sendRetrying, Tally } from './client.js';
import { Cluster, freePort } from './cluster.js';
import { fuzzScenario } from './fuzz.js';
import { build, BUILD, Node } from './nodes.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({ options: { short: { type: 'boolean', default: false }, only: { type: 'string' }, bound: { type: 'string' } } });
const SHORT = flags.short;
/** --only a,c: run some scenarios (when working on one). */
const ONLY = new Set((flags.only ?? 'a,b,c,d').split(',').map((x) => x.trim()));
const SIZE = SHORT ? { a: 150, b: 100, bTimers: 40, c: 200, d: 700 } : { a: 1000, b: 600, bTimers: 200, c: 5000, d: 10_000 };
/** --bound SECONDS: another bound than 10 minutes (4 with --short), e.g. on a machine busy with other work. */
const BOUND_MS = flags.bound ? Number(flags.bound) * 1000 : SHORT ? 240_000 : 600_000;
const started = Date.now();
const RUN = randomBytes(3).toString('hex');

export type Keys = Record<string, Record<string, string>>;
export interface Row {
  scenario: string;
  load: string;
  figures: Array<[string, number | string, 'zero' | 'info']>;
}

const rows: Row[] = [];
const cleanups: Array<() => Promise<void>> = [];
const log = (line: string) => process.stdout.write(`[chaos ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cleanup() {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch (err) {
      log(`cleanup: ${String(err)}`);
    }
  }
}

// The bound: whatever happens, the run ends and cleans up.
const bound = setTimeout(async () => {
  log(`bound of ${BOUND_MS / 1000} s reached: stopping, cleaning up; the scenarios not finished are missing from the table`);
  printTable();
  await cleanup();
  process.exit(2);
}, BOUND_MS);
// A scenario's background step (a kill, a restart) that throws must not leave nodes and a cluster behind.
process.on('unhandledRejection', async (err: any) => {
  log(`chaos run failed: ${err?.stack ?? err}`);
  printTable();
  await cleanup();
  process.exit(1);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, async () => {
    await cleanup();
    process.exit(130);
  });
}

/** One API key per role of the policy, created in the database the nodes use. */
async function createKeys(url: string): Promise<Keys> {
  const system = await createSystem(
    { port: 0, host: '127.0.0.1', databaseUrl: url, dataDir: 'memory', processesDir: join(here, '..', '..', 'processes'), logLevel: 'silent', jobPollMs: 1000, seedDemo: false, writeRateLimitPerMinute: 0, trustProxy: false },
    { log: createLogger('silent') },
  );
  const agencies: Record<string, string | null> = { operator: 'TONG-DAI-1022', agency: 'SNNMT', coordinator: 'VP-UBND', reviewer: 'SNV', analyst: 'SNV', admin: 'SKHCN' };
  const keys: Keys = {};
  try {
    for (const role of ROLES) {
      const { key } = await system.keys.create({ name: `chaos ${role}`, roles: [role], agency: agencies[role] ?? null, createdBy: 'chaos' });
      keys[role] = { Authorization: `Bearer ${key}` };
    }
  } finally {
    await system.close();
  }
  return keys;
}

/** Deploy the chaos timer process (a case that waits `seconds`, then ends) as the analyst. */
async function deployTimers(node: Node, keys: Keys, seconds: number): Promise<void> {
  const xml = readFileSync(join(here, 'timers.bpmn'), 'utf8').replace('__SECONDS__', String(seconds));
  const a = await send(node.base, 'POST', '/v1/definitions', keys.analyst, { xml, comment: `chaos run ${RUN}: timers after ${seconds} s`, confirm: true, reason: 'chaos run' });
  if (a.status !== 201 && a.status !== 200) throw new Error(`deploying the chaos timer process answered ${a.status}: ${JSON.stringify(a.body).slice(0, 500)}`);
}

const intakeBody = (title: string, process?: string) => ({ ...(process ? { process } : {}), variables: { title, description: `Phản ánh thử tải (chaos) ${title}.`, channel: 'call' } });

// ------------------------------------------------------------------ a

async function scenarioA(nodes: Node[], keys: Keys, checks: Checks): Promise<void> {
  const n = SIZE.a;
  const prefix = `chaos ${RUN} a `;
  const keyPrefix = `chaos-${RUN}-a-`;
  const tally = new Tally();
  const bases = () => nodes.map((x) => x.base);
  const failures: string[] = [];
  let done = 0;
  let killedAt = 0;
  let restartedAt = 0;
  let killing: Promise<void> | undefined;
  let alreadyCompleted = 0;
  let replayed = 0;
  const codes = new Map<number, string>();
  const t0 = Date.now();
  await pool(n, 32, async (i) => {
    const intake = await sendRetrying(bases, i, 'POST', '/v1/cases', { ...keys.operator, 'Idempotency-Key': `${keyPrefix}${i}-intake` }, intakeBody(`${prefix}${i}`), tally, 'intake');
    if (intake.answer.status !== 201) {
      failures.push(`intake ${i}: ${intake.answer.status} ${JSON.stringify(intake.answer.body).slice(0, 200)}`);
      return;
    }
    if (intake.retried) replayed++;
    codes.set(i, intake.answer.body.code);
    const task = (intake.answer.body.tasks ?? []).find((t: any) => t.elementId === 'classify');
    if (!task) {
      failures.push(`intake ${i}: no classify task in the answer`);
      return;
    }
    const c = await sendRetrying(bases, i + 1, 'POST', `/v1/tasks/${task.id}/complete`, { ...keys.operator, 'Idempotency-Key': `${keyPrefix}${i}-complete` }, { field: 'DAT-DAI' }, tally, 'complete');
    // A retried completion whose first attempt committed finds the task closed: 409 "no longer open" is its answer.
    if (c.answer.status === 409 && c.retried && /no longer open|no longer waiting/.test(JSON.stringify(c.answer.body))) alreadyCompleted++;
    else if (c.answer.status !== 200) failures.push(`complete ${i}: ${c.answer.status} ${JSON.stringify(c.answer.body).slice(0, 200)}`);
    done++;
    // kill -9 node A once a third of the clients are through, while the others are mid-request; restart it 3 s later.
    if (!killing && done >= n / 3) {
      killing = (async () => {
        killedAt = Date.now();
        await nodes[0].kill9();
        log(`a: node A killed (kill -9) after ${done} of ${n} clients`);
        await sleep(3000);
        await nodes[0].start(300_000);
        restartedAt = Date.now();
        log(`a: node A restarted`);
      })();
    }
  });
  await killing;
  const seconds = (Date.now() - t0) / 1000;
  // The verdict from the database: one case per intake key, one completion per case, no key left unanswered.
  const byTitle = await checks.casesByTitle(prefix);
  let lost = 0;
  let doubled = 0;
  let mismatched = 0;
  const { answered, stuck } = await checks.keys(keyPrefix);
  for (let i = 0; i < n; i++) {
    const found = byTitle.get(`${prefix}${i}`) ?? [];
    if (found.length === 0) lost++;
    if (found.length > 1) doubled++;
    const stored = answered.get(`${keyPrefix}${i}-intake`);
    if (found.length === 1 && (stored !== found[0] || (codes.has(i) && codes.get(i) !== found[0]))) mismatched++;
  }
  const completions = await checks.eventsPerCase(prefix, 'task.completed', 'classify');
  const completionsLost = [...completions.values()].filter((x) => x === 0).length;
  const completionsDoubled = [...completions.values()].filter((x) => x > 1).length;
  for (const f of failures.slice(0, 5)) log(`a: ${f}`);
  rows.push({
    scenario: 'a. kill -9 one of two nodes',
    load: `${n} intakes + ${n} completions, 32 clients, ${seconds.toFixed(0)} s; node A killed at ${((killedAt - t0) / 1000).toFixed(1)} s, back at ${((restartedAt - t0) / 1000).toFixed(1)} s`,
    figures: [
      ['intakes lost (no case)', lost, 'zero'],
      ['intakes doubled (> 1 case per key)', doubled, 'zero'],
      ['keys stuck (no stored answer)', stuck.length, 'zero'],
      ['answer ≠ stored case', mismatched, 'zero'],
      ['completions lost', completionsLost, 'zero'],
      ['completions doubled', completionsDoubled, 'zero'],
      ['clients not answered in the end', failures.length, 'zero'],
      ['500 answers', tally.count((s) => s >= 500 && s !== 503), 'zero'],
      ['retried intakes', replayed, 'info'],
      ['retried completions found done (409)', alreadyCompleted, 'info'],
      ['answers by status', statuses(tally), 'info'],
    ],
  });
}

function statuses(t: Tally): string {
  return Object.entries(t.byStatus)
    .sort()
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}

// ------------------------------------------------------------------ b

async function scenarioB(nodes: Node[], keys: Keys, checks: Checks, cluster: Cluster | null): Promise<void> {
  if (!cluster) {
    rows.push({ scenario: 'b. PostgreSQL stopped 10 s', load: 'skipped: DATABASE_URL given, the run does not stop a server it did not start (run without DATABASE_URL)', figures: [] });
    log('b: skipped — DATABASE_URL given, the run never stops a PostgreSQL server it did not start');
    return;
  }
  const n = SIZE.b;
  const prefix = `chaos ${RUN} b `;
  const keyPrefix = `chaos-${RUN}-b-`;
  const timerPrefix = `chaos ${RUN} bt `;
  const tally = new Tally();
  const bases = () => nodes.map((x) => x.base);
  const failures: string[] = [];
  // Timers due during the outage: they must fire after it, on the executors that lived through it.
  await deployTimers(nodes[0], keys, 12);
  const timerTally = new Tally();
  await pool(SIZE.bTimers, 16, async (i) => {
    const r = await sendRetrying(bases, i, 'POST', '/v1/cases', keys.operator, intakeBody(`${timerPrefix}${i}`, 'chaos-timers'), timerTally, 'timer case');
    if (r.answer.status !== 201) failures.push(`timer case ${i}: ${r.answer.status}`);
  });
  const logFrom = nodes.map((x) => x.lines.length);
  let done = 0;
  let down = 0; // pg_ctl stop called
  let stopped = 0; // … and returned: the server is gone
  let restarting = 0; // pg_ctl start called
  let up = 0; // … and returned
  let outage: Promise<void> | undefined;
  let pendingAtStop = 0;
  const t0 = Date.now();
  await pool(n, 24, async (i) => {
    const r = await sendRetrying(bases, i, 'POST', '/v1/cases', { ...keys.operator, 'Idempotency-Key': `${keyPrefix}${i}` }, intakeBody(`${prefix}${i}`), tally, 'intake');
    if (r.answer.status !== 201) failures.push(`intake ${i}: ${r.answer.status} ${JSON.stringify(r.answer.body).slice(0, 200)}`);
    done++;
    // The outage starts a quarter into the load (or 3 s in), while the timer cases' 12 s timers are still pending.
    if (!outage && (done >= n / 4 || Date.now() - t0 > 3000)) {
      outage = (async () => {
        pendingAtStop = await checks.pendingTimers(timerPrefix);
        down = Date.now();
        await cluster.stop();
        stopped = Date.now();
        log(`b: PostgreSQL stopped after ${done} of ${n} intakes`);
        await sleep(10_000);
        restarting = Date.now();
        await cluster.start();
        up = Date.now();
        log('b: PostgreSQL started again');
      })();
    }
  });
  await outage;
  const seconds = (Date.now() - t0) / 1000;
  // Timers: give the executors up to 60 s after the outage to fire what fell due.
  const waitUntil = Date.now() + 60_000;
  while (Date.now() < waitUntil && (await checks.pendingTimers(timerPrefix)) > 0) await sleep(500);
  const timers = await checks.timerCases(timerPrefix);
  const byTitle = await checks.casesByTitle(prefix);
  let lost = 0;
  let doubled = 0;
  for (let i = 0; i < n; i++) {
    const found = byTitle.get(`${prefix}${i}`) ?? [];
    if (found.length === 0) lost++;
    if (found.length > 1) doubled++;
  }
  const { stuck } = await checks.keys(keyPrefix);
  // What was answered to the requests sent while the database was down (after pg_ctl stop returned, answered before pg_ctl start began).
  const during = tally.answers.filter((a) => a.sent >= stopped && a.at <= restarting);
  const duringNot503 = during.filter((a) => a.status !== 503 && a.status !== 0).length;
  const duringNoAnswer = during.filter((a) => a.status === 0).length;
  const lines = nodes.flatMap((x, k) => x.lines.slice(logFrom[k]).filter((l) => l.at >= down && l.at <= up + 5000));
  const errorLines = lines.filter((l) => l.level >= 50);
  for (const f of failures.slice(0, 5)) log(`b: ${f}`);
  const byMessage: Record<string, number> = {};
  for (const l of lines) byMessage[`${l.level} ${l.msg.slice(0, 80)}`] = (byMessage[`${l.level} ${l.msg.slice(0, 80)}`] ?? 0) + 1;
  log(`b: log lines of both nodes during the outage (level, message: count): ${JSON.stringify(byMessage)}`);
  for (const l of errorLines.slice(0, 12)) log(`b: log: ${l.raw.slice(0, 300)}`);
  rows.push({
    scenario: 'b. PostgreSQL stopped 10 s',
    load: `${n} intakes with keys, 24 clients honouring Retry-After, ${seconds.toFixed(0)} s; ${SIZE.bTimers} timer cases due during the outage; stopped (pg_ctl -m fast) at ${((down - t0) / 1000).toFixed(1)} s, down ${((restarting - stopped) / 1000).toFixed(1)} s, accepting connections again ${((up - stopped) / 1000).toFixed(1)} s after`,
    figures: [
      ['500 answers (whole scenario)', tally.count((s) => s >= 500 && s !== 503) + timerTally.count((s) => s >= 500 && s !== 503), 'zero'],
      ['answers during the outage that were not 503', duringNot503, 'zero'],
      ['requests without an answer during the outage (node gone or hung)', duringNoAnswer, 'zero'],
      ['intakes lost', lost, 'zero'],
      ['intakes doubled', doubled, 'zero'],
      ['keys stuck', stuck.length, 'zero'],
      ['clients not answered in the end', failures.length, 'zero'],
      ['timers not fired after the outage', timers.notFired, 'zero'],
      ['timers fired twice', timers.firedTwice, 'zero'],
      ['timers pending when PostgreSQL stopped', pendingAtStop, 'info'],
      ['503 answers during the outage', during.filter((a) => a.status === 503).length, 'info'],
      ['log lines during the outage (2 nodes): all / error', `${lines.length} / ${errorLines.length}`, 'info'],
      ['answers by status', statuses(tally), 'info'],
    ],
  });
}

// ------------------------------------------------------------------ c

async function scenarioC(nodes: Node[], keys: Keys, checks: Checks): Promise<void> {
  const n = SIZE.c;
  const prefix = `chaos ${RUN} c `;
  const tally = new Tally();
  const bases = () => nodes.map((x) => x.base);
  const failures: string[] = [];
  // Each case arms one timer; they fall due while intake goes on and after, and both nodes' executors claim them.
  const seconds = SHORT ? 5 : 20;
  await deployTimers(nodes[0], keys, seconds);
  const t0 = Date.now();
  await pool(n, 32, async (i) => {
    const r = await sendRetrying(bases, i, 'POST', '/v1/cases', keys.operator, intakeBody(`${prefix}${i}`, 'chaos-timers'), tally, 'timer case');
    if (r.answer.status !== 201) failures.push(`timer case ${i}: ${r.answer.status} ${JSON.stringify(r.answer.body).slice(0, 200)}`);
  });
  const seeded = (Date.now() - t0) / 1000;
  const waitUntil = Date.now() + (SHORT ? 60_000 : 240_000);
  while (Date.now() < waitUntil && (await checks.pendingTimers(prefix)) > 0) await sleep(500);
  const drained = (Date.now() - t0) / 1000;
  const r = await checks.timerCases(prefix);
  for (const f of failures.slice(0, 5)) log(`c: ${f}`);
  rows.push({
    scenario: 'c. two nodes, due timers',
    load: `${n} cases each with a ${seconds} s timer, created in ${seeded.toFixed(0)} s by 32 clients over 2 nodes; all fired by ${drained.toFixed(0)} s (executors poll every 200 ms)`,
    figures: [
      ['timers not fired', r.notFired, 'zero'],
      ['timers fired twice or more', r.firedTwice, 'zero'],
      ['timer jobs still pending', r.pendingJobs, 'zero'],
      ['cases not completed', r.cases - r.completed, 'zero'],
      ['incidents', r.incidents, 'zero'],
      ['cases not created', n - r.cases, 'zero'],
      ['timers fired exactly once', r.firedOnce, 'info'],
    ],
  });
}

// ------------------------------------------------------------------ table

function printTable() {
  const out: string[] = [];
  out.push('');
  out.push(`| scenario | load | figure | value |`);
  out.push(`|---|---|---|---|`);
  for (const r of rows) {
    if (!r.figures.length) out.push(`| ${r.scenario} | ${r.load} | | |`);
    r.figures.forEach(([name, value, kind], k) => out.push(`| ${k === 0 ? r.scenario : ''} | ${k === 0 ? r.load : ''} | ${name} | ${kind === 'zero' ? `**${value}**` : value} |`));
  }
  process.stdout.write(`${out.join('\n')}\n\n`);
}

async function main(): Promise<number> {
  log(`chaos run ${RUN}${SHORT ? ' (short)' : ''}: bounded to ${BOUND_MS / 1000} s; Node ${process.version}, kernel ${release()}`);
  await build();
  cleanups.push(async () => rmSync(BUILD, { recursive: true, force: true }));
  log(`compiled into ${relative(process.cwd(), BUILD)}`);
  let cluster: Cluster | null = null;
  let serverUrl = process.env.DATABASE_URL?.trim();
  if (!serverUrl) {
    cluster = await Cluster.create();
    const c = cluster;
    cleanups.push(() => c.destroy());
    serverUrl = cluster.url;
    log(`own PostgreSQL ${await cluster.version()} cluster in ${cluster.dir} on 127.0.0.1:${cluster.port}`);
  } else log('DATABASE_URL given: databases of the run are created on that server and dropped at the end');
  const server = serverUrl;
  const names = { main: `pakn_chaos_${RUN}`, fuzz: `pakn_chaos_fuzz_${RUN}` };
  const mainUrl = await createDatabase(server, names.main);
  cleanups.push(() => dropDatabase(server, names.main));
  const fuzzUrl = await createDatabase(server, names.fuzz);
  cleanups.push(() => dropDatabase(server, names.fuzz));

  const nodes = [new Node('A', await freePort(), mainUrl), new Node('B', await freePort(), mainUrl)];
  cleanups.push(async () => {
    for (const x of nodes) await x.kill9();
  });
  // One node first (migrations, the processes deployed), then the second.
  await nodes[0].start();
  await nodes[1].start();
  const keys = await createKeys(mainUrl);
  const checks = await Checks.open(mainUrl);
  cleanups.push(() => checks.close());
  log(`nodes A (:${nodes[0].port}) and B (:${nodes[1].port}) ready`);

  if (ONLY.has('a')) {
    log(`a: ${SIZE.a} intakes and completions, kill -9 of node A midway`);
    await scenarioA(nodes, keys, checks);
  }
  if (ONLY.has('b')) {
    log(`b: ${SIZE.b} intakes, PostgreSQL stopped for 10 s midway`);
    await scenarioB(nodes, keys, checks, cluster);
  }
  if (ONLY.has('c')) {
    log(`c: ${SIZE.c} timers over two nodes`);
    await scenarioC(nodes, keys, checks);
  }
  for (const x of nodes) await x.stop();
  if (!ONLY.has('d')) {
    printTable();
    return verdict();
  }

  log(`d: ${SIZE.d} requests generated from /openapi.json on a database of its own`);
  const fuzzNode = new Node('F', await freePort(), fuzzUrl);
  cleanups.push(() => fuzzNode.kill9());
  await fuzzNode.start();
  const fuzzKeys = await createKeys(fuzzUrl);
  const fuzzChecks = await Checks.open(fuzzUrl);
  cleanups.push(() => fuzzChecks.close());
  rows.push(await fuzzScenario(fuzzNode, fuzzKeys, fuzzChecks, { requests: SIZE.d, seed: 20261206, log }));
  await fuzzNode.stop();

  printTable();
  return verdict();
}

function verdict(): number {
  const bad = rows.flatMap((r) => r.figures.filter(([, v, kind]) => kind === 'zero' && v !== 0).map(([name, v]) => `${r.scenario}: ${name} = ${v}`));
  log(bad.length ? `FAILED: ${bad.join('; ')}` : `every figure that must be zero is zero (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  return bad.length ? 1 : 0;
}

main()
  .then(async (code) => {
    clearTimeout(bound);
    await cleanup();
    process.exit(code);
  })
  .catch(async (err) => {
    log(`chaos run failed: ${err?.stack ?? err}`);
    printTable();
    clearTimeout(bound);
    await cleanup();
    process.exit(1);
  });


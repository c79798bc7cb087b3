/**
 * npm run bench:scale [-- --cases N] [-- --keep] [-- --from NAME] [-- --on NAME]
 *
 * The product on a big database (PostgreSQL from DATABASE_URL, in a database
 * of its own, dropped at the end unless --keep). Real cases are made through
 * the HTTP API on the shipped process (open ones waiting at the agency's task,
 * finished ones answered, reviewed and rated); their rows (case, task, history
 * with its head, timer jobs) are then copied by bulk SQL N times over, with
 * new ids and codes, cases and history spread over the last six months (task
 * rows keep the template's dates, which their history states), so seeding
 * takes minutes, not hours. Copies keep the template's hash links, so
 * `pakn verify` would report them: this database is for measuring only.
 * --from NAME measures a copy of a database kept by an earlier run (--keep)
 * instead of seeding again (CREATE DATABASE … TEMPLATE NAME: a file copy, a
 * minute for a million cases); migrations added since run on the copy at
 * start, so a change can be measured at scale in minutes. --on NAME measures
 * the kept database itself (no copy: a million cases are ~25 GB; it gains
 * the run's 50 template cases and its completions, and is never dropped).
 *
 * Prints (each figure next to its baseline where there is one):
 *   open cases: N
 *   bytes per case: N
 *   inbox p99: X ms (an agency's first page; a keyset page after 10 000 of its tasks; overdue=false)
 *   search p99: X ms
 *   weekly report: X ms
 *   scorecard: X ms
 *   RSS: X MB
 *   task completion p99 on the big database: X ms (baseline: the same before seeding)
 * and the query plans of the inbox (EXPLAIN ANALYZE) for docs/performance.md.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createApp } from '../api/app.js';
import { createLogger } from '../api/logger.js';
import { createSystem, deployProcesses } from '../api/system.js';
import { createDatabase, dropDatabase } from '../db/connect.js';
import { PROCESSES } from './database.js';
import { BenchClient } from './client.js';

const { values } = parseArgs({ options: { cases: { type: 'string', default: '1000000' }, keep: { type: 'boolean', default: false }, from: { type: 'string' }, on: { type: 'string' } } });
const N = Number(values.cases);
if (!Number.isInteger(N) || N < 1000) throw new Error('--cases must be a whole number ≥ 1000');
const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) throw new Error('npm run bench:scale needs PostgreSQL: set DATABASE_URL');

const TEMPLATES_OPEN = 40;
const TEMPLATES_DONE = 10;
const FIELDS = ['DAT-DAI', 'XAY-DUNG', 'MOI-TRUONG', 'GIAO-THONG', 'DIEN', 'CAP-NUOC', 'Y-TE', 'GIAO-DUC'];
const ANSWER = 'Cơ quan đã kiểm tra, xử lý và trả lời công dân theo quy định.';

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

if (values.on && !/^[a-z_][a-z0-9_]{0,62}$/.test(values.on)) throw new Error(`--on: not a database name: ${values.on}`);
const name = values.on ?? `pakn_scale_${randomBytes(4).toString('hex')}`;
const url = values.on ? Object.assign(new URL(serverUrl), { pathname: `/${values.on}` }).toString() : await createDatabase(serverUrl, name, values.from ? { template: values.from } : {});
const seeded = values.from ?? values.on;
const system = await createSystem(
  { port: 0, host: '127.0.0.1', databaseUrl: url, dataDir: 'memory', processesDir: PROCESSES, logLevel: 'silent', jobPollMs: 1000, seedDemo: false, writeRateLimitPerMinute: 0, trustProxy: false },
  { log: createLogger('silent') },
);
const server = createApp(system).listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const { db } = system;

const client = new BenchClient(base);
const http = (method: string, path: string, key: string, body?: unknown) => client.call(method, path, key, body);

try {
  await deployProcesses(system, PROCESSES);
  const key = async (roles: string[], agency: string | null) => (await system.keys.create({ name: `scale ${roles[0]}`, roles, agency })).key;
  const operator = await key(['operator'], null);
  const agency = await key(['agency'], 'SNNMT');
  const coordinator = await key(['coordinator'], 'VP-UBND');
  const reviewerAgency = 'VP-UBND';
  void reviewerAgency;

  // --- real cases through the API: the templates
  const start = (i: number) =>
    http('POST', '/v1/cases', operator, {
      process: 'complaint-handling',
      variables: { title: `Phản ánh số ${i}: đèn đường hư hỏng`, description: 'Đèn đường trước nhà tôi không sáng đã nhiều ngày.', channel: 'call', field: FIELDS[i % FIELDS.length], citizenName: 'Nguyễn Văn An', citizenPhone: `09${String(10000000 + i).slice(-8)}` },
    });
  const templates: string[] = [];
  for (let i = 0; i < TEMPLATES_OPEN + TEMPLATES_DONE; i++) templates.push((await start(i)).json.id);
  const taskOf = async (caseId: string) => (await db('tasks').where({ case_id: caseId }).first('id'))?.id as string | undefined;
  const all = async (caseId: string, roleKey: string, body: unknown) => http('POST', `/v1/tasks/${await taskOf(caseId)}/complete`, roleKey, body);
  const done = templates.filter((_, i) => i % FIELDS.length === 0).slice(0, TEMPLATES_DONE);
  for (const id of done) {
    const holder = (await db('tasks').where({ case_id: id }).first('candidate_groups')).candidate_groups[0];
    const holderKey = holder === 'SNNMT' ? agency : await key(['agency'], holder);
    await all(id, holderKey, { outcome: 'answer', answer: ANSWER });
    await all(id, coordinator, { reviewDecision: 'approve', publish: false });
    const code = (await db('cases').where({ id }).first('code')).code;
    await system.runtime.correlateMessage({ code, name: 'citizen-rating', payload: { satisfied: true }, actor: { id: 'scale', name: 'scale', roles: ['operator'], agency: null } });
  }

  // --- baseline: completing the agency's task on the small database (cold engines, as on the big one)
  const completionSamples = async (n: number) => {
    const ids = await db('tasks').whereRaw(`candidate_groups && array['SNNMT']::text[]`).where({ element_id: 'handle' }).limit(n).pluck('case_id');
    const ms: number[] = [];
    system.runtime.engines.clear();
    for (const id of ids) ms.push((await all(id, agency, { outcome: 'answer', answer: ANSWER })).ms);
    return ms;
  };
  const smallCompletion = await completionSamples(3);

  // --- bulk copy
  // With --from the copy is already seeded: only the 50 new templates are added.
  const copies = seeded ? 0 : Math.ceil(N / templates.length);
  const cols = async (table: string, skip: string[]) =>
    (await db('information_schema.columns').where({ table_name: table, table_schema: 'public', is_generated: 'NEVER' }).whereNull('identity_generation').orderBy('ordinal_position').pluck('column_name')).filter(
      (c: string) => !skip.includes(c),
    ) as string[];
  const caseCols = await cols('cases', ['id', 'code', 'created_at', 'updated_at', 'ended_at']);
  const taskCols = await cols('tasks', ['id', 'case_id', 'due_at', 'created_at']);
  const eventCols = await cols('case_events', ['id', 'case_id', 'at']);
  const jobCols = await cols('jobs', ['id', 'case_id']);
  const list = (cs: string[], prefix: string) => cs.map((c) => `${prefix}.${c}`).join(', ');
  await db.raw(`select pakn_ensure_event_partitions(date_trunc('month', now() - interval '7 months')::date, 10)`);
  const t0 = performance.now();
  const BATCH = 500; // copies per transaction: ~25 000 cases
  for (let from = 1; from <= copies; from += BATCH) {
    const to = Math.min(copies, from + BATCH - 1);
    await db.transaction(async (trx) => {
      await trx.raw(`create temp table m on commit drop as
        select c.id as tpl, gen_random_uuid() as id, g as n, (g % 180) * interval '1 day' as shift
          from cases c cross join generate_series(?::int, ?::int) g where c.id = any(?::uuid[])`, [from, to, templates]);
      await trx.raw(`insert into cases (id, code, created_at, updated_at, ended_at, ${caseCols.join(', ')})
        select m.id, c.code || '-' || m.n, c.created_at - m.shift, c.updated_at - m.shift, c.ended_at - m.shift, ${list(caseCols, 'c')}
          from m join cases c on c.id = m.tpl`);
      // A copied task's id is derived from the template's and the copy number, in its row and in the
      // history's events that name it (the runtime checks a task row against its task.created event).
      // Its due date stays the template's: the runtime checks the row's due date against task.created too.
      await trx.raw(`insert into tasks (id, case_id, due_at, created_at, ${taskCols.join(', ')})
        select md5(t.id::text || '-' || m.n)::uuid, m.id, t.due_at, t.created_at, ${list(taskCols, 't')}
          from m join tasks t on t.case_id = m.tpl`);
      await trx.raw(`insert into case_events (case_id, at, payload, ${eventCols.filter((c) => c !== 'payload').join(', ')})
        select m.id, e.at - m.shift,
               case when e.payload \\? 'taskId' then jsonb_set(e.payload, '{taskId}', to_jsonb(md5((e.payload->>'taskId') || '-' || m.n)::uuid::text)) else e.payload end,
               ${list(eventCols.filter((c) => c !== 'payload'), 'e')}
          from m join case_events e on e.case_id = m.tpl`);
      await trx.raw(`insert into history_heads (chain, seq, hash) select m.id::text, h.seq, h.hash from m join history_heads h on h.chain = m.tpl::text`);
      await trx.raw(`insert into jobs (case_id, ${jobCols.join(', ')}) select m.id, ${list(jobCols, 'j')} from m join jobs j on j.case_id = m.tpl where j.type = 'timer' and j.status = 'pending'`);
    });
    process.stderr.write(`\rseeded ${Math.min(to * templates.length, copies * templates.length)} cases`);
  }
  process.stderr.write('\n');
  await db.raw('analyze');
  const seedMs = performance.now() - t0;

  // --- measurements
  const { rows: counts } = await db.raw(`select count(*) filter (where status = 'running')::int as open, count(*)::int as total from cases`);
  const { rows: sizes } = await db.raw(`select pg_database_size(current_database())::bigint as db,
      pg_total_relation_size('cases')::bigint as cases,
      (select sum(pg_total_relation_size(inhrelid))::bigint from pg_inherits where inhparent = 'case_events'::regclass) as history,
      pg_total_relation_size('tasks')::bigint as tasks, pg_total_relation_size('jobs')::bigint as jobs`);
  const s = sizes[0];
  const total = counts[0].total;
  const agencyTasks = Number((await db('tasks').whereRaw(`candidate_groups && array['SNNMT']::text[]`).count('* as n').first())?.n);

  // --- the plans that matter
  const explain = async (label: string, path: string) => {
    const sqls: Array<{ sql: string; bindings: unknown[] }> = [];
    const capture = (q: any) => {
      // The inbox statement: the one-range query reads "tasks", the per-group one task_groups (db/inbox.ts, written as SQL text).
      if (/from "tasks"|\btask_groups\b/.test(q.sql)) sqls.push({ sql: q.sql, bindings: q.bindings });
    };
    db.on('query', capture);
    await http('GET', path, agency);
    db.removeListener('query', capture);
    const q = sqls[sqls.length - 1];
    if (!q) return;
    const native = q.sql.replace(/\$(\d+)/g, '?');
    const { rows } = await db.raw(`explain (analyze, buffers, costs off) ${native}`, q.bindings as any[]);
    console.log(`\n-- plan: ${label}\n${rows.map((r: any) => r['QUERY PLAN']).join('\n')}`);
  };

  const repeat = async (n: number, fn: () => Promise<{ ms: number }>) => {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) ms.push((await fn()).ms);
    return ms;
  };
  const seeding = values.on ? `database ${values.on} as kept` : values.from ? `a copy of ${values.from}` : `${templates.length} made through the API, copied ${copies}× by bulk SQL in ${(seedMs / 1000).toFixed(0)} s`;
  console.log(`scale benchmark — PostgreSQL, ${total} cases (${seeding}), Node ${process.version}`);
  console.log(`open cases: ${counts[0].open}`);
  console.log(`bytes per case: ${Math.round(Number(s.db) / total)}  (cases ${Math.round(Number(s.cases) / total)}, history ${Math.round(Number(s.history) / total)}, tasks ${Math.round(Number(s.tasks) / total)}, jobs ${Math.round(Number(s.jobs) / total)})`);
  const firstPage = await repeat(50, () => http('GET', '/v1/tasks?limit=50', agency));
  // Walk to the page after 10 000 of the agency's tasks, then time that page.
  let cursor: string | null = null;
  let depth = 0;
  while (depth < 10_000) {
    const page: any = (await http('GET', `/v1/tasks?limit=200${cursor ? `&cursor=${cursor}` : ''}`, agency)).json;
    if (!page.nextCursor) break;
    depth += page.items.length;
    cursor = page.nextCursor;
  }
  const deepPage = await repeat(50, () => http('GET', `/v1/tasks?limit=50${cursor ? `&cursor=${cursor}` : ''}`, agency));
  const notOverdue = await repeat(30, () => http('GET', '/v1/tasks?limit=50&overdue=false', agency));
  console.log(`inbox p99: ${fmt(percentile(firstPage, 99))} first page, ${fmt(percentile(deepPage, 99))} after ${depth} tasks, ${fmt(percentile(notOverdue, 99))} overdue=false  (agency SNNMT holds ${agencyTasks} open tasks; p50 ${fmt(percentile(firstPage, 50))} / ${fmt(percentile(deepPage, 50))} / ${fmt(percentile(notOverdue, 50))})`);
  await explain('inbox, first page', '/v1/tasks?limit=50');
  if (cursor) await explain(`inbox, page after ${depth} tasks`, `/v1/tasks?limit=50&cursor=${cursor}`);
  await explain('inbox, overdue=false', '/v1/tasks?limit=50&overdue=false');
  const search = await repeat(30, () => http('GET', `/v1/cases?q=${encodeURIComponent('đèn đường')}&limit=50`, coordinator));
  const searchPhone = await repeat(30, () => http('GET', '/v1/cases?phone=0910000007&limit=50', coordinator));
  console.log(`search p99: ${fmt(percentile(search, 99))} by words, ${fmt(percentile(searchPhone, 99))} by phone`);
  const weekly = await repeat(2, () => http('GET', '/v1/reports/weekly', coordinator));
  console.log(`weekly report: ${fmt(Math.min(...weekly))}  (best of 2)`);
  const scorecard = await repeat(2, () => http('GET', '/v1/reports/scorecard', coordinator));
  console.log(`scorecard: ${fmt(Math.min(...scorecard))}  (best of 2)`);
  const bigCompletion = await completionSamples(30);
  const rss = process.memoryUsage().rss;

  console.log(`RSS: ${(rss / 1048576).toFixed(0)} MB`);
  console.log(`task completion p99 on the big database: ${fmt(percentile(bigCompletion, 99))}  (p50 ${fmt(percentile(bigCompletion, 50))}; ${seeded ? 'at the start, on the same database' : 'on the small database before seeding'}: p50 ${fmt(percentile(smallCompletion, 50))}, max ${fmt(Math.max(...smallCompletion))})`);
} finally {
  client.close();
  await new Promise<void>((r) => server.close(() => r()));
  await system.close();
  if (values.keep || values.on) console.log(`kept database ${name}`);
  else await dropDatabase(serverUrl, name);
}

/**
 * Part of npm run bench [-- --short]: what an analyst's change costs.
 *
 * On the shipped process (catalogue, routing table, diagram), with N finished
 * and N running cases on the database in use (embedded PGlite, or PostgreSQL
 * when DATABASE_URL is set):
 *   dry run    — replaying the N finished cases against a candidate routing
 *                table, per case; baseline: reading the same histories with
 *                the same query and nothing else (the SQL floor of a replay);
 *   migration  — moving the N running cases to a new version in one batch,
 *                per case; baseline: an unclaim on the same cases, the cheapest
 *                command that also locks the case and appends history;
 *   a command  — completing a task of the shipped diagram, for scale (the
 *                lifecycle benchmark's diagram has three elements; this one ~100).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { finishedCases } from '../db/cases.js';
import { tasksOfCase } from '../db/tasks.js';
import { caseHistory } from '../db/history.js';
import { deployProcesses } from '../api/system.js';
import type { Actor } from '../engine/actor.js';
import { benchSystem, PROCESSES } from './database.js';

const { values } = parseArgs({ options: { short: { type: 'boolean', default: false }, clients: { type: 'string' } } });
const N = values.short ? 20 : 200;
const analyst: Actor = { id: 'bench:analyst', name: 'bench', roles: ['analyst'], agency: 'SNV' };
const operator: Actor = { id: 'bench:operator', name: 'bench', roles: ['operator'], agency: 'TONG-DAI-1022' };
const agency: Actor = { id: 'bench:agency', name: 'bench', roles: ['agency'], agency: 'SNNMT' };
const coordinator: Actor = { id: 'bench:coordinator', name: 'bench', roles: ['coordinator'], agency: 'VP-UBND' };

const { system, close } = await benchSystem(process.env.DATABASE_URL);
try {
  await deployProcesses(system, PROCESSES);
  const { runtime, db } = system;
  const openTask = async (caseId: string) => (await tasksOfCase(db, caseId))[0].id as string;
  const start = () => runtime.startCase({ processKey: 'complaint-handling', variables: { title: 'Phản ánh đo hiệu năng', description: 'Phản ánh dùng để đo thời gian một lệnh.', channel: 'call', field: 'DAT-DAI', citizenPhone: '0900000000' }, actor: operator });

  // N finished cases: answer, review, rating.
  for (let i = 0; i < N; i++) {
    const c = await start();
    await runtime.completeTask({ taskId: await openTask(c.caseId), output: { outcome: 'answer', answer: 'Đã xử lý theo quy định hiện hành.' }, actor: agency });
    await runtime.completeTask({ taskId: await openTask(c.caseId), output: { reviewDecision: 'approve', publish: false }, actor: coordinator });
    await runtime.correlateMessage({ code: c.code, name: 'citizen-rating', payload: { satisfied: true }, actor: operator });
  }
  // N running cases, waiting at the handling task.
  const running = [];
  for (let i = 0; i < N; i++) running.push(await start());

  const finished = await finishedCases(db, { last: N });
  let t0 = performance.now();
  for (const c of finished) await caseHistory(db, c.id);
  const historyMs = (performance.now() - t0) / finished.length;

  const routing = readFileSync(join(PROCESSES, 'routing.dmn'), 'utf8').replace('<outputEntry id="r-dat-dai-agency"><text>"SNNMT"</text>', '<outputEntry id="r-dat-dai-agency"><text>"SXD"</text>');
  t0 = performance.now();
  const report = await system.dryRun.run({ key: 'routing', xml: routing, last: N });
  const dryRunMs = (performance.now() - t0) / report.replayed;
  if (report.diverged !== N) throw new Error(`expected ${N} divergences, got ${report.diverged}`);

  for (const c of running) await runtime.taskAction({ taskId: await openTask(c.caseId), action: 'claim', actor: agency }); // warm
  t0 = performance.now();
  for (const c of running) await runtime.taskAction({ taskId: await openTask(c.caseId), action: 'unclaim', actor: agency });
  const claimMs = (performance.now() - t0) / running.length;

  const diagram = readFileSync(join(PROCESSES, 'complaint-handling.bpmn'), 'utf8').replace(/(\b(?:id|sourceRef|targetRef|attachedToRef|bpmnElement)=")handle"/g, '$1handleComplaint"');
  const v2 = await system.definitions.deploy(diagram, { deployedBy: 'bench', activate: false });
  t0 = performance.now();
  const moved = await runtime.migrateCases({ key: 'complaint-handling', toVersion: v2.version, mapping: { handle: 'handleComplaint' }, limit: N, actor: analyst });
  const migrateMs = (performance.now() - t0) / N;
  if (moved.migrated !== N) throw new Error(`expected ${N} migrations, got ${JSON.stringify(moved).slice(0, 300)}`);

  // For scale: an ordinary command on the same diagram (the migrated cases answer their task).
  t0 = performance.now();
  for (const c of running) await runtime.completeTask({ taskId: await openTask(c.caseId), output: { outcome: 'answer', answer: 'Đã xử lý theo quy định hiện hành.' }, actor: agency });
  const completeMs = (performance.now() - t0) / running.length;

  console.log(`change benchmark — ${N} finished and ${N} running cases on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}`);
  console.log(`(c) dry run of a routing change:   ${dryRunMs.toFixed(1).padStart(6)} ms per case  (${report.replayed} cases, ${report.diverged} diverged)`);
  console.log(`    baseline, reading the history: ${historyMs.toFixed(1).padStart(6)} ms per case  → replay ${(dryRunMs - historyMs).toFixed(1)} ms per case`);
  console.log(`(d) batch migration v1 → v${v2.version}:       ${migrateMs.toFixed(1).padStart(6)} ms per case  (${moved.migrated} cases, each its own transaction)`);
  console.log(`    baseline, unclaim command:     ${claimMs.toFixed(1).padStart(6)} ms per case  → ratio ${(migrateMs / claimMs).toFixed(1)}`);
  console.log(`(e) completing a task of the shipped diagram: ${completeMs.toFixed(1)} ms per command (recover, run to the next wait, save)`);
} finally {
  await close();
}

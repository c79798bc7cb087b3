import type { Knex } from 'knex';
import { caseIdByCode, lockCase, migrationCandidates, updateCase } from '../db/cases.js';
import { definitionById, definitionByVersion } from '../db/definitions.js';
import { renameTimerElement } from '../db/jobs.js';
import { definitionForms } from '../db/forms.js';
import { renameTaskElement, tasksOfCase } from '../db/tasks.js';
import type { Actor } from './actor.js';
import { ConflictError, NotFoundError, UnprocessableError } from './errors.js';
import { planMigration, remapState, type ActivityMapping } from './migration.js';
import { USER_TASK } from './projection.js';
import type { Runtime } from './runtime.js';
import type { EngineSession } from './session.js';
import { calledDefinitionOf, isCalled } from './call-activity.js';

export interface MigrationInput {
  toVersion: number;
  mapping?: ActivityMapping;
  comment?: string;
  actor: Actor;
  /** Only plan: say what would move, change nothing. */
  check?: boolean;
}

export interface MigrationResult {
  caseId: string;
  code: string;
  fromVersion: number;
  toVersion: number;
  /** 'unchanged' when the case already runs on the target version. */
  outcome: 'migrated' | 'unchanged';
  /** Waiting elements whose id changed. */
  moves: Array<{ from: string; to: string }>;
}

export interface BatchMigrationResult {
  toVersion: number;
  migrated: number;
  refused: number;
  unchanged: number;
  /** Matching cases this call did not reach (see `limit`); call again to go on. */
  remaining: number;
  results: Array<{ code: string; fromVersion: number | null; outcome: 'migrated' | 'refused' | 'unchanged'; moves?: MigrationResult['moves']; problems?: unknown[] }>;
}

/**
 * Move a running case to another version of its process (one transaction).
 * Every element the case waits at must exist in the target under the same
 * id or the one `mapping` names (engine/migration.ts plans it); otherwise
 * nothing changes and the problems say which element needs a mapping. Open
 * tasks keep their agency, assignee and deadline; armed timers keep their
 * due time.
 */
export async function migrateCase(runtime: Runtime, input: MigrationInput & { code: string }): Promise<MigrationResult> {
  const caseId = await caseIdByCode(runtime.db, input.code);
  if (!caseId) throw new NotFoundError(`Case ${input.code} does not exist.`);
  const mapping = input.mapping ?? {};
  return runtime.db.transaction(async (trx) => {
    const row = await lockCase(trx, caseId);
    if (!row) throw new NotFoundError(`Case ${input.code} does not exist.`);
    if (row.status !== 'running') throw new ConflictError(`Case ${row.code} is ${row.status}; only running cases can be migrated.`);
    const from = (await definitionById(trx, row.definition_id))!; // the case row references it
    const to = await definitionByVersion(trx, from.key, input.toVersion);
    if (!to) throw new NotFoundError(`Process ${from.key} has no version ${input.toVersion}.`);
    const result: MigrationResult = { caseId: row.id, code: row.code, fromVersion: from.version, toVersion: to.version, outcome: 'unchanged', moves: [] };
    if (to.id === from.id) return result;

    const source = runtime.session(trx, row.id, await runtime.definitions.context(from.id, trx));
    let target: EngineSession | undefined;
    try {
      await source.recover(row.engine_state);
      // A called process's steps stay in their own version (engine/call-activity.ts): only the case's own steps move.
      const waiting = source.waitingActivities().filter((w) => !isCalled(w));
      const plan = planMigration(
        waiting.map((w) => ({ id: w.id, type: w.type, name: w.name, attachedTo: w.api.owner?.attachedTo?.id ?? null, parent: w.api.owner?.parent?.id ?? null })),
        await runtime.definitions.context(to.id, trx),
        mapping,
        to.version,
      );
      if (plan.problems.length) {
        throw new UnprocessableError(`Case ${row.code} cannot move to version ${to.version}: ${plan.problems.length} waiting element(s) have no counterpart. Nothing was changed.`, [], plan.problems);
      }
      const formProblems = await missingForms(trx, row.id, to.id, Object.fromEntries(plan.moves.map((m) => [m.from, m.to])), await runtime.definitions.context(to.id, trx), to.version);
      if (formProblems.length) {
        throw new UnprocessableError(`Case ${row.code} cannot move to version ${to.version}: ${formProblems.length} open task(s) would have no form there. Nothing was changed.`, [], formProblems);
      }
      result.moves = plan.moves.map(({ from: f, to: t }) => ({ from: f, to: t }));
      result.outcome = 'migrated';
      if (input.check) return result;

      const renamed = Object.fromEntries(plan.moves.map((m) => [m.from, m.to]));
      target = runtime.session(trx, row.id, await runtime.definitions.context(to.id, trx));
      await target.recover(remapState(await source.state(), renamed));
      const expected = waiting.map((w) => renamed[w.id] ?? w.id).sort();
      const placed = target.waitingActivities().filter((w) => !isCalled(w)).map((w) => w.id).sort();
      if (JSON.stringify(expected) !== JSON.stringify(placed)) {
        throw new UnprocessableError(`Case ${row.code} could not be placed in version ${to.version}: it would wait at ${placed.join(', ') || 'nothing'} instead of ${expected.join(', ')}. Nothing was changed.`);
      }
      // What happened while loading the old version (a timer that fell due) is part of this command.
      target.events.unshift(...source.events);
      target.outbox.unshift(...source.outbox);
      target.actAs(input.actor);
      target.record({
        type: 'case.migrated',
        payload: { process: from.key, fromVersion: from.version, toVersion: to.version, mapping: renamed, comment: input.comment ?? null },
      });
      for (const w of target.waiting().filter((x) => x.type === USER_TASK && !isCalled(x) && Object.values(renamed).includes(x.id))) {
        await renameTaskElement(trx, row.id, w.executionId, { id: w.id, name: w.name, formKey: w.behaviour.formKey ?? null });
      }
      for (const m of plan.moves) await renameTimerElement(trx, row.id, m.from, m.to);
      await updateCase(trx, row.id, { definition_id: to.id });
      await runtime.save(trx, row, target);
      return result;
    } finally {
      source.dispose();
      target?.dispose();
    }
  });
}

/**
 * How forms map: an open task is completed with the target version's form of
 * its form key (the key of the element it moves to, when it moves), never
 * with the form of the version it started on. A target that lacks that key
 * is refused, naming the task and the key. A target deployed before forms
 * were versioned uses the installed forms, as it always did.
 */
async function missingForms(trx: Knex.Transaction, caseId: string, targetId: number, renamed: Record<string, string>, target: unknown, version: number): Promise<unknown[]> {
  const forms = await definitionForms(trx, targetId);
  if (!forms?.recorded) return [];
  const keys = new Set(forms.forms.map((f) => f.form_key));
  const problems: unknown[] = [];
  for (const task of await tasksOfCase(trx, caseId)) {
    // A called process's task keeps the forms of its own version: the case's migration does not move it.
    if (await calledDefinitionOf(trx, caseId, task.execution_id)) continue;
    const moved = renamed[task.element_id];
    const formKey = moved ? ((target as any).getActivityById?.(moved)?.behaviour?.formKey ?? null) : task.form_key;
    if (!formKey || keys.has(formKey)) continue;
    problems.push({
      elementId: moved ?? task.element_id,
      rule: 'migration-form',
      severity: 'error',
      message: `Open task "${task.name ?? task.element_id}" is completed with form "${formKey}", which version ${version} does not have: deploy version ${version} with that form, or map the task to a step whose form it has.`,
    });
  }
  return problems;
}

/**
 * The batch form: migrate the running cases of process `key` (optionally only
 * those on `fromVersion`, or only `codes`), oldest first, each in its own
 * transaction, so one refused case does not hold back the others.
 */
export async function migrateCases(
  runtime: Runtime,
  input: Omit<MigrationInput, 'mapping'> & { key: string; fromVersion?: number; codes?: string[]; mapping?: ActivityMapping; limit?: number },
): Promise<BatchMigrationResult> {
  const target = await definitionByVersion(runtime.db, input.key, input.toVersion);
  if (!target || target.kind !== 'bpmn') throw new NotFoundError(`Process ${input.key} has no version ${input.toVersion}.`);
  const { total, rows } = await migrationCandidates(runtime.db, { key: input.key, targetId: target.id, fromVersion: input.fromVersion, codes: input.codes, limit: input.limit ?? 200 });
  const out: BatchMigrationResult = { toVersion: input.toVersion, migrated: 0, refused: 0, unchanged: 0, remaining: Math.max(total - rows.length, 0), results: [] };
  const refuse = (code: string, fromVersion: number | null, problems: unknown[]) => {
    out.refused++;
    out.results.push({ code, fromVersion, outcome: 'refused', problems });
  };
  for (const code of input.codes ?? []) {
    if (!rows.some((r) => r.code === code)) refuse(code, null, [{ elementId: null, rule: 'migration-case', severity: 'error', message: `Case ${code} is not a running case of ${input.key}${input.fromVersion ? ` version ${input.fromVersion}` : ''}.` }]);
  }
  for (const r of rows) {
    try {
      const done = await runtime.migrateCase({ code: r.code, toVersion: input.toVersion, mapping: input.mapping, comment: input.comment, actor: input.actor, check: input.check });
      out[done.outcome]++;
      out.results.push({ code: r.code, fromVersion: r.version, outcome: done.outcome, moves: done.moves });
    } catch (err) {
      // A refusal is an answer about that case; anything else is a fault and stops the batch.
      if (err instanceof UnprocessableError) refuse(r.code, r.version, err.problems?.length ? err.problems : [{ elementId: null, rule: 'migration-mapping', severity: 'error', message: err.message }]);
      else if (err instanceof ConflictError) refuse(r.code, r.version, [{ elementId: null, rule: 'migration-case', severity: 'error', message: err.message }]);
      else throw err;
    }
  }
  return out;
}

import type { Knex } from 'knex';
import type { Db } from '../db/connect.js';
import type { Actor } from './actor.js';
import { systemClock, type Clock } from './clock.js';
import { SYSTEM_TIMER } from './actor.js';
import { newCaseCode } from './hotline/case-code.js';
import type { DefinitionStore } from './definitions.js';
import { ConflictError, NotFoundError, UnprocessableError } from './errors.js';
import { FeelError, taskAssignment, type FeelFunctions } from './feel.js';
import type { DecisionStore } from './decisions.js';
import { appendEvents } from './history.js';
import { vietnameseDate, type SmsTemplates } from './hotline/sms.js';
import { EngineSession, type WaitingActivity } from './session.js';
import { planMigration, remapState, type ActivityMapping } from './migration.js';

export interface CaseRow {
  id: string;
  code: string;
  definition_id: number;
  status: string;
  engine_state: unknown;
  variables: Record<string, unknown>;
  version: number;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  ended_at: Date | null;
}

export interface TaskRow {
  id: string;
  case_id: string;
  element_id: string;
  execution_id: string;
  name: string | null;
  candidate_groups: string[];
  assignee: string | null;
  due_at: Date | null;
  form_key: string | null;
  created_at: Date;
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

export interface CommandResult {
  caseId: string;
  code: string;
  status: string;
  version: number;
}

export interface RuntimeOptions {
  /** The one clock (engine/clock.ts): task deadlines, timer due times, history timestamps. */
  clock?: Clock;
  /** FEEL functions for every expression (the working-day calendar). */
  functions?: FeelFunctions;
  /** Deployed DMN decisions for business-rule tasks. */
  decisions?: DecisionStore;
  /** Message templates; outgoing messages are rendered when queued, in the case's transaction. */
  smsTemplates?: SmsTemplates;
  /** An agency's name for messages (from the catalogue). */
  agencyName?: (code: string) => string | undefined;
  /** Validates a BPMN message's payload before it is delivered (forms message-<name>). */
  checkMessage?: (name: string, payload: Record<string, unknown>) => void;
  /** Called after each command commits; the API uses it for logs and metrics. */
  onCommand?: (info: { command: string; caseId: string; ms: number; outcome: 'ok' | 'error' }) => void;
}

const USER_TASK = 'bpmn:UserTask';

/**
 * The case runtime. Every public method is one command: one transaction that
 * locks the case row, recovers a new engine from the saved state, acts, runs
 * to the wait states and writes state, task projection, timer jobs and history
 * before it commits. If anything throws, the transaction rolls back and the
 * case is exactly as it was. No engine outlives its command.
 */
export class Runtime {
  private readonly functions: FeelFunctions;
  readonly clock: Clock;

  constructor(
    readonly db: Db,
    readonly definitions: DefinitionStore,
    private readonly options: RuntimeOptions = {},
  ) {
    this.functions = options.functions ?? {};
    this.clock = options.clock ?? systemClock;
  }

  /** Engine hooks bound to the command's transaction (one connection on PGlite: never step outside it). */
  private hooks(trx: Knex.Transaction) {
    const decisions = this.options.decisions;
    return {
      functions: this.functions,
      decide: (ref: string, variables: Record<string, unknown>, map: string | undefined) => {
        if (!decisions) return Promise.reject(new Error('No decision store is configured'));
        return decisions.decide(ref, variables, map, trx);
      },
    };
  }

  async startCase(input: { processKey: string; variables?: Record<string, unknown>; actor: Actor }): Promise<CommandResult> {
    const definition = await this.definitions.latest(input.processKey);
    const context = await this.definitions.context(definition.id);
    return this.timed('startCase', async () => {
      for (let attempt = 0; ; attempt++) {
        const now = this.clock.now();
        const code = newCaseCode(now);
        try {
          return await this.db.transaction(async (trx) => {
            const [row] = await trx('cases')
              .insert({ code, definition_id: definition.id, status: 'running', engine_state: {}, variables: {}, created_by: input.actor.id, created_at: now, updated_at: now })
              .returning('*');
            const session = new EngineSession(row.id, context, this.hooks(trx));
            try {
              session.actAs(input.actor);
              session.record({ type: 'case.started', payload: { process: definition.key, version: definition.version, variables: input.variables ?? {} } });
              await session.start(input.variables ?? {});
              return await this.save(trx, row, session);
            } finally {
              session.dispose();
            }
          });
        } catch (err: any) {
          // A code collision (unique violation on cases.code) is retried with a new code.
          if (err?.code === '23505' && String(err?.constraint ?? err?.detail ?? '').includes('code') && attempt < 5) continue;
          throw err;
        }
      }
    });
  }

  async completeTask(input: { taskId: string; output?: Record<string, unknown>; actor: Actor; authorize?: (task: TaskRow) => void }): Promise<CommandResult> {
    const task = await this.db('tasks').where({ id: input.taskId }).first();
    if (!task) throw new ConflictError(`Task ${input.taskId} is not open: it was completed, cancelled, or never existed.`);
    return this.timed('completeTask', () =>
      this.command(task.case_id, input.actor, async (trx, session) => {
        const current: TaskRow | undefined = await trx('tasks').where({ id: input.taskId }).first();
        if (!current) throw new ConflictError(`Task ${input.taskId} is no longer open.`);
        input.authorize?.(current);
        const waiting = session.waiting().find((w) => w.executionId === current.execution_id);
        if (!waiting) throw new ConflictError(`Task "${current.name ?? current.element_id}" is no longer waiting (a timer or another command ended it).`);
        session.record({
          type: 'task.completed',
          elementId: current.element_id,
          elementName: current.name,
          elementType: USER_TASK,
          payload: { taskId: current.id, output: input.output ?? {} },
        });
        waiting.api.signal(input.output ?? {});
      }),
    );
  }

  /**
   * Deliver a message. `check` validates the payload first (its fields become
   * case variables, so a message must not be able to set, say, the agency).
   */
  async correlateMessage(input: { code: string; name: string; payload?: Record<string, unknown>; actor: Actor; check?: (name: string, payload: Record<string, unknown>) => void }): Promise<CommandResult> {
    (input.check ?? this.options.checkMessage)?.(input.name, input.payload ?? {});
    const row = await this.db('cases').where({ code: input.code }).first('id');
    if (!row) throw new NotFoundError(`Case ${input.code} does not exist.`);
    return this.timed('correlateMessage', () =>
      this.command(row.id, input.actor, async (_trx, session) => {
        const target = session.waiting().find((w) => waitsForMessage(w, input.name));
        if (!target) throw new ConflictError(`Case ${input.code} is not waiting for message "${input.name}".`);
        session.record({
          type: 'message.correlated',
          elementId: target.id,
          elementName: target.name,
          elementType: target.type,
          payload: { message: input.name, payload: input.payload ?? {} },
        });
        target.api.signal(input.payload ?? {});
      }),
    );
  }

  /**
   * Claim or unclaim a task, or comment on it: commands that change no engine
   * state but must serialize with completions (the case row is locked) and
   * leave one history event. `authorize` runs on the locked, current task.
   */
  async taskAction(input: {
    taskId: string;
    action: 'claim' | 'unclaim' | 'comment';
    actor: Actor;
    authorize?: (task: TaskRow) => void;
    payload?: Record<string, unknown>;
  }): Promise<CommandResult & { task: TaskRow }> {
    const task = await this.db('tasks').where({ id: input.taskId }).first('case_id');
    if (!task) throw new ConflictError(`Task ${input.taskId} is not open.`);
    return this.timed(`${input.action}Task`, () =>
      this.db.transaction(async (trx) => {
        const row: CaseRow | undefined = await trx('cases').where({ id: task.case_id }).forUpdate().first();
        const current: TaskRow | undefined = await trx('tasks').where({ id: input.taskId }).first();
        if (!row || !current) throw new ConflictError(`Task ${input.taskId} is no longer open.`);
        input.authorize?.(current);
        let updated = current;
        if (input.action === 'claim') {
          if (current.assignee && current.assignee !== input.actor.id) throw new ConflictError(`Task "${current.name ?? current.element_id}" is already claimed by someone else.`);
          [updated] = await trx('tasks').where({ id: current.id }).update({ assignee: input.actor.id }).returning('*');
        } else if (input.action === 'unclaim') {
          if (current.assignee && current.assignee !== input.actor.id && !input.actor.roles.includes('coordinator')) {
            throw new ConflictError(`Task "${current.name ?? current.element_id}" is claimed by someone else; only they or the coordinator can release it.`);
          }
          [updated] = await trx('tasks').where({ id: current.id }).update({ assignee: null }).returning('*');
        }
        const type = input.action === 'comment' ? 'comment.added' : `task.${input.action}ed`;
        await appendEvents(trx, row.id, [
          {
            type,
            elementId: current.element_id,
            elementName: current.name,
            elementType: USER_TASK,
            payload: { taskId: current.id, ...(input.action === 'unclaim' ? { previousAssignee: current.assignee } : {}), ...(input.payload ?? {}) },
            actor: input.actor,
          },
        ]);
        const version = row.version + 1;
        await trx('cases').where({ id: row.id }).update({ version, updated_at: this.clock.now() });
        return { caseId: row.id, code: row.code, status: row.status, version, task: updated };
      }),
    );
  }

  /**
   * Record a fact about a case that is not a process step (e.g. an auditor read
   * its personal data): one event, chained like every other, in one transaction.
   */
  async recordCaseEvent(input: { caseId: string; type: string; actor: Actor; payload?: Record<string, unknown> }): Promise<void> {
    await this.db.transaction(async (trx) => {
      const row = await trx('cases').where({ id: input.caseId }).forUpdate().first('id');
      if (!row) throw new NotFoundError(`Case ${input.caseId} does not exist.`);
      await appendEvents(trx, row.id, [{ type: input.type, payload: input.payload ?? {}, actor: input.actor }]);
    });
  }

  /**
   * Fire a due timer job. Loading the case is enough: a timer whose expireAt
   * has passed fires during resume(). Returns 'stale' when another command
   * already consumed the timer (the job row is gone).
   */
  async fireTimer(jobId: string | number): Promise<'fired' | 'stale'> {
    const job = await this.db('jobs').where({ id: jobId, type: 'timer' }).first('case_id');
    if (!job) return 'stale';
    let outcome: 'fired' | 'stale' = 'stale';
    await this.timed('fireTimer', () =>
      this.command(job.case_id, SYSTEM_TIMER, async (trx) => {
        const still = await trx('jobs').where({ id: jobId, status: 'pending' }).first('id');
        outcome = still ? 'fired' : 'stale';
      }, { allowEnded: true }),
    );
    return outcome;
  }

  /**
   * Move a running case to another version of its process (one transaction).
   * Every element the case waits at must exist in the target under the same
   * id or the one `mapping` names; otherwise nothing changes and the problems
   * say which element needs a mapping. Open tasks keep their agency, assignee
   * and deadline; armed timers keep their due time. `check` only plans.
   */
  async migrateCase(input: { code: string; toVersion: number; mapping?: ActivityMapping; comment?: string; actor: Actor; check?: boolean }): Promise<MigrationResult> {
    const found = await this.db('cases').where({ code: input.code }).first('id');
    if (!found) throw new NotFoundError(`Case ${input.code} does not exist.`);
    const mapping = input.mapping ?? {};
    return this.timed('migrateCase', () =>
      this.db.transaction(async (trx) => {
        const row: CaseRow | undefined = await trx('cases').where({ id: found.id }).forUpdate().first();
        if (!row) throw new NotFoundError(`Case ${input.code} does not exist.`);
        if (row.status !== 'running') throw new ConflictError(`Case ${row.code} is ${row.status}; only running cases can be migrated.`);
        const from = await trx('definitions').where({ id: row.definition_id }).first('id', 'key', 'version');
        const to = await trx('definitions').where({ key: from.key, version: input.toVersion, kind: 'bpmn' }).first('id', 'version');
        if (!to) throw new NotFoundError(`Process ${from.key} has no version ${input.toVersion}.`);
        const result: MigrationResult = { caseId: row.id, code: row.code, fromVersion: from.version, toVersion: to.version, outcome: 'unchanged', moves: [] };
        if (to.id === from.id) return result;

        const source = new EngineSession(row.id, await this.definitions.context(from.id, trx), this.hooks(trx));
        let target: EngineSession | undefined;
        try {
          await source.recover(row.engine_state);
          const waiting = source.waitingActivities();
          const plan = planMigration(
            waiting.map((w) => ({ id: w.id, type: w.type, name: w.name, attachedTo: w.api.owner?.attachedTo?.id ?? null, parent: w.api.owner?.parent?.id ?? null })),
            await this.definitions.context(to.id, trx),
            mapping,
            to.version,
          );
          if (plan.problems.length) {
            throw new UnprocessableError(`Case ${row.code} cannot move to version ${to.version}: ${plan.problems.length} waiting element(s) have no counterpart. Nothing was changed.`, [], plan.problems);
          }
          result.moves = plan.moves.map(({ from: f, to: t }) => ({ from: f, to: t }));
          result.outcome = 'migrated';
          if (input.check) return result;

          const renamed = Object.fromEntries(plan.moves.map((m) => [m.from, m.to]));
          target = new EngineSession(row.id, await this.definitions.context(to.id, trx), this.hooks(trx));
          await target.recover(remapState(await source.state(), renamed));
          const expected = waiting.map((w) => renamed[w.id] ?? w.id).sort();
          const placed = target.waitingActivities().map((w) => w.id).sort();
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
          for (const w of target.waiting().filter((x) => x.type === USER_TASK && Object.values(renamed).includes(x.id))) {
            await trx('tasks').where({ case_id: row.id, execution_id: w.executionId }).update({ element_id: w.id, name: w.name, form_key: w.behaviour.formKey ?? null });
          }
          for (const m of plan.moves) await trx('jobs').where({ case_id: row.id, element_id: m.from, status: 'pending' }).update({ element_id: m.to });
          await trx('cases').where({ id: row.id }).update({ definition_id: to.id });
          await this.save(trx, row, target);
          return result;
        } finally {
          source.dispose();
          target?.dispose();
        }
      }),
    );
  }

  /**
   * The batch form: migrate the running cases of process `key` (optionally only
   * those on `fromVersion`, or only `codes`), oldest first, each in its own
   * transaction, so one refused case does not hold back the others.
   */
  async migrateCases(input: {
    key: string;
    toVersion: number;
    fromVersion?: number;
    codes?: string[];
    mapping?: ActivityMapping;
    comment?: string;
    check?: boolean;
    limit?: number;
    actor: Actor;
  }): Promise<BatchMigrationResult> {
    const target = await this.db('definitions').where({ key: input.key, version: input.toVersion, kind: 'bpmn' }).first('id');
    if (!target) throw new NotFoundError(`Process ${input.key} has no version ${input.toVersion}.`);
    const candidates = () => {
      const q = this.db('cases as c').join('definitions as d', 'd.id', 'c.definition_id').where({ 'd.key': input.key, 'c.status': 'running' });
      if (input.fromVersion) q.where('d.version', input.fromVersion);
      if (input.codes) q.whereIn('c.code', input.codes);
      else q.whereNot('d.id', target.id);
      return q;
    };
    const total = Number((await candidates().count('* as n').first())?.n ?? 0);
    const rows: Array<{ code: string; version: number }> = await candidates().orderBy('c.created_at').limit(input.limit ?? 200).select('c.code', 'd.version');
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
        const done = await this.migrateCase({ code: r.code, toVersion: input.toVersion, mapping: input.mapping, comment: input.comment, actor: input.actor, check: input.check });
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

  private async command(
    caseId: string,
    actor: Actor,
    act: (trx: Knex.Transaction, session: EngineSession) => Promise<void>,
    opts: { allowEnded?: boolean } = {},
  ): Promise<CommandResult> {
    return this.db.transaction(async (trx) => {
      const row: CaseRow | undefined = await trx('cases').where({ id: caseId }).forUpdate().first();
      if (!row) throw new NotFoundError(`Case ${caseId} does not exist.`);
      if (row.status !== 'running') {
        if (opts.allowEnded) return { caseId: row.id, code: row.code, status: row.status, version: row.version };
        throw new ConflictError(`Case ${row.code} is ${row.status}; it accepts no more commands.`);
      }
      const context = await this.definitions.context(row.definition_id, trx);
      const session = new EngineSession(row.id, context, this.hooks(trx));
      try {
        await session.recover(row.engine_state);
        session.actAs(actor);
        await act(trx, session);
        await session.settle();
        return await this.save(trx, row, session);
      } finally {
        session.dispose();
      }
    });
  }

  /** Write everything the command changed, in the command's transaction. */
  private async save(trx: Knex.Transaction, row: CaseRow, session: EngineSession): Promise<CommandResult> {
    const variables = session.variables();
    const now = this.clock.now();
    const changes = variableChanges(row.variables ?? {}, variables);
    if (changes.length) session.record({ type: 'variables.changed', payload: { changes } });
    try {
      await this.projectTasks(trx, row.id, session, variables, now);
    } catch (err) {
      if (err instanceof FeelError) throw new UnprocessableError(`The process could not create its next task: ${err.message}`);
      throw err;
    }
    await this.projectTimers(trx, row.id, session);
    await this.writeOutbox(trx, row, session, now);
    const status = session.ended ? 'completed' : 'running';
    if (status === 'completed') session.record({ type: 'case.completed', payload: {} });
    await appendEvents(trx, row.id, session.events);
    const version = row.version + 1;
    await trx('cases')
      .where({ id: row.id })
      .update({
        engine_state: JSON.stringify(await session.state()),
        variables: JSON.stringify(variables),
        status,
        version,
        updated_at: now,
        ended_at: status === 'completed' ? now : null,
      });
    if (status === 'completed') await trx('tasks').where({ case_id: row.id }).delete();
    return { caseId: row.id, code: row.code, status, version };
  }

  private async projectTasks(trx: Knex.Transaction, caseId: string, session: EngineSession, variables: Record<string, unknown>, now: Date) {
    const waitingTasks = session.waiting().filter((w) => w.type === USER_TASK);
    const existing: TaskRow[] = await trx('tasks').where({ case_id: caseId });
    const waitingIds = new Set(waitingTasks.map((w) => w.executionId));
    const gone = existing.filter((t) => !waitingIds.has(t.execution_id));
    if (gone.length) await trx('tasks').whereIn('id', gone.map((t) => t.id)).delete();
    const known = new Set(existing.map((t) => t.execution_id));
    for (const w of waitingTasks) {
      if (known.has(w.executionId)) continue;
      // Candidate groups and due date are evaluated once, when the task is
      // created: re-evaluating later would move a deadline as `now()` moves.
      const { candidateGroups, assignee, due } = taskAssignment(w.behaviour, variables, now, this.functions);
      const [task] = await trx('tasks')
        .insert({
          case_id: caseId,
          element_id: w.id,
          execution_id: w.executionId,
          name: w.name,
          candidate_groups: candidateGroups,
          assignee,
          due_at: due,
          form_key: w.behaviour.formKey ?? null,
          created_at: now,
        })
        .returning(['id']);
      session.record({
        type: 'task.created',
        elementId: w.id,
        elementName: w.name,
        elementType: USER_TASK,
        payload: { taskId: task.id, candidateGroups, assignee, due: due?.toISOString() ?? null, formKey: w.behaviour.formKey ?? null },
      });
    }
  }

  /** Replace the case's pending timer jobs with the timers the engine has armed. */
  private async projectTimers(trx: Knex.Transaction, caseId: string, session: EngineSession) {
    const armed = session.armedTimers();
    const existing: Array<{ id: string; execution_id: string }> = await trx('jobs')
      .where({ case_id: caseId, type: 'timer', status: 'pending' })
      .select('id', 'execution_id');
    const armedIds = new Set(armed.map((t) => t.executionId));
    const stale = existing.filter((j) => !armedIds.has(j.execution_id)).map((j) => j.id);
    if (stale.length) await trx('jobs').whereIn('id', stale).delete();
    const known = new Set(existing.map((j) => j.execution_id));
    const fresh = armed.filter((t) => !known.has(t.executionId));
    if (fresh.length) {
      await trx('jobs').insert(
        fresh.map((t) => ({
          type: 'timer',
          case_id: caseId,
          element_id: t.elementId,
          execution_id: t.executionId,
          due_at: t.expireAt,
          payload: JSON.stringify({ elementId: t.elementId }),
        })),
      );
    }
  }

  /** Transactional outbox: messages exist exactly when the state change that caused them commits. */
  private async writeOutbox(trx: Knex.Transaction, row: CaseRow, session: EngineSession, now: Date) {
    if (!session.outbox.length) return;
    const vars = session.variables();
    const agency = typeof vars.agency === 'string' ? vars.agency : '';
    const answer = typeof vars.answer === 'string' ? vars.answer : '';
    const values = {
      ...vars,
      code: row.code,
      agencyName: (agency && this.options.agencyName?.(agency)) || agency,
      due: vietnameseDate(vars.dueAt),
      // A long answer is cut at a word boundary; the full text is in the public lookup once published.
      answer: answer.length > 300 ? `${answer.slice(0, 300).replace(/\s+\S*$/, '')}…` : answer,
    };
    for (const m of session.outbox) {
      const template = String(m.payload.template);
      const text = this.options.smsTemplates?.render(template, values) ?? null;
      const [job] = await trx('jobs')
        .insert({
          type: m.type,
          case_id: row.id,
          element_id: m.elementId,
          due_at: now,
          payload: JSON.stringify({ ...m.payload, caseCode: row.code, text }),
        })
        .returning('id');
      session.record({ type: `${m.type}.queued`, elementId: m.elementId, payload: { jobId: String(job.id ?? job), template: m.payload.template } });
    }
  }

  private async timed<T>(command: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await fn();
      this.options.onCommand?.({ command, caseId: (result as any)?.caseId ?? '', ms: performance.now() - started, outcome: 'ok' });
      return result;
    } catch (err) {
      this.options.onCommand?.({ command, caseId: '', ms: performance.now() - started, outcome: 'error' });
      throw translateEngineError(err);
    }
  }
}

/** Case variables whose values hold a citizen's personal data; marked in change events. */
const PERSONAL_VARIABLES = new Set(['citizenName', 'citizenPhone', 'citizenAddress', 'citizenEmail']);

/** old → new for every variable the command changed, personal data marked. */
function variableChanges(before: Record<string, unknown>, after: Record<string, unknown>) {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changes: Array<{ name: string; old: unknown; new: unknown; personal?: true }> = [];
  for (const name of [...names].sort()) {
    const a = before[name] ?? null;
    const b = after[name] ?? null;
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    changes.push({ name, old: a, new: b, ...(PERSONAL_VARIABLES.has(name) ? { personal: true as const } : {}) });
  }
  return changes;
}

function waitsForMessage(w: WaitingActivity, name: string): boolean {
  const refs: any[] = [];
  if (w.behaviour.messageRef) refs.push(w.behaviour.messageRef);
  for (const def of w.behaviour.eventDefinitions ?? []) {
    if (def.type === 'bpmn:MessageEventDefinition' && def.behaviour?.messageRef) refs.push(def.behaviour.messageRef);
  }
  return refs.some((r) => r.name === name || r.id === name);
}

/** Engine failures caused by the diagram or the data become 422s; our own typed errors pass through. */
function translateEngineError(err: unknown): unknown {
  if (err instanceof Error && err.constructor.name !== 'Error' && 'status' in err) return err;
  if (err instanceof FeelError) return new UnprocessableError(`The process could not continue: ${err.message}`);
  const name = (err as any)?.constructor?.name;
  if (name === 'ActivityError' || name === 'RunError' || name === 'BpmnError') {
    return new UnprocessableError(`The process could not continue: ${(err as Error).message}`);
  }
  return err;
}

import type { Knex } from 'knex';
import type { Db } from '../db/connect.js';
import type { Actor } from './actor.js';
import { SYSTEM_TIMER } from './actor.js';
import { newCaseCode } from './case-code.js';
import type { DefinitionStore } from './definitions.js';
import { ConflictError, NotFoundError, UnprocessableError } from './errors.js';
import { FeelError, resolveDueDate, resolveList, type FeelFunctions } from './feel.js';
import type { DecisionStore } from './decisions.js';
import { appendEvents } from './history.js';
import { vietnameseDate, type SmsTemplates } from './sms.js';
import { EngineSession, type WaitingActivity } from './session.js';

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

export interface CommandResult {
  caseId: string;
  code: string;
  status: string;
  version: number;
}

export interface RuntimeOptions {
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

  constructor(
    readonly db: Db,
    readonly definitions: DefinitionStore,
    private readonly options: RuntimeOptions = {},
  ) {
    this.functions = options.functions ?? {};
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
        const code = newCaseCode();
        try {
          return await this.db.transaction(async (trx) => {
            const [row] = await trx('cases')
              .insert({ code, definition_id: definition.id, status: 'running', engine_state: {}, variables: {}, created_by: input.actor.id, created_at: new Date(), updated_at: new Date() })
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
        await trx('cases').where({ id: row.id }).update({ version, updated_at: new Date() });
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
    const now = new Date();
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
      const candidateGroups = resolveList(w.behaviour.candidateGroups, variables, this.functions);
      const assignee = resolveList(w.behaviour.assignee, variables, this.functions)[0] ?? null;
      const due = resolveDueDate(w.behaviour.dueDate, variables, now, this.functions);
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

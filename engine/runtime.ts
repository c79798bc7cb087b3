import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from '../db/connect.js';
import { caseIdByCode, engineStateOf, insertCase, lockCase, lockCaseOfTask, touchCase, updateCase, type CaseForView, type CaseRow, type LockedCase } from '../db/cases.js';
import { DeferredWrites } from '../db/deferred.js';
import { openIncidentsOfCase } from '../db/incidents.js';
import { reserveKey, storeAnswer } from '../db/idempotency.js';
import { timerJob } from '../db/jobs.js';
import { deleteTasksOfCase, setAssignee, type TaskRow } from '../db/tasks.js';
import type { Actor } from './actor.js';
import { SYSTEM_TIMER } from './actor.js';
import { systemClock, type Clock } from './clock.js';
import type { DecisionStore } from './decisions.js';
import type { DefinitionStore } from './definitions.js';
import { ConflictError, NotFoundError, UnprocessableError } from './errors.js';
import { FeelError, type FeelFunctions } from './feel.js';
import { appendEvents, appendSystemEvent } from './history.js';
import { migrateCase, migrateCases, type BatchMigrationResult, type MigrationInput, type MigrationResult } from './case-migration.js';
import type { ActivityMapping } from './migration.js';
import { writeOutbox, type RenderMessage } from './outbox.js';
import { projectTimers } from './jobs.js';
import { projectTasks, USER_TASK } from './projection.js';
import { EngineSession, type PendingEvent, type WaitingActivity } from './session.js';
import { CaseSession, callResolver } from './call-activity.js';
import { EngineCache } from './engine-cache.js';
import { isHeldExpiry } from './bpmn.js';

export type { CaseRow, TaskRow, MigrationResult, BatchMigrationResult };

export interface CommandResult {
  caseId: string;
  code: string;
  status: string;
  version: number;
  /** The case's open tasks as the command left them (oldest first); absent when the command did not run the engine. */
  tasks?: TaskRow[];
  /** Ids of the timer jobs the case had before the command and still has (absent when the command did not run the engine). */
  timerJobsKept?: string[];
}

/** What a command that ran the engine and saved it answers: always with the task rows it left. */
export type SavedCommand = CommandResult & Required<Pick<CommandResult, 'tasks' | 'timerJobsKept'>>;

/**
 * What a start answers: the saved command and the new case as its one
 * transaction wrote it (row, open tasks, the types of the events in its
 * history), so the answer needs no read after the commit.
 */
export interface StartedCase extends SavedCommand {
  case: Omit<CaseForView, 'flags'>;
  eventTypes: string[];
}

/** The open task ids a command left, for the engine cache (a task command finds a kept engine by its task). */
function taskIdsOf(result: CommandResult): string[] {
  return (result.tasks ?? []).map((t) => t.id);
}

/** An Idempotency-Key's answer gets the command's result as a CommandResult: a start's is a StartedCase. */
export function isStarted(result: CommandResult): result is StartedCase {
  return 'case' in result && 'eventTypes' in result;
}

/**
 * An Idempotency-Key for a command: reserved, acted on and answered in the
 * command's one transaction (db/idempotency.ts), so a crash leaves neither a
 * stuck key nor a second effect.
 */
export interface Once {
  principalId: string;
  key: string;
  /** The request's route and the hash of its body: the same key with another body is a conflict. */
  route: string;
  hash: string;
  /** The answer to store and to give every retry, computed in the command's transaction. */
  answer(trx: Knex.Transaction, result: CommandResult): Promise<{ status: number; body: unknown }>;
}

/**
 * Called in a command's transaction once the case is locked, before the
 * command acts: writes what must commit with the command or not at all (an
 * inbound SMS's providerId, engine/hotline/rating.ts), and throws to refuse
 * the command (the transaction rolls back; nothing is written).
 */
export type CommandClaim = (trx: Knex.Transaction) => Promise<void>;

/** What a command run with a key gives: its answer, fresh or replayed (no second effect). */
export interface Answered {
  status: number;
  body: unknown;
  replayed: boolean;
}

/** What a caller may do with a task; asked by every task command on the locked, current row. */
export type TaskAction = 'complete' | 'claim' | 'unclaim' | 'comment';

/**
 * The access policy as the engine sees it: the deployment supplies it
 * (engine/hotline/policy.ts), the engine asks it on the locked, current task
 * in every task command, whoever calls the command.
 */
export interface TaskPolicy {
  /** Throws (ForbiddenError, ConflictError) unless `actor` may do `action` on `task` now. */
  assertMay(actor: Actor, task: TaskRow, action: TaskAction): void;
}

/** Task forms and message payloads: validated inside the commands (engine/forms.ts). */
export interface FormCheck {
  check(formKey: string | null | undefined, data: unknown): void;
  checkMessage(name: string, payload: Record<string, unknown>): void;
}

export interface RuntimeOptions {
  /** Who may act on a task (required: no command runs without a policy). */
  policy: TaskPolicy;
  /** Task forms and message payload forms; without it, data is not checked against a form (tests of bare diagrams). */
  forms?: FormCheck;
  /** The one clock (engine/clock.ts): case codes, task deadlines, timer due times, history timestamps. */
  clock?: Clock;
  /** FEEL functions for every expression (the working-day calendar). */
  functions?: FeelFunctions;
  /** Deployed DMN decisions for business-rule tasks. */
  decisions?: DecisionStore;
  /** A new case's code (the hotline's PA2611-7K3QX); default a random UUID-like code. */
  newCaseCode?: (now: Date) => string;
  /** Checks on intake variables beyond their schema (e.g. catalogue codes in force). */
  checkStart?: (variables: Record<string, unknown>, at: Date, processKey: string) => void;
  /** Checks on a task's output beyond its form (e.g. catalogue codes, no transfer to the holder). */
  checkOutput?: (task: TaskRow, output: Record<string, unknown>, at: Date) => void;
  /** What an outgoing message carries besides the engine's payload (e.g. SMS text). */
  renderMessage?: RenderMessage;
  /** Variables holding personal data: marked in variables.changed events so views can mask them. */
  personalVariables?: readonly string[];
  /**
   * Called in every command's transaction just before its history is written,
   * with the events the command recorded (task.created, task.completed …):
   * a plug-in writes what follows from them (e.g. webhook outbox rows) so it
   * commits or rolls back with the command. Events it returns join the
   * command's history (written with the rest, in one statement: a plug-in
   * never appends to the case's chain itself). Rows it does not read back
   * it may hold in `held`, sent with the history (db/deferred.ts).
   */
  onSave?: (trx: Knex.Transaction, kase: { id: string; code: string; variables: Record<string, unknown> }, events: readonly PendingEvent[], now: Date, held?: DeferredWrites) => Promise<PendingEvent[] | void>;
  /**
   * Asked on the locked, current task row before a task command acts on it
   * (e.g. that the row agrees with the case's history); throws to refuse.
   */
  checkTaskRow?: (trx: Knex.Transaction, task: TaskRow, kase: LockedCase) => Promise<void>;
  /**
   * How many live engines this node keeps between commands (engine/engine-cache.ts),
   * each used only while the case row's version proves it current; 0 (the default) recovers every command.
   */
  engineCacheSize?: number;
  /** Called after each command; the API uses it for logs and metrics. */
  onCommand?: (info: { command: string; caseId: string; ms: number; outcome: 'ok' | 'error' }) => void;
}

/**
 * The case runtime. Every public method is one command, one transaction:
 *
 *   load  — lock the case row, recover a new engine from its saved state
 *   act   — check the caller (policy) and the input (forms), then signal
 *   run   — until every token waits or the case ends
 *   save  — state, task rows (projection.ts), timer jobs, outbox (outbox.ts),
 *           history (history.ts), in the same transaction
 *
 * If anything throws, the transaction rolls back and the case is exactly as
 * it was. An engine outlives its command only in the engine cache
 * (engine/engine-cache.ts), after its command committed, and is used again
 * only while the locked case row's version proves it current; a failed
 * command drops it.
 */
export class Runtime {
  readonly clock: Clock;
  private readonly functions: FeelFunctions;
  /** Live engines kept between commands on this node (engine/engine-cache.ts). */
  readonly engines: EngineCache;
  /** The transaction each session's hooks (decisions) read in: rebound when a cached engine serves another command. */
  private readonly bindings = new WeakMap<EngineSession, { trx: Knex.Transaction }>();

  constructor(
    readonly db: Db,
    readonly definitions: DefinitionStore,
    private readonly options: RuntimeOptions,
  ) {
    this.functions = options.functions ?? {};
    this.clock = options.clock ?? systemClock;
    this.engines = new EngineCache(options.engineCacheSize ?? 0);
  }

  async startCase(input: { processKey: string; variables?: Record<string, unknown>; actor: Actor }): Promise<StartedCase> {
    const { result } = await this.start(input);
    return result!;
  }

  /** startCase with an Idempotency-Key: the reservation, the case and the answer commit together. */
  async startCaseOnce(input: { processKey: string; variables?: Record<string, unknown>; actor: Actor; once: Once }): Promise<Answered> {
    return (await this.start(input)).answered!;
  }

  private async start(input: { processKey: string; variables?: Record<string, unknown>; actor: Actor; once?: Once }): Promise<{ result?: StartedCase; answered?: Answered }> {
    const variables = input.variables ?? {};
    const definition = await this.definitions.latest(input.processKey);
    const context = await this.definitions.context(definition.id);
    return this.timed('startCase', async () => {
      const now = this.clock.now();
      this.options.checkStart?.(variables, now, definition.key);
      for (let attempt = 0; ; attempt++) {
        const code = (this.options.newCaseCode ?? defaultCaseCode)(now);
        let kept: { session: EngineSession; result: StartedCase } | undefined;
        try {
          const done = await this.db.transaction(async (trx) => {
            const replay = input.once && (await this.reserve(trx, input.once, now));
            if (replay) return { answered: replay };
            // The row is written by save, once, with what the first run left (one statement, not an insert and an update).
            const row: CaseRow = { id: randomUUID(), code, definition_id: definition.id, status: 'running', engine_state: {}, variables: {}, version: 0, created_by: input.actor.id, created_at: now, updated_at: now, ended_at: null };
            const session = this.session(trx, row.id, context);
            let keep = false;
            let atRest = false;
            try {
              session.actAs(input.actor);
              session.record({ type: 'case.started', payload: { process: definition.key, version: definition.version, variables } });
              await session.start(variables);
              atRest = true;
              const saved = await this.save(trx, row, session, { newCase: true });
              const eventTypes = [...new Set(session.events.map((e) => e.type))];
              const result: StartedCase = { ...saved, case: newCaseAsSaved(row, definition, saved, session.variables(), now), eventTypes };
              const answered = input.once && (await this.answer(trx, input.once, result));
              keep = this.engines.enabled && session.reusable();
              if (keep) kept = { session, result };
              return { result, answered };
            } finally {
              if (!keep) session.end(atRest);
            }
          });
          // Committed: the engine waits where the stored state says; keep it for the case's next command.
          if (kept) this.engines.put(kept.result.caseId, { session: kept.session, version: kept.result.version, definitionId: definition.id, taskIds: taskIdsOf(kept.result) });
          kept = undefined;
          return done;
        } catch (err: any) {
          kept?.session.release();
          // A code collision (unique violation on cases.code) is retried with a new code.
          if (err?.code === '23505' && String(err?.constraint ?? err?.detail ?? '').includes('code') && attempt < 5) continue;
          throw err;
        }
      }
    });
  }

  /** Reserve the key in this transaction; a stored answer is a replay, another body or a key in flight a conflict. */
  private async reserve(trx: Knex.Transaction, once: Once, now: Date): Promise<Answered | undefined> {
    const claim = await reserveKey(trx, { principalId: once.principalId, key: once.key, route: once.route, hash: once.hash, at: now });
    if (claim.kind === 'conflict') throw new ConflictError(`Idempotency-Key "${once.key}": ${claim.reason}.`);
    if (claim.kind === 'replay') return { status: claim.status, body: claim.response, replayed: true };
    return undefined;
  }

  private async answer(trx: Knex.Transaction, once: Once, result: CommandResult): Promise<Answered> {
    const { status, body } = await once.answer(trx, result);
    await storeAnswer(trx, once.principalId, once.key, status, body);
    return { status, body, replayed: false };
  }

  /**
   * Complete a task with its form data. The caller, the form and the
   * output rules are checked here, on the locked, current task, whoever calls.
   */
  async completeTask(input: { taskId: string; output?: Record<string, unknown>; actor: Actor }): Promise<SavedCommand> {
    const output = input.output ?? {};
    return this.timed('completeTask', () =>
      this.command({ taskId: input.taskId }, input.actor, async (trx, session, row) => {
        const current = await this.currentTask(trx, input.taskId, row);
        this.options.policy.assertMay(input.actor, current, 'complete');
        this.options.forms?.check(current.form_key, output);
        this.options.checkOutput?.(current, output, this.clock.now());
        const waiting = session.waiting().find((w) => w.executionId === current.execution_id);
        if (!waiting) throw new ConflictError(`Task "${current.name ?? current.element_id}" is no longer waiting (a timer or another command ended it).`);
        session.record({
          type: 'task.completed',
          elementId: current.element_id,
          elementName: current.name,
          elementType: USER_TASK,
          payload: { taskId: current.id, output },
        });
        waiting.api.signal(output);
      }),
    );
  }

  /**
   * Deliver a message. Its payload is checked against the message's form
   * first (its fields become case variables, so a message must not be able
   * to set, say, the agency).
   */
  async correlateMessage(input: { code: string; name: string; payload?: Record<string, unknown>; actor: Actor; claim?: CommandClaim }): Promise<CommandResult> {
    const payload = input.payload ?? {};
    this.options.forms?.checkMessage(input.name, payload);
    const caseId = await caseIdByCode(this.db, input.code);
    if (!caseId) throw new NotFoundError(`Case ${input.code} does not exist.`);
    return this.timed('correlateMessage', () =>
      this.command({ caseId }, input.actor, async (trx, session) => {
        await input.claim?.(trx);
        const target = session.waiting().find((w) => waitsForMessage(w, input.name));
        if (!target) throw new ConflictError(`Case ${input.code} is not waiting for message "${input.name}".`);
        session.record({
          type: 'message.correlated',
          elementId: target.id,
          elementName: target.name,
          elementType: target.type,
          payload: { message: input.name, payload },
        });
        target.api.signal(payload);
      }),
    );
  }

  /**
   * Claim or release a task, or comment on it: commands that change no engine
   * state but must serialize with completions (the case row is locked) and
   * leave one history event.
   */
  async taskAction(input: { taskId: string; action: 'claim' | 'unclaim' | 'comment'; actor: Actor; payload?: Record<string, unknown>; once?: Once }): Promise<CommandResult & { task: TaskRow; answered?: Answered }> {
    return this.timed(`${input.action}Task`, () =>
      this.db.transaction(async (trx) => {
        // Nothing here reads the engine state: left out when the node keeps the engine (db/cases.ts lockedCase).
        const row = await lockCaseOfTask(trx, input.taskId, this.engines.peek({ taskId: input.taskId }));
        if (!row) throw new ConflictError(`Task ${input.taskId} is not open.`);
        const replay = input.once && (await this.reserve(trx, input.once, this.clock.now()));
        // The case is locked and the task was found through it: the task row is there.
        if (replay) return { caseId: row.id, code: row.code, status: row.status, version: row.version, task: row.tasks.find((t) => t.id === input.taskId)!, answered: replay, from: row.version };
        const current = await this.currentTask(trx, input.taskId, row);
        this.options.policy.assertMay(input.actor, current, input.action);
        // Claiming one's own claim again, or releasing a free task, changes nothing: it answers the task as it is and
        // writes nothing (no event, no version), so a client's retry cannot fill the history with claims that did not happen.
        const noChange = (input.action === 'claim' && current.assignee === input.actor.id) || (input.action === 'unclaim' && current.assignee == null);
        if (noChange) {
          const same = { caseId: row.id, code: row.code, status: row.status, version: row.version };
          return { ...same, task: current, answered: input.once && (await this.answer(trx, input.once, same)), from: row.version };
        }
        let updated = current;
        if (input.action === 'claim') updated = await setAssignee(trx, current.id, input.actor.id);
        else if (input.action === 'unclaim') updated = await setAssignee(trx, current.id, null);
        const type = input.action === 'comment' ? 'comment.added' : `task.${input.action}ed`;
        await appendEvents(
          trx,
          row.id,
          [
            {
              type,
              elementId: current.element_id,
              elementName: current.name,
              elementType: USER_TASK,
              payload: { taskId: current.id, ...(input.action === 'unclaim' ? { previousAssignee: current.assignee } : {}), ...(input.payload ?? {}) },
              actor: input.actor,
            },
          ],
          this.clock,
          { head: row.head },
        );
        const version = row.version + 1;
        await updateCase(trx, row.id, { version, updated_at: this.clock.now() });
        const result = { caseId: row.id, code: row.code, status: row.status, version };
        return { ...result, task: updated, answered: input.once && (await this.answer(trx, input.once, result)), from: row.version };
      }),
    ).then(({ from, ...result }) => {
      // Committed, and the engine was not touched: a cached engine that was current still is.
      if (!result.answered?.replayed) this.engines.bump(result.caseId, from, result.version);
      return result;
    });
  }

  /**
   * Record a fact about a case that is not a process step (e.g. an auditor read
   * its personal data): one event, chained like every other, in one transaction.
   */
  async recordCaseEvent(input: { caseId: string; type: string; actor: Actor; payload?: Record<string, unknown>; claim?: CommandClaim }): Promise<void> {
    await this.db.transaction(async (trx) => {
      const row = await lockCase(trx, input.caseId);
      if (!row) throw new NotFoundError(`Case ${input.caseId} does not exist.`);
      await input.claim?.(trx);
      await appendEvents(trx, row.id, [{ type: input.type, payload: input.payload ?? {}, actor: input.actor }], this.clock, { head: row.head });
      // The history moved: a command waiting for the lock must read the case again (db/cases.ts lockAndRead).
      await touchCase(trx, row.id);
    });
  }

  /** Record a fact that belongs to no case (an unmasked export) on the system chain, in one transaction. */
  async recordSystemEvent(event: { type: string; actor: Actor; payload?: Record<string, unknown> }): Promise<void> {
    await this.db.transaction((trx) => appendSystemEvent(trx, { type: event.type, payload: event.payload ?? {}, actor: event.actor }, this.clock));
  }

  /**
   * Fire a due timer job. Loading the case is enough: a timer whose expiry
   * has passed (by the clock) fires during resume(). Returns 'stale' when
   * another command already consumed the timer (the job row is gone), and
   * 'pending' when the job is still there after the command (the engine's
   * clock did not find it due). `caseId`, when the caller has the job row (the
   * executor), saves reading it; the job is checked under the case's lock
   * either way.
   */
  async fireTimer(jobId: string | number, caseId?: string | null): Promise<'fired' | 'stale' | 'pending'> {
    const target = caseId ?? (await timerJob(this.db, jobId))?.case_id;
    if (!target) return 'stale';
    let found = false;
    const result = await this.timed('fireTimer', () =>
      this.command(
        { caseId: target },
        SYSTEM_TIMER,
        async (_trx, _session, row) => {
          found = row.timerJobs.some((j) => j.id === String(jobId));
        },
        { allowEnded: true },
      ),
    );
    if (!found) return 'stale';
    return result.timerJobsKept?.includes(String(jobId)) ? 'pending' : 'fired';
  }

  /** Move a running case to another version of its process (engine/case-migration.ts). */
  migrateCase(input: MigrationInput & { code: string }): Promise<MigrationResult> {
    return this.timed('migrateCase', () => migrateCase(this, input));
  }

  /** The batch form: each case in its own transaction (engine/case-migration.ts). */
  migrateCases(input: Omit<MigrationInput, 'mapping'> & { key: string; fromVersion?: number; codes?: string[]; mapping?: ActivityMapping; limit?: number }): Promise<BatchMigrationResult> {
    return migrateCases(this, input);
  }

  // ------------------------------------------------------------ load, save

  /** A new engine for one command, its hooks bound to the command's transaction (one connection on PGlite: never step outside it). */
  session(trx: Knex.Transaction, caseId: string, context: Awaited<ReturnType<DefinitionStore['context']>>): EngineSession {
    const decisions = this.options.decisions;
    const bound = { trx };
    // A CaseSession also runs the processes its call activities call (engine/call-activity.ts).
    const session = new CaseSession(caseId, context, {
      functions: this.functions,
      clock: this.clock,
      decide: (ref: string, variables: Record<string, unknown>, map: string | undefined) => {
        if (!decisions) return Promise.reject(new Error('No decision store is configured'));
        return decisions.decide(ref, variables, map, bound.trx);
      },
    }, { resolver: callResolver(() => bound.trx, (id, t) => this.definitions.context(id, t)) });
    this.bindings.set(session, bound);
    return session;
  }

  /**
   * The case's engine for this command: the cached one when the locked row
   * proves it current and none of its timers has fallen due (a due timer
   * fires during a recovery's resume, so that path keeps doing it), else a
   * recovery from the stored state.
   */
  private async load(trx: Knex.Transaction, row: CaseRow): Promise<EngineSession> {
    const cached = this.engines.take(row.id, row);
    if (cached) {
      const now = this.clock.now().getTime();
      const due = cached.armedTimers().some((t) => !isHeldExpiry(t.expireAt) && t.expireAt.getTime() <= now);
      if (!due) {
        this.bindings.get(cached)!.trx = trx;
        cached.beginCommand();
        return cached;
      }
      cached.release(); // at rest in the cache: nothing of it runs
      this.engines.hits--;
      this.engines.misses++;
    }
    const session = this.session(trx, row.id, await this.definitions.context(row.definition_id, trx));
    // The lock left the state out for the engine the node keeps, which went (evicted meanwhile) or has a due timer.
    if ((row as Partial<LockedCase>).stateLeftOut) row.engine_state = await engineStateOf(trx, row.id);
    // Parsed from the lock's text for this command, and read by nothing after the recovery: no copy.
    await session.recover(row.engine_state, { handedOver: true });
    return session;
  }

  /** load → act → run → save, in one transaction. */
  private async command(target: { caseId: string } | { taskId: string }, actor: Actor, act: CommandAct): Promise<SavedCommand>;
  private async command(target: { caseId: string } | { taskId: string }, actor: Actor, act: CommandAct, opts: { allowEnded: true }): Promise<CommandResult>;
  private async command(target: { caseId: string } | { taskId: string }, actor: Actor, act: CommandAct, opts: { allowEnded?: boolean } = {}): Promise<CommandResult> {
    let kept: { session: EngineSession; definitionId: number; caseId: string } | undefined;
    try {
      const result = await this.db.transaction(async (trx) => {
        // A task command finds its case through the task in the same statement that locks it.
        // The version this node keeps the case's engine at, if any: the lock then leaves the stored state out (load).
        const keptAt = this.engines.peek(target);
        const row = 'taskId' in target ? await lockCaseOfTask(trx, target.taskId, keptAt) : await lockCase(trx, target.caseId, keptAt);
        if (!row) throw 'taskId' in target ? new ConflictError(`Task ${target.taskId} is not open: it was completed, cancelled, or never existed.`) : new NotFoundError(`Case ${target.caseId} does not exist.`);
        if (row.status !== 'running') {
          this.engines.drop(row.id);
          if (opts.allowEnded) return { caseId: row.id, code: row.code, status: row.status, version: row.version };
          throw new ConflictError(`Case ${row.code} is ${row.status}; it accepts no more commands.`);
        }
        const session = await this.load(trx, row);
        let keep = false;
        let atRest = false;
        try {
          session.actAs(actor);
          await act(trx, session, row);
          await session.settle();
          atRest = true;
          const saved = await this.save(trx, row, session, { locked: row });
          keep = this.engines.enabled && session.reusable();
          if (keep) kept = { session, definitionId: row.definition_id, caseId: row.id };
          return saved;
        } finally {
          // A failed command's engine may be half-way through it: never keep it.
          if (!keep) session.end(atRest);
        }
      });
      // Committed: the engine waits where the stored state (version) says; keep it for the next command.
      if (kept) this.engines.put(kept.caseId, { session: kept.session, version: result.version, definitionId: kept.definitionId, taskIds: taskIdsOf(result) });
      kept = undefined;
      return result;
    } finally {
      // The transaction failed (at commit, or after the save): the engine holds what was rolled back (and is at rest).
      kept?.session.release();
    }
  }

  /**
   * Write everything the command changed, in the command's transaction.
   * opts.newCase: the case is new (its row is inserted here; nothing of it to read); opts.locked: the
   * command's own lock (db/cases.ts LockedCase), whose task rows and timer jobs nothing changed since.
   */
  async save(trx: Knex.Transaction, row: CaseRow, session: EngineSession, opts: { newCase?: boolean; locked?: LockedCase } = {}): Promise<SavedCommand> {
    const variables = session.variables();
    const now = this.clock.now();
    const changes = variableChanges(row.variables ?? {}, variables, this.options.personalVariables ?? []);
    if (changes.length) session.record({ type: 'variables.changed', payload: { changes } });
    const status = session.ended ? 'completed' : 'running';
    const version = row.version + 1;
    // A new case's row (created when the command began, its code was made then; updated now) goes with the
    // history statement, held like the rows that reference it: their foreign keys are checked when that
    // statement ends. A write that goes at once and references the case (an SMS job, whose id the history
    // records; an incident) sends the row first (caseRowFirst). Issue 20: a start's case row was a round
    // trip of its own, 2.1 ms median from Node on the shipped diagram.
    let newRow = opts.newCase ? { ...row, updated_at: now, engine_state: await session.state(), variables, status, version, ended_at: status === 'completed' ? now : null } : null;
    const caseRowFirst = async () => {
      if (!newRow) return;
      const first = newRow;
      newRow = null;
      await insertCase(trx, first);
    };
    // Incidents are read once for both projections, and only when the lock said there are any; a new case
    // has none (nor tasks, jobs or history).
    const locked = row as Partial<LockedCase>;
    const incidents = opts.newCase || locked.hasOpenIncidents === false ? [] : await openIncidentsOfCase(trx, row.id);
    // Writes whose results the command does not read go with the history, in one statement (db/deferred.ts).
    const held = new DeferredWrites(trx);
    let tasks = await projectTasks(trx, row.id, session, variables, now, this.functions, { incidents, existing: opts.newCase ? [] : opts.locked?.tasks, writes: held, beforeDirectWrite: caseRowFirst });
    const timerJobsKept = await projectTimers(trx, row.id, session, { incidents, existing: opts.newCase ? [] : opts.locked?.timerJobs, writes: held, beforeDirectWrite: caseRowFirst });
    if (session.outbox.length) await caseRowFirst();
    await writeOutbox(trx, row, session, now, this.options.renderMessage);
    if (status === 'completed') session.record({ type: 'case.completed', payload: {} });
    const more = await this.options.onSave?.(trx, { id: row.id, code: row.code, variables }, session.events, now, held);
    if (more) session.events.push(...more);
    if (!opts.newCase) await updateCase(held, row.id, { engine_state: await session.state(), variables, status, version, updated_at: now, ended_at: status === 'completed' ? now : null });
    // An ended case waits nowhere, so the projection has already removed its rows; only a row it kept needs this.
    if (status === 'completed' && tasks.length) {
      await deleteTasksOfCase(held, row.id);
      tasks = [];
    }
    if (newRow) await insertCase(held, newRow);
    await appendEvents(trx, row.id, session.events, this.clock, { head: opts.newCase ? { seq: 0, hash: null } : locked.head, held });
    return { caseId: row.id, code: row.code, status, version, tasks, timerJobsKept };
  }

  /** The task as the case's lock found it (row), checked (checkTaskRow). */
  private async currentTask(trx: Knex.Transaction, taskId: string, row: LockedCase): Promise<TaskRow> {
    const current = row.tasks.find((t) => t.id === taskId);
    if (!current) throw new ConflictError(`Task ${taskId} is no longer open.`);
    await this.options.checkTaskRow?.(trx, current, row);
    return current;
  }

  async timed<T>(command: string, fn: () => Promise<T>): Promise<T> {
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

type CommandAct = (trx: Knex.Transaction, session: EngineSession, row: LockedCase) => Promise<void>;

/** A new case's row as its start wrote it (db/cases.ts insertCase), with its process and open tasks. */
function newCaseAsSaved(row: CaseRow, definition: { key: string; version: number }, saved: SavedCommand, variables: Record<string, unknown>, now: Date): Omit<CaseForView, 'flags'> {
  return {
    id: row.id,
    code: row.code,
    status: saved.status,
    // A JSON copy already (EngineSession.variables), as a read of the row would give.
    variables,
    version: saved.version,
    created_by: row.created_by,
    created_at: row.created_at,
    updated_at: now,
    ended_at: saved.status === 'completed' ? now : null,
    process_key: definition.key,
    process_version: definition.version,
    tasks: saved.tasks,
  };
}

/** Codes are upper case so lookups can match them whatever the case typed (db/cases.ts normalCode). */
function defaultCaseCode(): string {
  return crypto.randomUUID().toUpperCase();
}

/** old → new for every variable the command changed, personal data marked. */
function variableChanges(before: Record<string, unknown>, after: Record<string, unknown>, personal: readonly string[]) {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changes: Array<{ name: string; old: unknown; new: unknown; personal?: true }> = [];
  for (const name of [...names].sort()) {
    const a = before[name] ?? null;
    const b = after[name] ?? null;
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    changes.push({ name, old: a, new: b, ...(personal.includes(name) ? { personal: true as const } : {}) });
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

import { EventEmitter } from 'node:events';
import { extensionProperties, newEngine, stateWithoutSource, type EngineHandle, type EngineHooks, type HeldTimer, type SourceContext } from './bpmn.js';
import type { Actor } from './actor.js';
import { SYSTEM_TIMER } from './actor.js';
import { feelClock, systemClock, type Clock } from './clock.js';
import type { FeelFunctions } from './feel.js';

export interface PendingEvent {
  type: string;
  elementId?: string | null;
  elementName?: string | null;
  elementType?: string | null;
  payload?: Record<string, unknown>;
  actor: Actor;
}

/** An outgoing message written in the command's transaction, delivered later by the job executor. */
export interface OutboxMessage {
  type: 'sms' | 'notification';
  elementId: string;
  payload: Record<string, unknown>;
}

/** Built-in services a diagram may call, listed for deploy-time validation. */
export const BUILT_IN_SERVICES = ['sms', 'notify'];

export interface WaitingActivity {
  id: string;
  executionId: string;
  type: string;
  name: string | null;
  behaviour: Record<string, any>;
  api: any;
}

/**
 * Variables the engine itself provides to a case's expressions, declared
 * once for deploy-time validation (name → what it holds). Today none: every
 * variable comes from the start data, a form, a message, a decision or an
 * output parameter, and the clock is read with FEEL's now()/today(). A
 * variable the engine starts setting is added here, or validation refuses
 * diagrams reading it.
 */
export const ENGINE_VARIABLES: Readonly<Record<string, string>> = {};

/** Names bpmn-elements writes into process variables itself; cases may not use them. */
export const ENGINE_RESERVED_VARIABLES = ['fields', 'content', 'properties'];

/** How long a run may stay busy (a service task calling back later) before the command gives up. */
const SETTLE_LIMIT_MS = 10_000;

/**
 * One engine for one command: recovered or started, driven, read, thrown away.
 * It records history events as the engine emits them, attributed to whoever
 * caused them: events replayed on load (an overdue timer firing during resume)
 * belong to the system, events after the action to the command's actor.
 */
export class EngineSession {
  readonly events: PendingEvent[] = [];
  readonly outbox: OutboxMessage[] = [];
  /** Timers the runtime guard held during this command (their expression gave no time): incidents to record. */
  readonly heldTimers: HeldTimer[] = [];
  private readonly handle: EngineHandle;
  private readonly listener = new EventEmitter();
  private failure: Error | null = null;
  private completed = false;
  private actor: Actor = SYSTEM_TIMER;
  private readonly clock: Clock;
  private readonly hookFunctions: FeelFunctions;

  /** hooks.clock: the clock the case's timers run on (default: the system clock). */
  constructor(name: string, context: SourceContext, hooks: Omit<EngineHooks, 'services'>) {
    this.handle = newEngine(name, context, {
      heldTimer: (held) => this.heldTimers.push(held),
      ...hooks,
      services: this.services(),
      record: (type, elementId, elementName, payload) => this.record({ type, elementId, elementName, payload }),
    });
    this.clock = hooks.clock ?? systemClock;
    this.hookFunctions = hooks.functions;
    this.handle.engine.on('error', (err: Error) => {
      this.failure ??= err;
    });
    // A finished execution reports state 'idle' (not 'completed'); its 'end' event is the reliable signal.
    this.handle.engine.on('end', () => {
      this.completed = true;
    });
    // Note: content.isRecovered is also set on real events of a recovered
    // activity (its timeout, its end), so it only filters replays of wait/timer,
    // which are not recorded here at all.
    const record = (type: string) => (api: any) => {
      this.events.push({
        type,
        elementId: api.id,
        elementName: api.name ?? api.owner?.name ?? null,
        elementType: api.type,
        payload: type === 'activity.failed' ? { error: String(api.content?.error?.message ?? api.content?.error ?? '') } : {},
        actor: this.actor,
      });
    };
    this.listener.on('activity.start', record('activity.started'));
    this.listener.on('activity.end', record('activity.completed'));
    // activity.execution.discard: a started activity was interrupted (a boundary
    // event, a completed sibling). Plain activity.discard also fires for every
    // element on a path not taken, which is noise in a history.
    this.listener.on('activity.execution.discard', record('activity.cancelled'));
    this.listener.on('activity.timeout', record('timer.fired'));
    this.listener.on('activity.error', record('activity.failed'));
  }

  /**
   * sms: a message to the citizen (template from camunda:property "template",
   * default the element id); notify: a message to the agencies in
   * camunda:property "to" (FEEL-free: a variable name, default "agency").
   * Both only queue an outbox row in this command's transaction.
   */
  private services(): EngineHooks['services'] {
    return {
      sms: (scope: any, callback) => {
        const props = extensionProperties(this.behaviourOf(scope.id));
        const vars = scope.environment?.variables ?? {};
        this.outbox.push({ type: 'sms', elementId: scope.id, payload: { template: props.template || scope.id, to: vars.citizenPhone ?? null } });
        callback(null);
      },
      notify: (scope: any, callback) => {
        const props = extensionProperties(this.behaviourOf(scope.id));
        const vars = scope.environment?.variables ?? {};
        const toVariable = props.to || 'agency';
        this.outbox.push({ type: 'notification', elementId: scope.id, payload: { template: props.template || scope.id, to: vars[toVariable] ?? null } });
        callback(null);
      },
    };
  }

  private behaviourOf(elementId: string): any {
    return (this.handle?.engine.execution as any)?.definitions?.[0]?.getActivityById?.(elementId)?.behaviour ?? {};
  }

  get engine() {
    return this.handle.engine;
  }

  /** Now, by the case's clock. */
  now(): Date {
    return this.clock.now();
  }

  /** The FEEL functions every expression of this case sees (the calendar's, now() and today() on the case's clock). */
  get functions(): FeelFunctions {
    return { ...this.hookFunctions, ...feelClock(this.clock) };
  }

  actAs(actor: Actor): void {
    this.actor = actor;
  }

  /**
   * A cached engine (engine/engine-cache.ts) starts its next command here:
   * what the last command recorded was written (or the engine would not have
   * been kept), so the events, outbox rows and held timers start empty again.
   */
  beginCommand(): void {
    this.events.length = 0;
    this.outbox.length = 0;
    this.heldTimers.length = 0;
    this.failure = null;
    this.actor = SYSTEM_TIMER;
  }

  /**
   * Whether this engine may be kept for the case's next command: it waits,
   * nothing failed, and its process variables are plain JSON, i.e. exactly
   * what a recovery from the stored state would give it (a FEEL date object
   * would come back from jsonb as a string, and the next expression could
   * read it differently).
   */
  reusable(): boolean {
    if (this.completed || this.failure || this.engine.state !== 'running') return false;
    // A case running called processes (engine/call-activity.ts CaseSession) keeps child engines with their own
    // per-command records: it is recovered every command rather than kept.
    if (((this as any).children as Map<string, unknown> | undefined)?.size) return false;
    const definition = (this.engine.execution as any)?.definitions?.[0];
    const process = definition?.getProcesses?.()[0];
    return isPlainJson(process?.environment?.variables ?? {}, 0) && isPlainJson(this.engine.environment.variables ?? {}, 0);
  }

  record(event: Omit<PendingEvent, 'actor'>): void {
    this.events.push({ ...event, actor: this.actor });
  }

  async start(variables: Record<string, unknown>): Promise<void> {
    await this.engine.execute({ listener: this.listener, variables } as any);
    await this.settle();
  }

  /**
   * Recover the engine from a stored state, which the engine changes as it recovers: it gets a copy unless
   * `handedOver` says the caller made the object for this recovery alone (a state the command's lock just
   * parsed). Issue 20: structuredClone of a shipped case's state cost 0.17 ms, twice its JSON.parse.
   */
  async recover(state: unknown, opts: { handedOver?: boolean } = {}): Promise<void> {
    this.actor = SYSTEM_TIMER;
    this.engine.recover((opts.handedOver ? state : structuredClone(state)) as any);
    await this.engine.resume({ listener: this.listener } as any);
    await this.settle();
  }

  /**
   * Wait until every token waits (or the case ended); surface engine errors.
   * The limit is a watchdog on real elapsed time (performance.now()), not
   * domain time: it must hold whatever the injected clock says.
   */
  async settle(): Promise<void> {
    const until = performance.now() + SETTLE_LIMIT_MS;
    while (!this.failure && this.engine.state === 'running' && this.engine.activityStatus === 'executing') {
      if (performance.now() > until) throw new Error(`The case did not reach a wait state within ${SETTLE_LIMIT_MS} ms`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.failure) throw this.failure;
  }

  get ended(): boolean {
    return this.completed;
  }

  /** Every waiting activity, nested sub-processes included. */
  waiting(): WaitingActivity[] {
    const out: WaitingActivity[] = [];
    const visit = (apis: any[]) => {
      for (const api of apis) {
        out.push({
          id: api.id,
          executionId: api.content?.executionId ?? api.executionId,
          type: api.type,
          name: api.owner?.name ?? api.name ?? null,
          behaviour: api.owner?.behaviour ?? {},
          api,
        });
        if (api.type === 'bpmn:SubProcess' && typeof api.getPostponed === 'function') visit(api.getPostponed());
      }
    };
    visit(this.engine.execution?.getPostponed() ?? []);
    return out;
  }

  /**
   * The activities the case waits at, without the taken sequence flows and
   * the event definitions that bpmn-elements also keeps postponed (a catch
   * event appears once as itself and once per event definition).
   */
  waitingActivities(): WaitingActivity[] {
    const out = new Map<string, WaitingActivity>();
    for (const w of this.waiting()) {
      if (w.type === 'bpmn:SequenceFlow') continue;
      // A message catch event waits as its event definition: report the event itself, once.
      const type = w.type.endsWith('EventDefinition') ? (w.api.owner?.type ?? w.type) : w.type;
      out.set(`${w.id} ${w.executionId}`, { ...w, type });
    }
    return [...out.values()];
  }

  /**
   * Process variables (the process environment's, not the engine's), less the
   * run message bpmn-elements assigns into them (fields, content, properties).
   */
  variables(): Record<string, unknown> {
    const definition = (this.engine.execution as any)?.definitions?.[0];
    const process = definition?.getProcesses?.()[0];
    const vars = { ...(process?.environment?.variables ?? this.engine.environment.variables ?? {}) };
    for (const name of ENGINE_RESERVED_VARIABLES) delete vars[name];
    return JSON.parse(JSON.stringify(vars));
  }

  armedTimers() {
    return this.handle.armedTimers();
  }

  fireTimer(elementId: string): boolean {
    return this.handle.fireTimer(elementId);
  }

  state(): Promise<unknown> {
    return stateWithoutSource(this.engine);
  }

  /**
   * Let go of an engine at rest (kept by the engine cache: it waits, nothing
   * runs): its listeners only. Stopping it would publish a stop through every
   * element, 8 % of the timer benchmark's CPU when the cache evicted engines,
   * for nothing: its timers never call setTimeout (engine/bpmn.ts), so once
   * unreferenced it is garbage.
   */
  release(): void {
    this.listener.removeAllListeners();
    this.engine.removeAllListeners();
  }

  /**
   * Let go of an engine the command does not keep: one that settled (every token waits, or the case ended)
   * is only released; one that did not (a failure part-way) is stopped, so nothing of it runs on. Stopping a
   * waiting engine of the shipped diagram took 5-13 ms (it publishes a stop through every element): every
   * command paid it with the engine cache off, and every case an impact preview or dry run replayed.
   */
  end(atRest: boolean): void {
    if (atRest) this.release();
    else this.dispose();
  }

  /** Drop every listener so nothing of the case outlives the command (or its stay in the engine cache). */
  dispose(): void {
    this.listener.removeAllListeners();
    this.engine.removeAllListeners();
    try {
      this.engine.stop();
    } catch {
      /* a completed engine has nothing to stop */
    }
  }
}

/** JSON values only (no Date, no class instance, no non-finite number; undefined only as a property), not deeper than 64 levels. */
function isPlainJson(value: unknown, depth: number): boolean {
  if (depth > 64) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isPlainJson(v, depth + 1));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    // A property holding undefined is dropped by JSON: a recovered engine reads undefined there too.
    return Object.values(value as Record<string, unknown>).every((v) => v === undefined || isPlainJson(v, depth + 1));
  }
  return false;
}

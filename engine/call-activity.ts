import type { Knex } from 'knex';
import { calledStates } from '../db/call-activities.js';
import type { Db } from '../db/connect.js';
import { activeProcess, definitionByVersion } from '../db/definitions.js';
import type { Actor } from './actor.js';
import type { EngineHooks, SourceContext, TimerRef } from './bpmn.js';
import { UnprocessableError } from './errors.js';
import { evaluateFeel } from './feel.js';
import { EngineSession, type PendingEvent, type WaitingActivity } from './session.js';

/**
 * Call activities: a step shared by several processes (the quality check)
 * is deployed once, as its own process, and called by key.
 *
 * bpmn-elements runs a call activity as a wait: it announces the called
 * element and waits to be signalled. This module is the host side. The
 * child runs in its own engine, in the same command and the same
 * transaction as its parent, under the parent's case (one case row, one
 * history chain, its user tasks are the case's task rows):
 *
 *   - a call activity that waits and has no child starts one: the called
 *     process (the active version, or the pinned one), its variables given
 *     by the camunda:in mappings (FEEL, never JavaScript);
 *   - a child that ended signals its call activity with the camunda:out
 *     mappings, which become the parent's variables;
 *   - a child whose call activity no longer waits (an interrupting timer on
 *     the call activity, the parent ended) is dropped, its tasks and timers
 *     with it.
 *
 * The children's engine states are saved inside the case's engine state,
 * under CHILDREN_KEY, keyed by the call activity's execution id; the parent
 * engine never sees that key. Children's history events carry the child's
 * process (payload.process, processVersion, calledBy) so the case page can
 * draw the child's own path.
 */

export const CALL_ACTIVITY = 'bpmn:CallActivity';

/** Where the children's states live inside a case's engine_state. */
export const CHILDREN_KEY = 'callActivities';

/** A process calling a process calling …: deeper than this is a loop in the diagrams, not a design. */
const MAX_DEPTH = 8;

export interface CalledProcess {
  definitionId: number;
  key: string;
  version: number;
}

/** How a session finds the processes its call activities name, inside the command's transaction. */
export interface CallResolver {
  resolve(key: string, version: number | null): Promise<CalledProcess>;
  context(definitionId: number): Promise<SourceContext>;
}

/**
 * The resolver of a session: active or pinned versions read in the transaction of the command the
 * session serves now (a getter: a cached engine serves later commands; one connection on PGlite).
 */
export function callResolver(trxOf: () => Knex.Transaction, contextOf: (definitionId: number, trx: Knex.Transaction) => Promise<SourceContext>): CallResolver {
  return {
    async resolve(key, version) {
      const trx = trxOf();
      const row = version === null ? await activeProcess(trx, key) : await definitionByVersion(trx, key, version);
      if (!row || row.kind !== 'bpmn') {
        throw new UnprocessableError(
          version === null
            ? `The process could not continue: the call activity calls process "${key}", which has no active version.`
            : `The process could not continue: the call activity calls process "${key}" version ${version}, which does not exist.`,
        );
      }
      return { definitionId: row.id, key: row.key, version: row.version };
    },
    context: (definitionId) => contextOf(definitionId, trxOf()),
  };
}

interface StoredChild {
  callActivityId: string;
  key: string;
  version: number;
  definitionId: number;
  state: unknown;
}

interface Child {
  callActivityId: string;
  process: CalledProcess;
  session: CaseSession;
  /** The BPMN error an error end event of the called process threw, in this command. */
  thrown?: ThrownError;
}

interface ThrownError {
  id?: string;
  name?: string;
  code?: string;
}

/** A waiting activity of a called process: its own variables decide its task's groups and deadline. */
export interface CalledWaiting extends WaitingActivity {
  called: { key: string; version: number; calledBy: string; variables: Record<string, unknown> };
}

/** Whether a waiting activity belongs to a called process (not to the case's own diagram). */
export function isCalled(w: WaitingActivity): boolean {
  return Boolean((w as CalledWaiting).called);
}

/** The variables a waiting activity's expressions see: a called process's own, else the case's. */
export function variablesOf(w: WaitingActivity, caseVariables: Record<string, unknown>): Record<string, unknown> {
  return (w as CalledWaiting).called?.variables ?? caseVariables;
}

/** What a call activity declares: the called key, the pinned version, the mappings. */
export interface CallSpec {
  calledElement: string;
  version: number | null;
  binding: string;
  ins: Mapping[];
  outs: Mapping[];
}

export interface Mapping {
  source?: string;
  sourceExpression?: string;
  target?: string;
  /** camunda:in/out variables="all": every variable. */
  all: boolean;
}

/** Read a call activity's moddle element (or its behaviour in a context): the same attributes either way. */
export function callSpec(el: any): CallSpec {
  const ins: Mapping[] = [];
  const outs: Mapping[] = [];
  for (const ext of el?.extensionElements?.values ?? []) {
    if (ext.$type !== 'camunda:In' && ext.$type !== 'camunda:Out') continue;
    // businessKey mappings have no meaning here: the child runs under the parent's case code.
    if (ext.businessKey !== undefined && !ext.source && !ext.sourceExpression && !ext.variables) continue;
    const m: Mapping = { source: ext.source || undefined, sourceExpression: ext.sourceExpression || undefined, target: ext.target || undefined, all: ext.variables === 'all' };
    (ext.$type === 'camunda:In' ? ins : outs).push(m);
  }
  const binding = String(el?.calledElementBinding ?? 'latest');
  const rawVersion = el?.calledElementVersion;
  const version = binding === 'version' && rawVersion !== undefined && /^\d+$/.test(String(rawVersion).trim()) ? Number(rawVersion) : null;
  return { calledElement: String(el?.calledElement ?? '').trim(), version, binding, ins, outs };
}

/** Apply in or out mappings: FEEL on `from` (never JavaScript), assigned by target name. */
export function applyMappings(mappings: Mapping[], from: Record<string, unknown>, functions: EngineHooks['functions']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of mappings) {
    if (m.all) {
      Object.assign(out, structuredClone(from));
      continue;
    }
    if (!m.target) continue;
    if (m.sourceExpression !== undefined) out[m.target] = evaluateFeel(m.sourceExpression, from, functions);
    else if (m.source !== undefined) out[m.target] = Object.hasOwn(from, m.source) ? structuredClone(from[m.source]) : null;
  }
  return out;
}

/**
 * An engine session that also runs the processes its call activities call.
 * Everything the runtime reads from a session (waiting activities, events,
 * outbox, armed and held timers, state) includes the children's, so task
 * rows, timer jobs, messages and history follow them without knowing.
 */
export class CaseSession extends EngineSession {
  private readonly children = new Map<string, Child>();
  private readonly hooks: Omit<EngineHooks, 'services'>;
  private readonly resolver: CallResolver | null;
  private readonly depth: number;
  private readonly sourceContext: SourceContext;
  /** Set on a child: what its events are tagged with. */
  private readonly calledAs: { key: string; version: number; calledBy: string } | null;
  private disposed = false;

  constructor(name: string, context: SourceContext, hooks: Omit<EngineHooks, 'services'>, options: { resolver: CallResolver | null; depth?: number; calledAs?: { key: string; version: number; calledBy: string } }) {
    super(name, context, hooks);
    this.hooks = hooks;
    this.resolver = options.resolver;
    this.depth = options.depth ?? 0;
    this.calledAs = options.calledAs ?? null;
    this.sourceContext = context;
  }

  override actAs(actor: Actor): void {
    super.actAs(actor);
    for (const child of this.children?.values() ?? []) child.session.actAs(actor);
  }

  /**
   * An event the runtime records about an element of a child (task.created by
   * the projection, task.completed by the command) names the child's process,
   * like the child's own engine events.
   */
  override record(event: Omit<PendingEvent, 'actor'>): void {
    const child = event.elementId && !this.ownsElement(event.elementId) ? this.childWithElement(event.elementId) : undefined;
    if (child) super.record({ ...event, payload: { ...(event.payload ?? {}), ...child.tag } });
    else super.record(event);
  }

  private ownsElement(elementId: string): boolean {
    return Boolean((this.sourceContext as any).getActivityById?.(elementId));
  }

  private childWithElement(elementId: string): { tag: Record<string, unknown> } | undefined {
    for (const child of this.children.values()) {
      if (child.session.ownsElement(elementId)) return { tag: tagOf(child) };
      const deeper = child.session.childWithElement(elementId);
      if (deeper) return deeper;
    }
    return undefined;
  }

  override async recover(state: unknown, opts: { handedOver?: boolean } = {}): Promise<void> {
    const { [CHILDREN_KEY]: stored, ...own } = (state ?? {}) as Record<string, unknown>;
    // Children first: the parent's resume settles, and settling starts a child for every call activity without one.
    for (const [executionId, s] of Object.entries((stored ?? {}) as Record<string, StoredChild>)) {
      const process = { definitionId: s.definitionId, key: s.key, version: s.version };
      const child = { callActivityId: s.callActivityId, process } as Child;
      child.session = await this.newChild(process, s.callActivityId, (error) => (child.thrown = error));
      await child.session.recover(s.state, opts);
      this.children.set(executionId, child);
    }
    await super.recover(own, opts);
  }

  /** Settle the parent, then drive its children until nothing more moves (a child's end moves the parent on). */
  override async settle(): Promise<void> {
    await super.settle();
    if (!this.children || this.disposed) return; // called from the base constructor's paths before fields exist
    for (let round = 0; round < 1000; round++) {
      let moved = false;
      for (const child of this.children.values()) {
        await child.session.settle();
        this.adopt(child);
      }
      const calls = new Map(super.waiting().filter((w) => w.type === CALL_ACTIVITY).map((w) => [w.executionId, w]));
      for (const [executionId, child] of [...this.children]) {
        if (calls.has(executionId)) continue;
        // Its call activity no longer waits (an interrupting boundary event, the parent ended): the child goes too.
        this.children.delete(executionId);
        this.adopt(child);
        // Its waiting steps end with it: the case page and the history show them cancelled, not waiting forever.
        for (const w of child.session.waitingActivities()) {
          super.record({ type: 'activity.cancelled', elementId: w.id, elementName: w.name, elementType: w.type, payload: (w as CalledWaiting).called ? calledTag((w as CalledWaiting).called) : tagOf(child) });
        }
        super.record({ type: 'call.cancelled', elementId: child.callActivityId, elementType: CALL_ACTIVITY, payload: { called: { key: child.process.key, version: child.process.version } } });
        child.session.dispose();
        moved = true;
      }
      for (const [executionId, child] of [...this.children]) {
        if (!child.session.ended) continue;
        const call = calls.get(executionId)!;
        this.children.delete(executionId);
        if (child.thrown && this.catchesError(call, child.thrown)) {
          // An error end event of the called process, caught by an error boundary event on the call activity.
          const error = child.thrown;
          super.record({ type: 'call.error', elementId: call.id, elementName: call.name, elementType: CALL_ACTIVITY, payload: { called: { key: child.process.key, version: child.process.version }, error: { code: error.code ?? null, name: error.name ?? null } } });
          child.session.dispose();
          call.api.sendApiMessage('error', { message: `${child.process.key} ended with error ${error.code ?? error.name ?? error.id ?? ''}`.trim(), code: error.code, name: error.name });
          await super.settle();
          moved = true;
          continue;
        }
        // Otherwise an error end event ends the called process like a plain end (as in Camunda 7).
        const output = applyMappings(callSpec(call.behaviour).outs, child.session.variables(), child.session.functions);
        super.record({
          type: 'call.completed',
          elementId: call.id,
          elementName: call.name,
          elementType: CALL_ACTIVITY,
          payload: { called: { key: child.process.key, version: child.process.version }, variables: Object.keys(output).sort() },
        });
        child.session.dispose();
        // The output is the call activity's completion payload: bpmn.ts copies it into the case variables.
        call.api.signal(output);
        await super.settle();
        moved = true;
      }
      // The parent moved: what waits now is read again in the next round before anything starts.
      if (moved) continue;
      for (const [executionId, call] of calls) {
        if (this.children.has(executionId)) continue;
        await this.startChild(executionId, call);
        moved = true;
      }
      if (!moved) return;
    }
    throw new Error('Call activities did not settle: a called process keeps ending and starting again');
  }

  private async startChild(executionId: string, call: WaitingActivity): Promise<void> {
    if (!this.resolver) throw new UnprocessableError(`The process could not continue: call activity "${call.name ?? call.id}" cannot run here.`);
    if (this.depth >= MAX_DEPTH) throw new UnprocessableError(`The process could not continue: call activity "${call.name ?? call.id}" calls processes ${MAX_DEPTH} levels deep; the diagrams call each other in a loop.`);
    const spec = callSpec(call.behaviour);
    const process = await this.resolver.resolve(spec.calledElement, spec.version);
    const variables = applyMappings(spec.ins, this.variables(), this.functions);
    const child = { callActivityId: call.id, process } as Child;
    const session = (child.session = await this.newChild(process, call.id, (error) => (child.thrown = error)));
    this.children.set(executionId, child);
    super.record({
      type: 'call.started',
      elementId: call.id,
      elementName: call.name,
      elementType: CALL_ACTIVITY,
      payload: { called: { key: process.key, version: process.version }, variables: Object.keys(variables).sort() },
    });
    session.actAs(this.currentActor);
    await session.start(variables);
    this.adopt(child);
  }

  private async newChild(process: CalledProcess, calledBy: string, onThrow: (error: ThrownError) => void): Promise<CaseSession> {
    const context = await this.resolver!.context(process.definitionId);
    const session = new CaseSession(`${process.key}:${calledBy}`, context, this.hooks, { resolver: this.resolver, depth: this.depth + 1, calledAs: { key: process.key, version: process.version, calledBy } });
    session.actAs(this.currentActor);
    // An error end event publishes activity.throw with the error's id, name and code.
    (session.engine as any).broker.subscribeTmp(
      'event',
      'activity.throw',
      (_key: string, message: any) => {
        const m = message?.content?.message;
        if (m?.type === 'bpmn:Error') onThrow({ id: m.id, name: m.name, code: m.code });
      },
      { noAck: true },
    );
    return session;
  }

  /** Whether an error boundary event on the call activity catches `error` (no errorRef: any error; else the same code). */
  private catchesError(call: WaitingActivity, error: ThrownError): boolean {
    const boundaries = ((this.sourceContext as any).getActivities?.() ?? []).filter((a: any) => a.type === 'bpmn:BoundaryEvent' && a.behaviour?.attachedTo?.id === call.id);
    for (const b of boundaries) {
      for (const def of b.behaviour?.eventDefinitions ?? []) {
        if (def.type !== 'bpmn:ErrorEventDefinition') continue;
        const code = def.behaviour?.errorRef?.errorCode ?? def.behaviour?.errorRef?.code;
        if (!def.behaviour?.errorRef || code === undefined || String(code) === String(error.code)) return true;
      }
    }
    return false;
  }

  /** Move what a child recorded and queued into this session, its events tagged with the child's process. */
  private adopt(child: Child): void {
    const s = child.session;
    const tag = tagOf(child);
    for (const e of s.events.splice(0)) this.events.push(e.payload && 'calledBy' in e.payload ? e : { ...e, payload: { ...(e.payload ?? {}), ...tag } });
    this.outbox.push(...s.outbox.splice(0));
    this.heldTimers.push(...s.heldTimers.splice(0));
  }

  private get currentActor(): Actor {
    return (this as any).actor;
  }

  /** The parent's waiting activities, then every child's (tagged with the child's process and variables). */
  override waiting(): WaitingActivity[] {
    const own = super.waiting();
    if (!this.children) return own;
    const out: WaitingActivity[] = [...own];
    for (const child of this.children.values()) {
      const variables = child.session.variables();
      for (const w of child.session.waiting()) {
        const called = (w as CalledWaiting).called ?? { key: child.process.key, version: child.process.version, calledBy: child.callActivityId, variables };
        out.push({ ...w, called } as CalledWaiting);
      }
    }
    return out;
  }

  override armedTimers(): TimerRef[] {
    return [...super.armedTimers(), ...[...(this.children?.values() ?? [])].flatMap((c) => c.session.armedTimers())];
  }

  override async state(): Promise<unknown> {
    const own = (await super.state()) as Record<string, unknown>;
    if (!this.children.size) return own;
    const stored: Record<string, StoredChild> = {};
    for (const [executionId, c] of this.children) {
      stored[executionId] = { callActivityId: c.callActivityId, key: c.process.key, version: c.process.version, definitionId: c.process.definitionId, state: await c.session.state() };
    }
    return { ...own, [CHILDREN_KEY]: stored };
  }

  override release(): void {
    this.disposed = true;
    for (const child of this.children?.values() ?? []) child.session.release();
    super.release();
  }

  override dispose(): void {
    this.disposed = true;
    for (const child of this.children?.values() ?? []) child.session.dispose();
    super.dispose();
  }

  /** Set on a child session: the process it runs and the call activity that called it. */
  get called(): { key: string; version: number; calledBy: string } | null {
    return this.calledAs;
  }
}

function calledTag(c: CalledWaiting['called']): Record<string, unknown> {
  return { process: c.key, processVersion: c.version, calledBy: c.calledBy };
}

function tagOf(child: Child): Record<string, unknown> {
  return { process: child.process.key, processVersion: child.process.version, calledBy: child.callActivityId };
}

/** The called processes a stored case state holds (for views): execution id → process. */
export function storedChildren(engineState: unknown): Array<{ executionId: string; callActivityId: string; key: string; version: number }> {
  const stored = ((engineState ?? {}) as Record<string, unknown>)[CHILDREN_KEY] as Record<string, StoredChild> | undefined;
  return Object.entries(stored ?? {}).map(([executionId, s]) => ({ executionId, callActivityId: s.callActivityId, key: s.key, version: s.version }));
}

/** What the case page draws for each called process: its diagram and the path its runs took. */
export interface CalledPath {
  callActivity: string;
  process: { key: string; version: number };
  xml: string;
  visits: Record<string, number>;
  active: string[];
  taken: string[];
}

/**
 * The called processes' paths from their tagged activity counts
 * (db/history.ts calledActivityCounts), one per call activity and version.
 */
export async function calledPaths(
  counts: Array<{ process: string; version: number; called_by: string; element_id: string; type: string; n: number }>,
  running: boolean,
  load: (key: string, version: number) => Promise<{ xml: string; context: any }>,
): Promise<CalledPath[]> {
  const groups = new Map<string, { callActivity: string; key: string; version: number; visits: Record<string, number>; ended: Record<string, number> }>();
  for (const c of counts) {
    const id = `${c.called_by} ${c.process} ${c.version}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { callActivity: c.called_by, key: c.process, version: c.version, visits: {}, ended: {} }));
    if (c.type === 'activity.started') g.visits[c.element_id] = c.n;
    else g.ended[c.element_id] = (g.ended[c.element_id] ?? 0) + c.n;
  }
  const out: CalledPath[] = [];
  for (const g of [...groups.values()].sort((a, b) => a.callActivity.localeCompare(b.callActivity) || a.key.localeCompare(b.key) || a.version - b.version)) {
    const { xml, context } = await load(g.key, g.version);
    const active = running ? Object.keys(g.visits).filter((id) => g.visits[id] > (g.ended[id] ?? 0)) : [];
    // A flow counts as taken when both its ends were visited, as on the parent's diagram.
    const taken = (context.elements?.sequenceFlows ?? []).filter((f: any) => g.visits[f.sourceId] && g.visits[f.targetId]).map((f: any) => f.id);
    out.push({ callActivity: g.callActivity, process: { key: g.key, version: g.version }, xml, visits: g.visits, active, taken });
  }
  return out;
}

/** The response schema of CalledPath (the case diagram's `calls`). */
export const CALLED_PATHS_SCHEMA = {
  type: 'array',
  description: 'The processes the case’s call activities called: each one’s diagram version and the path its runs took',
  items: {
    type: 'object',
    required: ['callActivity', 'process', 'xml', 'visits', 'active', 'taken'],
    properties: {
      callActivity: { type: 'string', description: 'the call activity (element id in the case’s diagram)' },
      process: { type: 'object', required: ['key', 'version'], properties: { key: { type: 'string' }, version: { type: 'integer' } } },
      xml: { type: 'string', description: 'BPMN XML of the called version' },
      visits: { type: 'object', additionalProperties: { type: 'integer' } },
      active: { type: 'array', items: { type: 'string' } },
      taken: { type: 'array', items: { type: 'string' } },
    },
  },
} as const;

/**
 * The version of the called process a waiting step belongs to (by its execution id), or undefined
 * when it is the case's own: a called process's task is completed with its own version's forms.
 */
export async function calledDefinitionOf(db: Db, caseId: string, executionId: string): Promise<number | undefined> {
  return innermost(await calledStates(db, caseId), `"${executionId}"`);
}

/** calledDefinitionOf on a case row already read (the locked row of a command): no round trip. */
export function calledDefinitionIn(engineState: unknown, executionId: string): number | undefined {
  // As stored: most cases call nothing, and a task command whose engine the node kept should not parse 14 KB to find that out.
  if (typeof engineState === 'string' && !engineState.includes('"callActivities"')) return undefined;
  const state = (typeof engineState === 'string' ? JSON.parse(engineState) : engineState) as { callActivities?: unknown } | null;
  return state?.callActivities ? innermost(state.callActivities, `"${executionId}"`) : undefined;
}

function innermost(called: unknown, needle: string): number | undefined {
  for (const s of Object.values((called ?? {}) as Record<string, StoredChild>)) {
    const { [CHILDREN_KEY]: deeper, ...own } = (s.state ?? {}) as Record<string, unknown>;
    const found = innermost(deeper, needle);
    if (found !== undefined) return found;
    if (JSON.stringify(own).includes(needle)) return s.definitionId;
  }
  return undefined;
}

import { Engine } from 'bpmn-engine';
import * as Elements from 'bpmn-elements';
import { BpmnModdle } from 'bpmn-moddle';
import Serializer, { deserialize, TypeResolver } from 'moddle-context-serializer';
import { createRequire } from 'node:module';
import { evaluateFeel, FeelError, isFeel, type FeelFunctions } from './feel.js';
import { markDiscardFlows } from './discard-pruning.js';
import { feelClock, systemClock, type Clock } from './clock.js';

const require = createRequire(import.meta.url);
// camunda-bpmn-moddle's package exports only its JSON resources, which is all we need.
export const camundaModdle = require('camunda-bpmn-moddle/resources/camunda.json');

export type SourceContext = ReturnType<typeof Serializer>;

export function newModdle(): BpmnModdle {
  return new BpmnModdle({ camunda: camundaModdle });
}

export async function parseBpmn(xml: string) {
  return newModdle().fromXML(xml);
}

/** Build the serialized context once per deployed version; engines share it. */
export function buildContext(moddleContext: unknown): SourceContext {
  const context = Serializer(moddleContext as any, TypeResolver(Elements as any));
  markDiscardFlows(context);
  return context;
}

export function restoreContext(serialized: unknown): SourceContext {
  const context = deserialize(serialized as any, TypeResolver(Elements as any));
  markDiscardFlows(context);
  return context;
}

/** Service implementations a diagram may reference as `${environment.services.NAME}`. */
export type ServiceFn = (scope: any, callback: (err: unknown, result?: unknown) => void) => void;

/** What an engine may reach outside itself during one command. */
export interface EngineHooks {
  /** FEEL functions added to every expression (the working-day calendar). */
  functions: FeelFunctions;
  /** Built-in services for service and send tasks. */
  services: Record<string, ServiceFn>;
  /** Record a domain event named by the element's camunda:property historyEvent (e.g. case.escalated). */
  record?(type: string, elementId: string, elementName: string | null, payload: Record<string, unknown>): void;
  /** Evaluate a deployed decision for a business-rule task (camunda:decisionRef). */
  decide(decisionRef: string, variables: Record<string, unknown>, mapDecisionResult: string | undefined): Promise<unknown>;
  /** The case's clock: timers are armed and found due by it, FEEL's now() reads it (default: the system clock). */
  clock?: Clock;
  /** The runtime guard: a timer whose expression gave no date or duration is held (never fires) and reported here. */
  heldTimer?(held: HeldTimer): void;
}

/** A timer the guard held: its expression, what it gave, why that is not a time. */
export interface HeldTimer {
  elementId: string;
  executionId: string;
  kind: TimerKind;
  expression: string;
  yielded: unknown;
  message: string;
}

export type TimerKind = 'timeDate' | 'timeDuration' | 'timeCycle';

/**
 * What a held timer is armed with instead of its value: so far ahead that it
 * never falls due, recognisable (year ≥ 9000) so that no job is written for it.
 */
export const HELD_TIMER_VALUE: Record<TimerKind, string> = { timeDate: '9999-12-31T00:00:00Z', timeDuration: 'P8000Y', timeCycle: 'R1/P8000Y' };

export function isHeldExpiry(expireAt: Date): boolean {
  return expireAt.getUTCFullYear() >= 9000;
}

/** Why `value` cannot arm a timer of `kind`, or null when it can. */
export function timerValueProblem(kind: TimerKind, value: unknown): string | null {
  if (value === null || value === undefined || value === '') return 'it gave nothing (null): a variable it reads is missing';
  if (typeof value !== 'string') return `it gave ${JSON.stringify(value)}, a ${typeof value}, not a ${kind === 'timeDate' ? 'date' : 'duration'}`;
  if (kind === 'timeDate' && Number.isNaN(Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value))) return `it gave "${value}", which is not a date`;
  if (kind === 'timeDuration' && !/^P/i.test(value)) return `it gave "${value}", which is not a duration`;
  if (kind === 'timeCycle' && !/^R/i.test(value)) return `it gave "${value}", which is not a repeating interval`;
  return null;
}

/** The kind of the timer of `elementId` whose expression is `expression`, read from the deployed diagram. */
function timerKindOf(context: SourceContext, elementId: string, expression: string): TimerKind | null {
  const activity = (context as any).getActivityById?.(elementId);
  for (const def of activity?.behaviour?.eventDefinitions ?? []) {
    if (def.type !== 'bpmn:TimerEventDefinition') continue;
    for (const kind of ['timeDate', 'timeDuration', 'timeCycle'] as const) if (def.behaviour?.[kind] === expression) return kind;
  }
  return null;
}

function variablesOf(scope: any): Record<string, unknown> {
  return scope?.environment?.variables ?? {};
}

/**
 * Replaces bpmn-elements' default resolver, which follows prototype chains
 * (`${content.constructor.constructor(...)}` reaches Function). This one knows
 * exactly two forms: FEEL (`=…`) evaluated on the case variables, and
 * `${environment.services.NAME}` for registered services. Any other string
 * (an ISO duration such as `P10D`, a literal) passes through unchanged.
 */
function safeExpressions(hooks: EngineHooks, source: SourceContext) {
  const servicePattern = /^\$\{environment\.services\.([A-Za-z_][\w-]*)\}$/;
  return {
    resolveExpression(expression: unknown, context: any) {
      if (typeof expression !== 'string') return expression;
      if (isFeel(expression)) {
        // The runtime guard: a timer whose value is null fires at once in bpmn-elements (an old case
        // without the variable would be escalated falsely). Hold it instead and report an incident;
        // an expression that fails outright (a calendar function given null) is held the same way.
        const content = context?.content;
        const kind = content?.type === 'bpmn:TimerEventDefinition' && hooks.heldTimer ? timerKindOf(source, content.id, expression) : null;
        let value: unknown;
        let failure: string | null = null;
        try {
          value = evaluateFeel(expression, variablesOf(context), hooks.functions);
        } catch (err) {
          if (!kind || !(err instanceof FeelError)) throw err;
          failure = `it failed (${err.message})`;
        }
        if (kind && hooks.heldTimer) {
          const problem = failure ?? timerValueProblem(kind, value);
          if (problem) {
            hooks.heldTimer({ elementId: content.id, executionId: content.executionId, kind, expression, yielded: value, message: `The ${kind} of timer "${content.name ?? content.id}" (${expression}) cannot arm it: ${problem}. The timer is held and will not fire until this is fixed.` });
            return HELD_TIMER_VALUE[kind];
          }
        }
        return value;
      }
      const service = servicePattern.exec(expression);
      if (service) return Object.hasOwn(hooks.services, service[1]) ? hooks.services[service[1]] : undefined;
      if (expression.includes('${')) throw new Error(`Expression "${expression}" is not FEEL; only =FEEL expressions are evaluated`);
      return expression;
    },
    isExpression: (text: unknown) => typeof text === 'string' && (isFeel(text) || text.startsWith('${')),
    hasExpression: (text: unknown) => typeof text === 'string' && (isFeel(text) || text.includes('${')),
  };
}

/**
 * Condition scripts: only FEEL. Script tasks get no script, so bpmn-elements
 * fails them ("unsupported") — and deploy refuses them long before that.
 */
function feelScripts(functions: FeelFunctions) {
  return {
    register() {
      return undefined;
    },
    getScript(language: string, element: any) {
      if (element?.type !== 'bpmn:SequenceFlow' || !/^feel$/i.test(language ?? '')) return undefined;
      const body: string = element.behaviour?.conditionExpression?.body ?? '';
      return {
        execute(scope: any, callback: (err: unknown, result?: boolean) => void) {
          try {
            callback(null, evaluateFeel(body, variablesOf(scope), functions) === true);
          } catch (err) {
            callback(err);
          }
        },
      };
    },
  };
}

/** Element types whose completion payload becomes case variables (a call activity's: its camunda:out mappings, engine/call-activity.ts). */
const OUTPUT_TO_VARIABLES = new Set(['bpmn:UserTask', 'bpmn:ReceiveTask', 'bpmn:IntermediateCatchEvent', 'bpmn:ManualTask', 'bpmn:BoundaryEvent', 'bpmn:CallActivity']);

/** camunda:outputParameter entries of an element: name → text (FEEL when it starts with =). */
export function outputParameters(behaviour: any): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (const ext of behaviour?.extensionElements?.values ?? []) {
    if (ext.$type !== 'camunda:InputOutput') continue;
    for (const p of ext.outputParameters ?? []) out.push({ name: p.name, value: typeof p.value === 'string' ? p.value : '' });
  }
  return out;
}

/** camunda:properties of an element as a plain map. */
export function extensionProperties(behaviour: any): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ext of behaviour?.extensionElements?.values ?? []) {
    if (ext.$type !== 'camunda:Properties') continue;
    for (const p of ext.values ?? []) if (p.name) out[p.name] = p.value ?? '';
  }
  return out;
}

function extensions(hooks: EngineHooks) {
  return {
    /**
     * On end: the element's payload (a completed task's form data, a message's
     * content, a decision's result) becomes case variables, then its
     * camunda:outputParameters are evaluated (FEEL, seeing those variables) and
     * assigned. This is how a diagram keeps counters and deadlines without scripts.
     */
    variables(activity: any) {
      const params = outputParameters(activity.behaviour);
      const historyEvent = extensionProperties(activity.behaviour).historyEvent;
      const copiesOutput = OUTPUT_TO_VARIABLES.has(activity.type);
      const isDecision = activity.type === 'bpmn:BusinessRuleTask';
      if (isDecision) activity.behaviour.Service = decisionService(hooks);
      // Camunda 7's external task idiom (camunda:type="external", camunda:topic="sms") names a built-in service.
      if (!activity.behaviour.Service && activity.behaviour.type === 'external' && activity.behaviour.topic) {
        activity.behaviour.Service = topicService(hooks, activity.behaviour.topic);
      }
      if (!copiesOutput && !isDecision && !params.length && !historyEvent) return;
      activity.on('end', (api: any) => {
        const env = activity.environment;
        const output = api.content?.output;
        if (isDecision) {
          const resultVariable = activity.behaviour.resultVariable;
          if (resultVariable) env.assignVariables({ [resultVariable]: output ?? null });
          else if (output && typeof output === 'object' && !Array.isArray(output)) env.assignVariables(output);
        } else if (copiesOutput && output && typeof output === 'object' && !Array.isArray(output)) {
          env.assignVariables(output);
        }
        if (params.length) {
          const assigned: Record<string, unknown> = {};
          for (const p of params) {
            // Each parameter sees the ones before it, so a diagram can compute in steps.
            assigned[p.name] = isFeel(p.value) ? evaluateFeel(p.value, { ...env.variables, ...assigned }, hooks.functions) : p.value;
          }
          env.assignVariables(assigned);
        }
        if (historyEvent) {
          // The event carries what the element decided: its form data and the variables it set.
          const decided: Record<string, unknown> = copiesOutput && output && typeof output === 'object' && !Array.isArray(output) ? { ...output } : {};
          for (const p of params) decided[p.name] = env.variables[p.name];
          hooks.record?.(historyEvent, activity.id, activity.name ?? null, JSON.parse(JSON.stringify(decided)));
        }
      });
    },
  };
}

/** A service or send task with camunda:topic runs the built-in service of that name. */
function topicService(hooks: EngineHooks, topic: string) {
  return function TopicService(activity: any) {
    return {
      execute(executeMessage: any, callback: (err: unknown, output?: unknown) => void) {
        const service = Object.hasOwn(hooks.services, topic) ? hooks.services[topic] : undefined;
        if (!service) return callback(new Error(`No built-in service "${topic}" for ${activity.id}`));
        service.call(activity, { id: activity.id, type: activity.type, environment: activity.environment, content: executeMessage.content }, (err) => callback(err));
      },
    };
  };
}

/** bpmn-elements runs a business-rule task as a service task; this is its service. */
function decisionService(hooks: EngineHooks) {
  return function DecisionService(activity: any) {
    return {
      execute(executeMessage: any, callback: (err: unknown, output?: unknown) => void) {
        const ref = activity.behaviour.decisionRef;
        if (!ref) return callback(new Error(`Business-rule task ${activity.id} has no camunda:decisionRef`));
        hooks.decide(ref, { ...activity.environment.variables }, activity.behaviour.mapDecisionResult).then(
          (result) => {
            // What the table answered is history: auditors see why a case went where it went, dry runs compare it.
            hooks.record?.('decision.evaluated', activity.id, activity.name ?? null, { decisionRef: ref, result: JSON.parse(JSON.stringify(result ?? null)) });
            callback(null, result);
          },
          (err) => callback(err),
        );
        void executeMessage;
      },
    };
  };
}

export interface TimerRef {
  elementId: string;
  executionId: string;
  expireAt: Date;
}

export interface EngineHandle {
  engine: InstanceType<typeof Engine>;
  /** Timers armed by this engine, read after the run to write timer jobs. */
  armedTimers(): TimerRef[];
  /** Fire the armed timer of `elementId` now, as if it fell due (a dry run replays recorded timers this way). */
  fireTimer(elementId: string): boolean;
}

type ElementLogger = { debug: (...args: unknown[]) => void; error: (...args: unknown[]) => void; warn: (...args: unknown[]) => void };
/** bpmn-engine's own Logger factory (debug instances named bpmn-engine:<scope>), as its constructor defaults it. */
const engineLogger = (Engine as any)({ name: 'logger' }).options.Logger as (scope: string) => ElementLogger;
const loggers = new Map<string, ElementLogger>();

/**
 * The Logger every engine is given: bpmn-engine's own, one per scope (an element type such as
 * "bpmn:usertask") for the whole process. Its default makes three `debug` instances for every element of
 * every engine it builds, and each instance asks the terminal whether stderr is a TTY (an isatty system
 * call): 2 % of a timer firing's CPU on the benchmark machine, where every firing recovers an engine.
 * The instances hold no state of an engine, and DEBUG=bpmn-engine:* still turns them on. Scopes are
 * element types, a short list; past 500 of them (a diagram of invented types) they are not kept.
 */
export function sharedLogger(scope: string): ElementLogger {
  let logger = loggers.get(scope);
  if (!logger) {
    logger = engineLogger(scope);
    if (loggers.size < 500) loggers.set(scope, logger);
  }
  return logger;
}

/**
 * A new engine for one command. Its Timers never call setTimeout: durable
 * timers are job rows, and a timer whose expireAt has passed fires during
 * resume(). "Now" for a timer (when it is armed, whether it is due) and for
 * FEEL's now() is the hooks' clock, handed to bpmn-elements through Timers'
 * `now` option (added by patches/bpmn-elements+17.3.0.patch; the package
 * reads the system time otherwise). Each engine has its own Timers (a shared
 * one would clear other cases' timers when any engine ends).
 */
export function newEngine(name: string, context: SourceContext, given: EngineHooks = { functions: {}, services: {}, decide: async () => null }): EngineHandle {
  const clock = given.clock ?? systemClock;
  const hooks: EngineHooks = { ...given, functions: { ...given.functions, ...feelClock(clock) } };
  const timers = new (Elements as any).Timers({ setTimeout: () => ({}), clearTimeout: () => undefined, now: () => clock.now() });
  const engine = new Engine({
    name,
    sourceContext: context,
    scripts: feelScripts(hooks.functions),
    expressions: safeExpressions(hooks, context),
    timers,
    extensions: extensions(hooks),
    services: hooks.services,
    settings: { enableDummyService: false },
    Logger: sharedLogger,
  } as any);
  return {
    engine,
    armedTimers: () =>
      (timers.executing as any[]).map((t) => ({
        elementId: t.owner?.id,
        executionId: t.owner?.executionId ?? t.timerId,
        // The timer event's expiry; else the Timers reference's, armed by the same clock.
        expireAt: new Date(t.owner?.expireAt ?? t.expireAt),
      })),
    fireTimer(elementId) {
      const timer = (timers.executing as any[]).find((t) => t.owner?.id === elementId);
      if (!timer) return false;
      // What bpmn-elements' own timeout wrapper does: forget the timer, then call back.
      timers[Symbol.for('executing')].delete(timer);
      timer.callback(...timer.args);
      return true;
    },
  };
}

/**
 * getState() without the embedded diagram (it is in the definitions table). patches/bpmn-engine+25.0.1.patch
 * adds getState({ source: false }), which does not serialize the diagram at all (issue 20: 0.4 ms of every
 * command on the shipped diagram, a tenth of its engine time, for a text thrown away here).
 */
export async function stateWithoutSource(engine: InstanceType<typeof Engine>): Promise<any> {
  const state: any = await (engine.getState as (options?: { source?: boolean }) => Promise<unknown>).call(engine, { source: false });
  for (const d of state.definitions ?? []) delete d.source;
  return state;
}

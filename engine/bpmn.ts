import { Engine } from 'bpmn-engine';
import * as Elements from 'bpmn-elements';
import { BpmnModdle } from 'bpmn-moddle';
import Serializer, { deserialize, TypeResolver } from 'moddle-context-serializer';
import { createRequire } from 'node:module';
import { evaluateFeel, isFeel } from './feel.js';

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
  return Serializer(moddleContext as any, TypeResolver(Elements as any));
}

export function restoreContext(serialized: unknown): SourceContext {
  return deserialize(serialized as any, TypeResolver(Elements as any));
}

/** Service implementations a diagram may reference as `${environment.services.NAME}`. */
export type ServiceFn = (scope: any, callback: (err: unknown, result?: unknown) => void) => void;

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
function safeExpressions(services: Record<string, ServiceFn>) {
  const servicePattern = /^\$\{environment\.services\.([A-Za-z_][\w-]*)\}$/;
  return {
    resolveExpression(expression: unknown, context: any) {
      if (typeof expression !== 'string') return expression;
      if (isFeel(expression)) return evaluateFeel(expression, variablesOf(context));
      const service = servicePattern.exec(expression);
      if (service) return Object.hasOwn(services, service[1]) ? services[service[1]] : undefined;
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
const feelScripts = {
  register() {
    return undefined;
  },
  getScript(language: string, element: any) {
    if (element?.type !== 'bpmn:SequenceFlow' || !/^feel$/i.test(language ?? '')) return undefined;
    const body: string = element.behaviour?.conditionExpression?.body ?? '';
    return {
      execute(scope: any, callback: (err: unknown, result?: boolean) => void) {
        try {
          callback(null, evaluateFeel(body, variablesOf(scope)) === true);
        } catch (err) {
          callback(err);
        }
      },
    };
  },
};

/** Element types whose completion payload becomes case variables. */
const OUTPUT_TO_VARIABLES = new Set(['bpmn:UserTask', 'bpmn:ReceiveTask', 'bpmn:IntermediateCatchEvent', 'bpmn:ManualTask']);

const extensions = {
  outputToVariables(activity: any) {
    if (!OUTPUT_TO_VARIABLES.has(activity.type)) return;
    activity.on('end', (api: any) => {
      const output = api.content?.output;
      if (output && typeof output === 'object' && !Array.isArray(output)) activity.environment.assignVariables(output);
    });
  },
};

export interface TimerRef {
  elementId: string;
  executionId: string;
  expireAt: Date;
}

export interface EngineHandle {
  engine: InstanceType<typeof Engine>;
  /** Timers armed by this engine, read after the run to write timer jobs. */
  armedTimers(): TimerRef[];
}

/**
 * A new engine for one command. Its Timers never call setTimeout: durable
 * timers are job rows, and a timer whose expireAt has passed fires during
 * resume(). Each engine has its own Timers (a shared one would clear other
 * cases' timers when any engine ends).
 */
export function newEngine(name: string, context: SourceContext, services: Record<string, ServiceFn> = {}): EngineHandle {
  const timers = new (Elements as any).Timers({ setTimeout: () => ({}), clearTimeout: () => undefined });
  const engine = new Engine({
    name,
    sourceContext: context,
    scripts: feelScripts,
    expressions: safeExpressions(services),
    timers,
    extensions,
    services,
    settings: { enableDummyService: false },
  } as any);
  return {
    engine,
    armedTimers: () =>
      (timers.executing as any[]).map((t) => ({
        elementId: t.owner?.id,
        executionId: t.owner?.executionId ?? t.timerId,
        expireAt: new Date(t.owner?.expireAt ?? Date.now() + t.delay),
      })),
  };
}

/** getState() without the embedded diagram (it is in the definitions table). */
export async function stateWithoutSource(engine: InstanceType<typeof Engine>): Promise<any> {
  const state: any = await engine.getState();
  for (const d of state.definitions ?? []) delete d.source;
  return state;
}

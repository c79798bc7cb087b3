import { createRequire } from 'node:module';
import { capitalizedNames, feelSyntaxError, isFeel, unknownFunctions } from './feel.js';
import { extensionProperties, parseBpmn } from './bpmn.js';

// bpmnlint is CommonJS without an exports map; its Node resolver loads rules by name.
const require = createRequire(import.meta.url);
const BpmnLinter = require('bpmnlint/lib/linter') as new (options: unknown) => { lint(root: unknown): Promise<Record<string, Array<{ id?: string; message: string; category?: string }>>> };
const NodeResolver = require('bpmnlint/lib/resolver/node-resolver') as new () => unknown;
const lintResolver = new NodeResolver();
/**
 * A new linter for every diagram, as bpmn-js-bpmnlint does: a Linter instantiates each rule once and
 * caches it, and rules keep what they saw in their closure (no-duplicate-sequence-flows keeps every
 * source#target#condition it met), so a shared linter reports every flow of a diagram it linted before
 * (the shipped one at deploy, then the same one exported by the modeler) as a duplicate.
 */
const modelingLinter = () => new BpmnLinter({ config: { extends: 'bpmnlint:recommended' }, resolver: lintResolver });

export interface Problem {
  elementId: string | null;
  rule: string;
  severity: 'error' | 'warning';
  message: string;
  /** Where in the file, for XML that does not parse (1-based, as editors count). */
  line?: number;
  column?: number;
}

/** The position in a moddle/saxen parse error ("line: 4 column: 2", counted from 0), 1-based. */
export function xmlErrorPosition(message: string): { line: number; column: number } | undefined {
  const m = /line:\s*(\d+)\s*[;,]?\s*column:\s*(\d+)/.exec(message);
  return m ? { line: Number(m[1]) + 1, column: Number(m[2]) + 1 } : undefined;
}

/** A parse error an analyst can act on: where, and what the parser saw. */
export function parseProblem(what: string, err: unknown, hint = ''): Problem {
  const raw = String((err as any)?.message ?? err);
  const at = xmlErrorPosition(raw);
  const detail = raw.split(/\n/).map((l) => l.trim()).filter((l) => l && !/^(line|column):/.test(l)).join('; ');
  return { elementId: null, rule: 'parse', severity: 'error', message: `${what}${at ? ` at line ${at.line}, column ${at.column}` : ''}: ${detail}.${hint}`, ...at };
}

export interface ValidationResult {
  problems: Problem[];
  /** bpmn-moddle result, present when the XML parsed. */
  moddle?: Awaited<ReturnType<typeof parseBpmn>>;
  processId?: string;
  processName?: string;
}

/** Flow elements the engine executes as drawn. Anything else is refused at deploy. */
const SUPPORTED = new Set([
  'bpmn:StartEvent', 'bpmn:EndEvent', 'bpmn:IntermediateCatchEvent', 'bpmn:IntermediateThrowEvent', 'bpmn:BoundaryEvent',
  'bpmn:UserTask', 'bpmn:ManualTask', 'bpmn:Task', 'bpmn:ReceiveTask', 'bpmn:ServiceTask', 'bpmn:SendTask', 'bpmn:BusinessRuleTask',
  'bpmn:ExclusiveGateway', 'bpmn:ParallelGateway', 'bpmn:InclusiveGateway', 'bpmn:EventBasedGateway',
  'bpmn:SubProcess', 'bpmn:SequenceFlow',
  'bpmn:DataObject', 'bpmn:DataObjectReference', 'bpmn:DataStoreReference',
]);
const SUPPORTED_EVENT_DEFINITIONS = new Set([
  'bpmn:TimerEventDefinition', 'bpmn:MessageEventDefinition', 'bpmn:ErrorEventDefinition',
  'bpmn:EscalationEventDefinition', 'bpmn:SignalEventDefinition', 'bpmn:TerminateEventDefinition', 'bpmn:LinkEventDefinition',
]);
const ISO_DURATION = /^P(?!$)(\d+(?:[.,]\d+)?Y)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?W)?(\d+(?:[.,]\d+)?D)?(T(?=\d)(\d+(?:[.,]\d+)?H)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?S)?)?$/;
const ISO_CYCLE = /^R\d*\/(.+)$/;

/** Camunda attributes that may hold a FEEL expression or a literal. */
const FEEL_ATTRIBUTES = ['candidateGroups', 'assignee', 'dueDate'];

export interface ValidateOptions {
  /** Names usable as `${environment.services.NAME}` by service tasks. */
  services?: string[];
  /** Installed task forms; a literal formKey must name one of them. */
  forms?: string[];
  /** Deployed DMN decision ids; a business-rule task's camunda:decisionRef must name one of them. */
  decisions?: string[];
  /** FEEL functions the system adds to FEEL's built-ins (the working-day calendar). */
  functions?: string[];
  /**
   * Element ids of a process that other parts of the product read, by process
   * key: id → what reads it (a plug-in's declared contract, passed in at
   * wiring). A version without one would run, but what reads it would
   * answer wrongly for its cases, so it is refused.
   */
  readElements?: Record<string, Record<string, string>>;
  /**
   * camunda:property values every user task must declare (a plug-in's
   * contract, e.g. the hotline's publicStatus): name → the allowed values,
   * what a missing one means (a warning) and what a wrong one is (an error).
   * Rules: <kebab-name> for a wrong value, <kebab-name>-missing.
   */
  taskProperties?: Record<string, TaskPropertyRule>;
  /**
   * Who may be a literal candidate group: roles and the catalogue's agency
   * codes; `retired` maps an agency no longer in force to a note. Omitted
   * (no catalogue loaded) → not checked.
   */
  candidateGroups?: { known: string[]; retired?: Record<string, string> };
}

export interface TaskPropertyRule {
  values: readonly string[];
  /** Completes "User task X does not say …", e.g. "what a citizen looking up the case sees while it waits here". */
  missing: string;
  /** Completes "camunda:property P "v" on X …", e.g. "is not a status citizens know". */
  invalid: string;
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export async function validateBpmn(xml: string, options: ValidateOptions = {}): Promise<ValidationResult> {
  const problems: Problem[] = [];
  const add = (elementId: string | null, rule: string, message: string, severity: Problem['severity'] = 'error') =>
    problems.push({ elementId, rule, severity, message });

  if (typeof xml !== 'string' || !xml.trim()) {
    add(null, 'parse', 'The diagram is empty: send the BPMN 2.0 XML as the request body.');
    return { problems };
  }
  let moddle: ValidationResult['moddle'];
  try {
    moddle = await parseBpmn(xml);
  } catch (err: any) {
    problems.push(parseProblem('The file is not valid BPMN 2.0 XML', err, ' Open it in a text editor at that place, or export it again from the modeler.'));
    return { problems };
  }
  for (const w of moddle.warnings ?? []) {
    add(w.element?.id ?? null, 'parse', `Parser warning: ${w.message}`, /unresolved reference/.test(w.message) ? 'error' : 'warning');
  }
  const root = moddle.rootElement;
  if (!root || root.$type !== 'bpmn:Definitions') {
    add(null, 'parse', 'The root element must be <bpmn:definitions>.');
    return { problems, moddle };
  }
  if (!root.id) add(null, 'definitions-id', 'Give <bpmn:definitions> an id attribute: running cases are recovered by it.');

  const processes = (root.rootElements ?? []).filter((e: any) => e.$type === 'bpmn:Process');
  const executable = processes.filter((p: any) => p.isExecutable);
  if (executable.length !== 1) {
    add(null, 'one-executable-process', executable.length === 0
      ? 'Mark exactly one process as executable (isExecutable="true"); none is.'
      : `Exactly one process may be executable; found ${executable.map((p: any) => p.id).join(', ')}.`);
  }
  for (const other of root.rootElements ?? []) {
    if (/Choreography|Conversation/.test(other.$type)) add(other.id, 'unsupported-element', `${other.$type} is not supported by the engine: remove it.`);
  }

  const services = new Set(options.services ?? []);
  const forms = options.forms ? new Set(options.forms) : null;
  const decisions = options.decisions ? new Set(options.decisions) : null;
  const functions = options.functions ?? [];
  const checkFeel = (id: string, what: string, expression: string) => {
    const source = expression.trimStart().replace(/^=/, '');
    // Habits from other languages: feelin answers null for ==, and a bare syntax error for && and ||.
    const outsideStrings = source.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    const habit = /==|&&|\|\|/.exec(outsideStrings)?.[0];
    if (habit) {
      const instead = habit === '==' ? 'a single "=" (e.g. outcome = "transfer")' : habit === '&&' ? '"and"' : '"or"';
      return add(id, 'feel-syntax', `${what} uses "${habit}", which FEEL does not have: write ${instead}: ${expression}`);
    }
    const err = feelSyntaxError(source, functions);
    if (err) return add(id, 'feel-syntax', `${what} is not a valid FEEL expression (${err}): ${expression}`);
    for (const name of capitalizedNames(source, functions)) {
      add(id, 'unquoted-text', `${what} reads ${name} as a case variable (none is written in capitals). If it is a code, quote it: "${name}"${/-/.test(source) ? ' (a hyphenated code without quotes is read as a subtraction)' : ''}: ${expression}`, 'warning');
    }
    for (const name of unknownFunctions(source, functions)) {
      // feelin answers null for an unknown function instead of failing: the case would silently take a wrong path.
      add(id, 'feel-unknown-function', `${what} calls "${name}", which is neither a FEEL built-in function nor one of this system's (${functions.join(', ') || 'none'}); check the spelling: ${expression}`);
    }
  };
  const groups = options.candidateGroups ? new Set(options.candidateGroups.known) : null;
  const checkCandidateGroups = (id: string, elementName: string, value: string) => {
    if (!groups) return;
    for (const group of value.split(',').map((g) => g.trim()).filter(Boolean)) {
      const retired = options.candidateGroups?.retired?.[group];
      if (retired) add(id, 'candidate-group-unknown', `Candidate group "${group}" on "${elementName}" is an agency no longer in force (${retired}): name its successor.`, 'warning');
      else if (!groups.has(group)) add(id, 'candidate-group-unknown', `Candidate group "${group}" on "${elementName}" is neither a role nor an agency code in the catalogue: use a role (${[...groups].filter((g) => /^[a-z]+$/.test(g)).join(', ')}), an agency code such as ${[...groups].find((g) => /^[A-Z]/.test(g)) ?? 'SXD'}, or FEEL such as "=agency".`);
    }
  };
  const refuseJuel = (id: string, what: string, value: string) => {
    add(id, 'not-feel', `${what} uses a \${…} expression, which is never evaluated here. Write FEEL starting with "=" instead, e.g. "=agency".`);
    void value;
  };

  const visit = (el: any) => {
    const id = el.id ?? null;
    const type: string = el.$type;
    if (type === 'bpmn:ScriptTask') {
      add(id, 'no-script-task', `Script task "${el.name ?? id}" is refused: no script from a diagram ever runs. Use a user task, a business-rule task or a FEEL expression.`);
    } else if (type === 'bpmn:CallActivity') {
      add(id, 'unsupported-element', `Call activity "${el.name ?? id}" is not supported: model the called steps as an embedded sub-process.`);
    } else if (!SUPPORTED.has(type)) {
      add(id, 'unsupported-element', `${type.replace('bpmn:', '')} "${el.name ?? id}" is not supported by the engine. Supported: ${[...SUPPORTED].map((t) => t.replace('bpmn:', '')).join(', ')}.`);
    }

    for (const def of el.eventDefinitions ?? []) {
      if (!SUPPORTED_EVENT_DEFINITIONS.has(def.$type)) {
        add(id, 'unsupported-element', `${def.$type.replace('bpmn:', '')} on "${el.name ?? id}" is not supported.`);
      }
      if (def.$type === 'bpmn:TimerEventDefinition') checkTimer(id, def);
    }

    if (el.conditionExpression) {
      const cond = el.conditionExpression;
      const body: string = cond.body ?? '';
      if (!/^feel$/i.test(cond.language ?? '')) {
        add(id, 'condition-not-feel', `The condition on "${el.name ?? id}" must be FEEL: set language="feel" and write e.g. outcome = "answer" (found ${cond.language ? `language="${cond.language}"` : 'no language'}${body ? `: ${body}` : ''}).`);
      } else if (!body.trim()) {
        add(id, 'feel-syntax', `The condition on "${el.name ?? id}" is empty.`);
      } else {
        checkFeel(id, `The condition on "${el.name ?? id}"`, body);
      }
    }

    if (type === 'bpmn:UserTask') {
      const props = extensionProperties(el);
      for (const [name, rule] of Object.entries(options.taskProperties ?? {})) {
        const value = props[name];
        if (value === undefined) {
          add(id, `${kebab(name)}-missing`, `User task "${el.name ?? id}" does not say ${rule.missing}: add camunda:property ${name} = ${rule.values.join(', ')}.`, 'warning');
        } else if (!rule.values.includes(value)) {
          add(id, kebab(name), `camunda:property ${name} "${value}" on "${el.name ?? id}" ${rule.invalid}: use ${rule.values.join(', ')}.`);
        }
      }
    }
    if (type === 'bpmn:UserTask' && !el.candidateGroups?.trim() && !el.assignee?.trim()) {
      add(id, 'candidate-groups-missing', `User task "${el.name ?? id}" has no candidate groups, so no inbox would show it: set camunda:candidateGroups to a role (e.g. coordinator), an agency code, or FEEL such as "=agency".`);
    }
    for (const attr of FEEL_ATTRIBUTES) {
      const value = el[attr];
      if (typeof value !== 'string' || !value) continue;
      if (value.includes('${') || value.includes('#{')) refuseJuel(id, `camunda:${attr} on "${el.name ?? id}"`, value);
      else if (isFeel(value)) checkFeel(id, `camunda:${attr} on "${el.name ?? id}"`, value);
      else if (attr === 'candidateGroups') checkCandidateGroups(id, el.name ?? id, value);
      else if ((attr === 'dueDate' || attr === 'followUpDate') && !ISO_DURATION.test(value) && Number.isNaN(Date.parse(value))) {
        add(id, 'due-date', `camunda:${attr} on "${el.name ?? id}" must be an ISO 8601 duration (P10D), a date-time, or FEEL starting with "=": ${value}`);
      }
    }

    for (const attr of ['candidateUsers', 'followUpDate']) {
      if (typeof el[attr] === 'string' && el[attr]) add(id, 'ignored-attribute', `camunda:${attr} on "${el.name ?? id}" is not used by this system; assign work with candidate groups (roles or agency codes).`, 'warning');
    }
    if (forms && typeof el.formKey === 'string' && el.formKey && !isFeel(el.formKey) && !forms.has(el.formKey)) {
      add(id, 'form-missing', `camunda:formKey "${el.formKey}" on "${el.name ?? id}" names no installed form: add processes/forms/${el.formKey}.schema.json or use one of ${[...forms].join(', ') || '(none installed)'}.`);
    }

    if (type === 'bpmn:ServiceTask' || type === 'bpmn:SendTask') {
      const impl: string | undefined = el.implementation;
      const match = impl ? /^\$\{environment\.services\.([A-Za-z_][\w-]*)\}$/.exec(impl) : null;
      const name = el.type === 'external' ? el.topic : match?.[1];
      if (!name) {
        add(id, 'service-implementation', `${type.replace('bpmn:', '')} "${el.name ?? id}" must name a built-in service: in Camunda Modeler set Implementation "External" with Topic one of ${[...services].join(', ') || '(none available)'} (camunda:type="external" camunda:topic="…").`);
      } else if (!services.has(name)) {
        add(id, 'service-implementation', `Service "${name}" used by "${el.name ?? id}" does not exist. Available: ${[...services].join(', ') || 'none'}.`);
      }
    }
    if (isFeel(el.formKey)) {
      add(id, 'form-key', `camunda:formKey on "${el.name ?? id}" must be the plain name of a form in processes/forms (e.g. handle), not an expression.`);
    }

    if (type === 'bpmn:BusinessRuleTask') {
      if (!el.decisionRef) {
        add(id, 'decision-ref', `Business-rule task "${el.name ?? id}" needs camunda:decisionRef naming a deployed DMN decision (e.g. route-complaint).`);
      } else if (decisions && !decisions.has(el.decisionRef)) {
        add(id, 'decision-ref', `Decision "${el.decisionRef}" used by "${el.name ?? id}" is not deployed. Deploy its DMN file first${decisions.size ? ` (deployed: ${[...decisions].join(', ')})` : ''}.`);
      }
      if (el.mapDecisionResult && !['singleResult', 'singleEntry', 'collectEntries', 'resultList'].includes(el.mapDecisionResult)) {
        add(id, 'decision-ref', `camunda:mapDecisionResult "${el.mapDecisionResult}" on "${el.name ?? id}" must be singleResult, singleEntry, collectEntries or resultList.`);
      }
    }

    for (const ext of el.extensionElements?.values ?? []) {
      if (ext.$type === 'camunda:InputOutput') {
        for (const p of ext.outputParameters ?? []) {
          if (p.definition) continue; // scripts are reported below
          if (!p.name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p.name) || ['fields', 'content', 'properties'].includes(p.name)) {
            add(id, 'output-parameter', `Output parameter "${p.name ?? ''}" on "${el.name ?? id}" needs a variable name (letters, digits, _; not fields, content or properties).`);
          }
          if (typeof p.value === 'string' && isFeel(p.value)) checkFeel(id, `Output parameter "${p.name}" on "${el.name ?? id}"`, p.value);
          if (typeof p.value === 'string' && p.value.includes('${')) refuseJuel(id, `Output parameter "${p.name}" on "${el.name ?? id}"`, p.value);
        }
        if ((ext.inputParameters ?? []).length) {
          add(id, 'input-parameter', `Input parameters on "${el.name ?? id}" are ignored: every step sees all case variables. Remove them, or use output parameters.`, 'warning');
        }
      }
      if (/camunda:(ExecutionListener|TaskListener)/.test(ext.$type)) {
        add(id, 'no-listener', `${ext.$type} on "${el.name ?? id}" is refused: listeners run code. Model the step in the diagram instead.`);
      }
      if (ext.$type === 'camunda:InputOutput') {
        for (const p of [...(ext.inputParameters ?? []), ...(ext.outputParameters ?? [])]) {
          if (p.definition?.$type === 'camunda:Script') add(id, 'no-script-task', `Input/output parameter "${p.name}" on "${el.name ?? id}" is a script: scripts never run.`);
        }
      }
    }

    for (const child of el.flowElements ?? []) visit(child);
  };

  function checkTimer(id: string, def: any) {
    const parts = (['timeDuration', 'timeDate', 'timeCycle'] as const).filter((k) => def[k]);
    if (parts.length !== 1) {
      add(id, 'timer', `Timer "${id}" needs exactly one of timeDuration, timeDate or timeCycle.`);
      return;
    }
    const kind = parts[0];
    const value: string = (def[kind].body ?? '').trim();
    if (!value) return add(id, 'timer', `Timer "${id}" has an empty ${kind}.`);
    if (value.includes('${') || value.includes('#{')) return refuseJuel(id, `The ${kind} of timer "${id}"`, value);
    if (isFeel(value)) return checkFeel(id, `The ${kind} of timer "${id}"`, value);
    if (kind === 'timeDuration' && !ISO_DURATION.test(value)) {
      add(id, 'timer', `The timeDuration of timer "${id}" must be an ISO 8601 duration such as P10D or PT4H, or FEEL starting with "=": ${value}`);
    } else if (kind === 'timeDate' && Number.isNaN(Date.parse(value))) {
      add(id, 'timer', `The timeDate of timer "${id}" must be an ISO 8601 date-time with offset, e.g. 2026-12-01T08:00:00+07:00, or FEEL: ${value}`);
    } else if (kind === 'timeCycle') {
      const cycle = ISO_CYCLE.exec(value);
      if (!cycle || !ISO_DURATION.test(cycle[1].split('/').pop() ?? '')) {
        add(id, 'timer', `The timeCycle of timer "${id}" must be an ISO 8601 repeating interval such as R3/PT1H (cron is not supported): ${value}`);
      }
    }
  }

  /**
   * bpmn-engine starts every activity without an incoming flow when its
   * process (or sub-process) starts: a step whose arrow was deleted would run
   * at the start of every case. Only events that are meant to start or to be
   * triggered may stand alone.
   */
  const checkReachable = (container: any) => {
    const elements: any[] = container.flowElements ?? [];
    const targets = new Set(elements.filter((e) => e.$type === 'bpmn:SequenceFlow').map((f) => f.targetRef?.id));
    for (const el of elements) {
      if (el.$type === 'bpmn:SubProcess') checkReachable(el);
      if (!el.$type || /SequenceFlow|DataObject|DataStore|StartEvent|BoundaryEvent/.test(el.$type)) continue;
      if (el.triggeredByEvent || el.isForCompensation || targets.has(el.id)) continue;
      if ((el.eventDefinitions ?? []).some((d: any) => d.$type === 'bpmn:LinkEventDefinition')) continue;
      add(el.id, 'no-incoming-flow', `"${el.name ?? el.id}" has no incoming arrow, so the engine would run it at the start of every ${container.$type === 'bpmn:SubProcess' ? 'run of the sub-process' : 'case'}. Connect it with a sequence flow, or delete it.`);
    }
  };
  for (const p of processes) {
    for (const el of p.flowElements ?? []) visit(el);
    checkReachable(p);
  }
  // bpmnlint's recommended modelling rules (labels, implicit splits, missing DI…): advice, not refusals —
  // they are about how a diagram reads; what the engine cannot run is refused by the rules above.
  try {
    // On its own parse: the linter's traversal leaves marks on the tree that change the
    // context built from it (cases then never reach their first wait state).
    const reports = await modelingLinter().lint((await parseBpmn(xml)).rootElement);
    for (const [rule, items] of Object.entries(reports)) {
      for (const item of items) {
        add(item.id ?? null, `bpmnlint/${rule}`, `${item.message} (modelling rule ${rule}${item.category === 'error' ? ', recommended as an error by bpmnlint' : ''})`, 'warning');
      }
    }
  } catch (err: any) {
    add(null, 'bpmnlint', `The modelling rules could not be checked: ${err?.message ?? err}`, 'warning');
  }
  const main = executable[0];
  const read = main ? options.readElements?.[main.id] : undefined;
  if (read) {
    const ids = new Set<string>();
    const collect = (c: any) => {
      for (const el of c.flowElements ?? []) {
        ids.add(el.id);
        collect(el);
      }
    };
    collect(main);
    for (const [id, reader] of Object.entries(read)) {
      if (!ids.has(id)) add(null, 'read-element-missing', `This version of ${main.id} has no element "${id}", which ${reader} reads by that id: keep the id (rename only the label); without it those answers would be wrong for cases on this version.`);
    }
  }
  return { problems, moddle, processId: main?.id, processName: main?.name };
}

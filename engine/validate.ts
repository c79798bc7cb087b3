import { createRequire } from 'node:module';
import { capitalizedNames, feelResultKind, feelSyntaxError, freeVariables, isFeel, unknownFunctions } from './feel.js';
import { extensionProperties, parseBpmn } from './bpmn.js';
import { ENGINE_VARIABLES } from './session.js';
import { callSpec } from './call-activity.js';

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
  /** feel-unknown-name: the name read, and the known name it probably meant (the modeler words its own message from these). */
  name?: string;
  suggestion?: string;
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
  /**
   * The variables a case of a process starts with, by process key (the
   * hotline: its intake schema). A process listed here is checked strictly:
   * every name an expression reads must be set before that point of the
   * flow, or be one of these. Unlisted processes (started with any data) get
   * a warning only for a name that looks like a misspelt known one.
   */
  intakeVariables?: Record<string, readonly string[]>;
  /** The fields each installed form sets (formKey → field names; a message's form is message-<name>). */
  formFields?: Record<string, readonly string[]>;
  /**
   * Deployed BPMN processes (key → version numbers): a call activity must call one of them, and a
   * pinned version must exist. Omitted (no database at hand) → not checked.
   */
  processes?: Record<string, readonly number[]>;
  /** The outputs each deployed decision sets (decision id → output names). */
  decisionOutputs?: Record<string, readonly string[]>;
  /**
   * What outgoing messages read, by process key (a plug-in's contract, e.g.
   * the hotline's SMS templates): an element sending through one of `topics`
   * (camunda:topic) names its template in camunda:property "template" (the
   * element id when none); `reads` gives each template's variables. A
   * template that does not exist, or reads a variable nothing before the
   * sending step sets, is refused (rules message-template-missing,
   * sms-template-variable): the text would go out with a blank.
   */
  messageTemplates?: Record<string, { topics: readonly string[]; reads: Record<string, readonly string[]> }>;
  /**
   * BPMN message names other parts of the product correlate by name, by
   * process key (the hotline's SMS and web ratings, the citizen's
   * information): name → what sends it. A version without one is refused
   * (rule read-message-missing), like a missing read element.
   */
  readMessages?: Record<string, Record<string, string>>;
}

export interface TaskPropertyRule {
  values: readonly string[];
  /** Completes "User task X does not say …", e.g. "what a citizen looking up the case sees while it waits here". */
  missing: string;
  /** Completes "camunda:property P "v" on X …", e.g. "is not a status citizens know". */
  invalid: string;
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** `DOCTYPE name` or `ENTITY name` when the XML declares one (outside comments), else null. */
export function markupDeclaration(xml: string): string | null {
  const m = /<!(DOCTYPE|ENTITY)\s+([^\s>[]*)/i.exec(xml.replace(/<!--[\s\S]*?-->/g, ''));
  return m ? `${m[1].toUpperCase()} ${m[2]}`.trim() : null;
}

export async function validateBpmn(xml: string, options: ValidateOptions = {}): Promise<ValidationResult> {
  const problems: Problem[] = [];
  const add = (elementId: string | null, rule: string, message: string, severity: Problem['severity'] = 'error', about: Pick<Problem, 'name' | 'suggestion'> = {}) =>
    problems.push({ elementId, rule, severity, message, ...about });

  if (typeof xml !== 'string' || !xml.trim()) {
    add(null, 'parse', 'The diagram is empty: send the BPMN 2.0 XML as the request body.');
    return { problems };
  }
  const declaration = markupDeclaration(xml);
  if (declaration) {
    add(null, 'doctype', `The file declares ${declaration}: a diagram may not carry a DOCTYPE or ENTITY declarations (they can expand to huge or external content). Remove the <!${declaration.split(' ')[0]} …> line and export the diagram again.`);
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
  /** The key this diagram deploys as: a call activity may not call it (a case would call itself without end). */
  const ownKey: string | undefined = executable[0]?.id;
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
  /**
   * A call activity names a deployed process by key (engine/call-activity.ts): the active version,
   * or one pinned with camunda:calledElementBinding="version" and camunda:calledElementVersion.
   * Its camunda:in / camunda:out mappings copy a variable (source) or evaluate FEEL (sourceExpression).
   */
  const checkCallActivity = (el: any) => {
    const id = el.id;
    const label = `Call activity "${el.name ?? id}"`;
    const spec = callSpec(el);
    const key = spec.calledElement;
    if (!key) {
      add(id, 'called-element-missing', `${label} names no process: set calledElement to the key (the process id) of a deployed process, e.g. quality-check.`);
    } else if (/[${}#=\s]/.test(key)) {
      add(id, 'called-element-key', `${label} calls "${key}": calledElement must be the plain key of a deployed process (its process id), not an expression.`);
    } else if (key === ownKey) {
      add(id, 'called-element-recursive', `${label} calls its own process "${key}": a case would call itself without end. Call another process, or draw a loop back in this one.`);
    } else if (options.processes) {
      const versions = options.processes[key];
      if (!versions?.length) {
        add(id, 'called-element-unknown', `${label} calls process "${key}", which is not deployed: deploy "${key}" first, or use the key of a deployed process${Object.keys(options.processes).length ? ` (${Object.keys(options.processes).sort().join(', ')})` : ''}.`);
      } else if (spec.version !== null && !versions.includes(spec.version)) {
        add(id, 'called-element-unknown', `${label} is pinned to version ${spec.version} of process "${key}", which does not exist (deployed versions: ${[...versions].sort((a, b) => a - b).join(', ')}).`);
      }
    }
    if (spec.binding !== 'latest' && spec.binding !== 'version') {
      add(id, 'called-element-binding', `${label} has camunda:calledElementBinding="${spec.binding}": use "latest" (the active version, the default) or "version" with camunda:calledElementVersion.`);
    } else if (spec.binding === 'version' && spec.version === null) {
      add(id, 'called-element-binding', `${label} pins a version (camunda:calledElementBinding="version") but camunda:calledElementVersion is not a version number (found ${JSON.stringify(el.calledElementVersion ?? null)}).`);
    }
    if (el.loopCharacteristics) add(id, 'unsupported-element', `${label} is a multi-instance call activity, which is not supported: call the process once, or use a multi-instance user task inside the called process.`);
    for (const [dir, mappings] of [['camunda:in', spec.ins], ['camunda:out', spec.outs]] as const) {
      for (const m of mappings) {
        if (m.all) continue;
        if (!m.target) add(id, 'call-mapping', `A ${dir} mapping on ${label} has no target: say which variable receives the value (target="…").`);
        if (m.sourceExpression !== undefined) {
          if (m.sourceExpression.includes('${') || m.sourceExpression.includes('#{')) refuseJuel(id, `The ${dir} sourceExpression on ${label}`, m.sourceExpression);
          else checkFeel(id, `The ${dir} sourceExpression on ${label}`, m.sourceExpression);
        } else if (!m.source) {
          add(id, 'call-mapping', `A ${dir} mapping on ${label} has neither source (a variable name) nor sourceExpression (FEEL), nor variables="all".`);
        }
      }
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
      checkCallActivity(el);
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
  for (const p of executable) {
    checkStructure(p, add);
    checkNames(p, options, add);
  }
  refuseJuelAnywhere(root, problems, add);
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
  const correlated = main ? options.readMessages?.[main.id] : undefined;
  if (correlated) {
    const names = new Set((root.rootElements ?? []).filter((e: any) => e.$type === 'bpmn:Message').map((m: any) => m.name ?? m.id));
    for (const [name, sender] of Object.entries(correlated)) {
      if (!names.has(name)) add(null, 'read-message-missing', `This version of ${main.id} has no message named "${name}", which ${sender} delivers by that name: keep the message's name (bpmn:message name="${name}"); without it those messages would find no case waiting for them.`);
    }
  }
  return { problems, moddle, processId: main?.id, processName: main?.name };
}

type Add = (elementId: string | null, rule: string, message: string, severity?: Problem['severity'], about?: Pick<Problem, 'name' | 'suggestion'>) => void;

const isNode = (el: any) => el?.$type && !/SequenceFlow|DataObject|DataStore/.test(el.$type);
const labelOf = (el: any) => `"${el.name ?? el.id}"`;
const definitionsOf = (el: any): string[] => (el.eventDefinitions ?? []).map((d: any) => d.$type);

/** Elements where a case waits for someone or something: a command (or a timer) moves it on. */
function isWaitState(el: any): boolean {
  if (/UserTask|ReceiveTask|ManualTask|EventBasedGateway/.test(el.$type)) return true;
  // The called process is itself deployed only if it waits somewhere (this same rule, at its deploy).
  if (el.$type === 'bpmn:CallActivity') return true;
  if (el.$type === 'bpmn:IntermediateCatchEvent') return definitionsOf(el).some((d) => /Message|Timer|Signal/.test(d));
  if (el.$type === 'bpmn:SubProcess') return (el.flowElements ?? []).some(isWaitState);
  return false;
}

/** The nodes a token can go to from `el` in its container: its outgoing flows, its boundary events, a link throw's catch. */
function successors(el: any, container: any): any[] {
  const elements: any[] = container.flowElements ?? [];
  const next = elements.filter((f) => f.$type === 'bpmn:SequenceFlow' && f.sourceRef?.id === el.id).map((f) => f.targetRef);
  next.push(...elements.filter((b) => b.$type === 'bpmn:BoundaryEvent' && b.attachedToRef?.id === el.id));
  const link = (el.eventDefinitions ?? []).find((d: any) => d.$type === 'bpmn:LinkEventDefinition');
  if (link && el.$type === 'bpmn:IntermediateThrowEvent') {
    next.push(...elements.filter((c) => c.$type === 'bpmn:IntermediateCatchEvent' && (c.eventDefinitions ?? []).some((d: any) => d.$type === 'bpmn:LinkEventDefinition' && d.name === link.name)));
  }
  return next.filter(Boolean);
}

/**
 * The shape every process must have to run: a none start event; from each
 * start an end event can be reached; every element can be reached from a
 * start; and no case can end before it waits somewhere (a process that ends
 * at once closes every complaint at intake).
 */
function checkStructure(process: any, add: Add): void {
  const check = (container: any, isProcess: boolean) => {
    const elements: any[] = (container.flowElements ?? []).filter((e: any) => !(e.$type === 'bpmn:SubProcess' && e.triggeredByEvent));
    const starts = elements.filter((e) => e.$type === 'bpmn:StartEvent');
    const noneStarts = starts.filter((e) => !(e.eventDefinitions ?? []).length);
    const where = isProcess ? `process "${container.name ?? container.id}"` : `sub-process ${labelOf(container)}`;
    if (!noneStarts.length) {
      add(container.id, 'start-event-missing', `The ${where} has no plain start event (one without a trigger): cases start there. Add one, connected to the first step.`);
    }
    const reached = new Set<string>();
    const walk = (from: any[]) => {
      const queue = [...from];
      while (queue.length) {
        const el = queue.shift();
        if (!el || reached.has(el.id)) continue;
        reached.add(el.id);
        queue.push(...successors(el, container));
      }
    };
    walk(starts);
    for (const start of starts) {
      const seen = new Set<string>();
      const queue = [start];
      let ends = false;
      while (queue.length && !ends) {
        const el = queue.shift();
        if (seen.has(el.id)) continue;
        seen.add(el.id);
        if (el.$type === 'bpmn:EndEvent') ends = true;
        queue.push(...successors(el, container));
      }
      if (!ends) add(start.id, 'no-end-event', `From start event ${labelOf(start)} no path reaches an end event: connect the last step to an end event (a case must be able to finish, and an element without an arrow out ends it unseen).`);
    }
    for (const el of elements) {
      if (!isNode(el) || reached.has(el.id) || el.isForCompensation) continue;
      // Without any incoming arrow: already reported by no-incoming-flow.
      const hasIncoming = elements.some((f) => f.$type === 'bpmn:SequenceFlow' && f.targetRef?.id === el.id);
      if (!hasIncoming) continue;
      add(el.id, 'unreachable', `${labelOf(el)} cannot be reached from any start event: no case would ever get there. Connect it to the flow, or delete it.`);
    }
    if (isProcess) {
      for (const start of noneStarts) {
        const seen = new Set<string>();
        const queue = [start];
        while (queue.length) {
          const el = queue.shift();
          if (seen.has(el.id) || isWaitState(el)) continue;
          seen.add(el.id);
          const next = successors(el, container);
          if (el.$type === 'bpmn:EndEvent' || !next.length) {
            add(start.id, 'ends-without-waiting', `A case started at ${labelOf(start)} can end at ${labelOf(el)} before it waits at any step (user task, message or timer): every complaint taken in that way would be closed at once. Put a user task (or a message or timer event) on that path.`);
            break;
          }
          queue.push(...next);
        }
      }
    }
    for (const el of elements) if (el.$type === 'bpmn:SubProcess') check(el, false);
  };
  check(process, true);
}

/** Closest known name within two edits (one for short names), for "did you mean". */
function suggestion(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    if (candidate.toLowerCase() === name.toLowerCase()) return candidate;
    const d = editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= (name.length <= 4 ? 1 : 2) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = here;
    }
  }
  return row[b.length];
}

interface Known {
  names: Set<string>;
  /** A step before here may set any variable (a task without a form): unknown names cannot be told apart. */
  open: boolean;
}

/**
 * Every FEEL expression reads only names known at its point of the flow:
 * the start data, fields of forms submitted by earlier steps, outputs of
 * earlier decisions, earlier output parameters, the engine's own variables.
 * "Earlier" is any path from a start event (a name set on one branch is
 * known after the join: a condition can test it for null).
 */
function checkNames(process: any, options: ValidateOptions, add: Add): void {
  const functions = options.functions ?? [];
  const intake = options.intakeVariables?.[process.id];
  const strict = Boolean(intake);
  const base = new Set<string>([...(intake ?? []), ...Object.keys(ENGINE_VARIABLES)]);
  const all: any[] = [];
  const parentOf = new Map<string, any>();
  const collect = (container: any) => {
    for (const el of container.flowElements ?? []) {
      parentOf.set(el.id, container);
      if (isNode(el)) all.push(el);
      if (el.$type === 'bpmn:SubProcess') collect(el);
    }
  };
  collect(process);
  const flows = (container: any): any[] => (container.flowElements ?? []).filter((f: any) => f.$type === 'bpmn:SequenceFlow');

  const messageFields = (el: any): readonly string[] | null => {
    const defs = [...(el.eventDefinitions ?? []), ...(el.messageRef ? [{ $type: 'bpmn:MessageEventDefinition', messageRef: el.messageRef }] : [])];
    const message = defs.find((d: any) => d.$type === 'bpmn:MessageEventDefinition')?.messageRef;
    if (!message) return [];
    return options.formFields?.[`message-${message.name ?? message.id}`] ?? null;
  };
  /** What an element sets when it completes (null: anything), output parameters apart. */
  const sets = (el: any): readonly string[] | null => {
    if (el.$type === 'bpmn:UserTask') return el.formKey ? (options.formFields?.[el.formKey] ?? null) : null;
    if (el.$type === 'bpmn:ManualTask') return null;
    // camunda:out variables="all" brings back whatever the called process set.
    if (el.$type === 'bpmn:CallActivity') return callSpec(el).outs.some((m) => m.all) ? null : [];
    if (el.$type === 'bpmn:BusinessRuleTask') return el.resultVariable ? [el.resultVariable] : (options.decisionOutputs?.[el.decisionRef] ?? null);
    if (/ReceiveTask|IntermediateCatchEvent|BoundaryEvent/.test(el.$type)) return messageFields(el);
    return [];
  };
  const outputs = (el: any): string[] => {
    const out: string[] = [];
    for (const ext of el.extensionElements?.values ?? []) if (ext.$type === 'camunda:InputOutput') for (const p of ext.outputParameters ?? []) if (p.name) out.push(p.name);
    // A call activity sets the targets of its camunda:out mappings when the called process ends.
    if (el.$type === 'bpmn:CallActivity') for (const m of callSpec(el).outs) if (m.target) out.push(m.target);
    return out;
  };
  const gen = new Map<string, Known>();
  for (const el of all) {
    const s = sets(el);
    gen.set(el.id, { names: new Set([...(s ?? []), ...outputs(el)]), open: s === null });
  }
  const inOf = new Map<string, Known>();
  const outOf = new Map<string, Known>();
  const empty = (): Known => ({ names: new Set(), open: false });
  const merge = (into: Known, from: Known | undefined) => {
    if (!from) return;
    for (const n of from.names) into.names.add(n);
    into.open ||= from.open;
  };
  const inputOf = (el: any): Known => {
    const container = parentOf.get(el.id);
    const k = empty();
    if (el.$type === 'bpmn:BoundaryEvent') {
      merge(k, inOf.get(el.attachedToRef?.id));
      return k;
    }
    if (el.$type === 'bpmn:StartEvent') {
      if (container === process) for (const n of base) k.names.add(n);
      else if (container.triggeredByEvent) for (const other of all) merge(k, outOf.get(other.id));
      else merge(k, inOf.get(container.id));
      return k;
    }
    for (const f of flows(container)) if (f.targetRef?.id === el.id) merge(k, outOf.get(f.sourceRef?.id));
    const link = (el.eventDefinitions ?? []).find((d: any) => d.$type === 'bpmn:LinkEventDefinition');
    if (link && el.$type === 'bpmn:IntermediateCatchEvent') {
      for (const t of container.flowElements ?? []) {
        if (t.$type === 'bpmn:IntermediateThrowEvent' && (t.eventDefinitions ?? []).some((d: any) => d.$type === 'bpmn:LinkEventDefinition' && d.name === link.name)) merge(k, outOf.get(t.id));
      }
    }
    return k;
  };
  const size = (k: Known | undefined) => (k ? k.names.size + (k.open ? 1 : 0) : -1);
  for (let changed = true, rounds = 0; changed && rounds < 1000; rounds++) {
    changed = false;
    for (const el of all) {
      const k = inputOf(el);
      const out: Known = { names: new Set(k.names), open: k.open };
      merge(out, gen.get(el.id));
      // A sub-process hands on what its steps set.
      if (el.$type === 'bpmn:SubProcess') for (const inner of all) if (parentOf.get(inner.id) === el) merge(out, outOf.get(inner.id));
      if (size(k) !== size(inOf.get(el.id)) || size(out) !== size(outOf.get(el.id))) changed = true;
      inOf.set(el.id, k);
      outOf.set(el.id, out);
    }
  }

  const everything = new Set<string>(base);
  for (const k of gen.values()) for (const n of k.names) everything.add(n);
  const check = (el: any, what: string, expression: string, known: Known | undefined, extra: Iterable<string> = []) => {
    if (!isFeel(expression) && !what.startsWith('The condition')) return;
    const source = expression.trimStart().replace(/^=/, '');
    if (feelSyntaxError(source, functions)) return; // reported as feel-syntax
    const names = new Set([...(known?.names ?? []), ...extra]);
    for (const name of freeVariables(source, functions)) {
      if (names.has(name) || functions.includes(name)) continue;
      if (/^[A-Z][A-Z0-9_]+$/.test(name)) continue; // an unquoted code: warned about as unquoted-text
      const near = suggestion(name, names.size ? names : everything) ?? suggestion(name, everything);
      const hint = near ? ` Did you mean "${near}"?` : '';
      const about = { name, ...(near ? { suggestion: near } : {}) };
      if (strict && !known?.open) {
        add(el.id, 'feel-unknown-name', `${what} reads "${name}", which is not known at this point of the process: it is not in the start data, not a field of a form submitted before, not an output of an earlier decision or output parameter, and not provided by the engine.${hint} Expression: ${expression}`, 'error', about);
      } else if (near) {
        add(el.id, 'feel-unknown-name', `${what} reads "${name}", which no step before sets.${hint} Expression: ${expression}`, 'warning', about);
      }
    }
  };
  /**
   * What a literal result must be: a condition true or false; a timer's duration (timeDuration) a duration, its
   * date (timeDate) a date or date-time, its cycle (timeCycle) a duration or a date. A timeDuration of
   * `=date and time("…")` was deployed, and every case then held its timer as an incident no variable could fix.
   */
  const WANTED: Record<'boolean' | 'timeDuration' | 'timeDate' | 'timeCycle', { refused: string[]; words: string }> = {
    boolean: { refused: ['number', 'string', 'duration', 'date', 'time', 'null'], words: 'true or false' },
    timeDuration: { refused: ['boolean', 'number', 'date', 'time', 'null'], words: 'a duration (e.g. duration("P3D"), or a text such as "P3D")' },
    timeDate: { refused: ['boolean', 'number', 'duration', 'time', 'null'], words: 'a date or a date-time' },
    timeCycle: { refused: ['boolean', 'number', 'time', 'null'], words: 'a cycle, a duration or a date-time' },
  };
  const KIND_WORDS: Record<string, string> = { null: 'null', duration: 'a duration', date: 'a date or date-time', time: 'a time of day', boolean: 'true or false', number: 'a number', string: 'a text' };
  const checkKind = (el: any, what: string, expression: string, wanted: keyof typeof WANTED) => {
    const source = expression.trimStart().replace(/^=/, '');
    if (!source.trim() || feelSyntaxError(source, functions)) return;
    const kind = feelResultKind(source, functions);
    if (WANTED[wanted].refused.includes(kind)) add(el.id, 'feel-type', `${what} yields ${KIND_WORDS[kind] ?? kind}, but must yield ${WANTED[wanted].words}: ${expression}`);
  };

  for (const el of all) {
    const here = inOf.get(el.id);
    const name = labelOf(el);
    for (const attr of ['candidateGroups', 'assignee', 'dueDate']) {
      if (typeof el[attr] === 'string') check(el, `camunda:${attr} on ${name}`, el[attr], here);
    }
    for (const def of el.eventDefinitions ?? []) {
      if (def.$type !== 'bpmn:TimerEventDefinition') continue;
      for (const kind of ['timeDuration', 'timeDate', 'timeCycle']) {
        const body = def[kind]?.body;
        if (typeof body !== 'string' || !isFeel(body)) continue;
        check(el, `The ${kind} of timer ${name}`, body, here);
        checkKind(el, `The ${kind} of timer ${name}`, body, kind as 'timeDuration' | 'timeDate' | 'timeCycle');
      }
    }
    const loop = el.loopCharacteristics;
    if (loop) {
      if (typeof loop.collection === 'string') check(el, `The multi-instance collection of ${name}`, loop.collection, here);
      for (const part of ['loopCardinality', 'completionCondition']) {
        if (typeof loop[part]?.body === 'string') check(el, `The multi-instance ${part} of ${name}`, loop[part].body, here);
      }
    }
    const before: string[] = [...(gen.get(el.id)?.names ?? [])];
    for (const ext of el.extensionElements?.values ?? []) {
      if (ext.$type !== 'camunda:InputOutput') continue;
      for (const p of ext.inputParameters ?? []) if (typeof p.value === 'string') check(el, `Input parameter "${p.name}" on ${name}`, p.value, here);
      const seen: string[] = [];
      for (const p of ext.outputParameters ?? []) {
        // What the element itself set (its form, its decision) is known to its output parameters, open included.
        const own: Known = { names: new Set(here?.names ?? []), open: Boolean(here?.open || gen.get(el.id)?.open) };
        if (typeof p.value === 'string') check(el, `Output parameter "${p.name}" on ${name}`, p.value, own, [...before.filter((n) => !outputs(el).includes(n)), ...seen]);
        seen.push(p.name);
      }
    }
  }
  // A message whose template reads a variable: known before the sending step, or the text goes out with a blank.
  const templates = options.messageTemplates?.[process.id];
  for (const el of templates ? all : []) {
    if (el.type !== 'external' || !templates!.topics.includes(el.topic)) continue;
    const template = extensionProperties(el).template || el.id;
    const reads = templates!.reads[template];
    if (!reads) {
      add(el.id, 'message-template-missing', `${labelOf(el)} sends the message template "${template}", which does not exist: use one of ${Object.keys(templates!.reads).join(', ') || '(none)'} (camunda:property template), or add the template to the templates file.`);
      continue;
    }
    const here = inOf.get(el.id);
    for (const name of reads) {
      if (here?.names.has(name)) continue;
      const near = suggestion(name, here?.names.size ? here.names : everything);
      const about = { name, ...(near ? { suggestion: near } : {}) };
      if (strict && !here?.open) {
        add(el.id, 'sms-template-variable', `${labelOf(el)} sends the template "${template}", whose text reads "${name}", but no step before it sets "${name}" (not the start data, a form, a decision or an output parameter): the message would go out with a blank there. Set "${name}" before this step (e.g. a field of the form that leads here), or use a template that does not read it.`, 'error', about);
      } else if (!everything.has(name)) {
        add(el.id, 'sms-template-variable', `${labelOf(el)} sends the template "${template}", whose text reads "${name}", which nothing in this diagram sets.`, 'warning', about);
      }
    }
  }
  for (const f of all.flatMap((el) => flows(el)).concat(flows(process))) {
    const body = f.conditionExpression?.body;
    if (typeof body !== 'string' || !/^feel$/i.test(f.conditionExpression.language ?? '')) continue;
    check(f, `The condition on ${labelOf(f)}`, body, outOf.get(f.sourceRef?.id));
    checkKind(f, `The condition on ${labelOf(f)}`, body, 'boolean');
  }
}

/** Attributes that may hold `${environment.services.NAME}` (the engine's service form), and free text. */
const SERVICE_IMPLEMENTATION = /^\$\{environment\.services\.([A-Za-z_][\w-]*)\}$/;
const FREE_TEXT = new Set(['documentation', 'text', 'name']);

/**
 * `${…}` / `#{…}` (JUEL, Camunda 7's expression language) anywhere in a
 * diagram — a multi-instance collection, a message name, a form field — is
 * never evaluated safely here: the engine would fail every case reaching it.
 * One walk over the whole tree, after the element rules (which already
 * refuse it with a more specific message in the attributes they know).
 */
function refuseJuelAnywhere(root: any, problems: Problem[], add: Add): void {
  const reported = new Set(problems.filter((p) => p.rule === 'not-feel' || p.rule === 'condition-not-feel').map((p) => p.elementId));
  const seen = new Set<any>();
  const walk = (node: any, owner: any) => {
    if (!node || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    const element = node.id && node.$type && !/Definitions$/.test(node.$type) ? node : owner;
    const props: Array<{ name: string; isReference?: boolean }> = node.$descriptor?.properties ?? [];
    const entries: Array<[string, unknown]> = [...props.filter((p) => !p.isReference).map((p) => [p.name, node[p.name]] as [string, unknown]), ...Object.entries(node.$attrs ?? {})];
    for (const [prop, value] of entries) {
      if (typeof value === 'string') {
        if (!/[$#]\{/.test(value) || FREE_TEXT.has(prop)) continue;
        if (prop === 'implementation' && SERVICE_IMPLEMENTATION.test(value)) continue;
        const id = element?.id ?? null;
        if (reported.has(id)) continue;
        reported.add(id);
        add(id, 'not-feel', `${prop === 'body' ? 'An expression' : `The attribute ${prop}`} on ${element ? labelOf(element) : 'the diagram'} uses a \${…} expression, which is never evaluated here (every case reaching it would fail). Write FEEL starting with "=" instead, e.g. "=items": ${value}`);
      } else if (Array.isArray(value)) {
        for (const v of value) walk(v, element);
      } else if (value && typeof value === 'object') {
        walk(value, element);
      }
    }
  };
  walk(root, null);
}

import { DmnModdle } from 'dmn-moddle';
import type { DmnDecision, DmnDecisionTable, DmnDefinitions, DmnElement, DmnText } from 'dmn-moddle';
import {
  parseExpression, parseUnaryTests,
  FeelDate, FeelDateTime, FeelDuration, FeelTime,
} from 'feelin';
import { feelTest, feelValue } from './feel.js';
import { UnprocessableError } from './errors.js';
import { markupDeclaration, parseProblem, type Problem } from './validate.js';

/**
 * DMN 1.3 decision tables, evaluated with FEEL only. A parsed table is plain
 * JSON (it is stored in a jsonb column and cached), so evaluation re-reads the
 * FEEL texts rather than holding compiled closures.
 */

export const HIT_POLICIES = ['UNIQUE', 'FIRST', 'PRIORITY', 'ANY', 'COLLECT', 'RULE ORDER'] as const;
export type HitPolicy = (typeof HIT_POLICIES)[number];
export const AGGREGATIONS = ['SUM', 'MIN', 'MAX', 'COUNT'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export interface DecisionInput {
  id: string | null;
  label: string | null;
  /** FEEL expression over the case variables, evaluated once per evaluation. */
  inputExpression: string;
  typeRef: string | null;
}

export interface DecisionOutput {
  id: string | null;
  /** The key of this output in the result object. */
  name: string;
  label: string | null;
  typeRef: string | null;
  /** FEEL unary tests listing the allowed values; for PRIORITY, highest priority first. */
  outputValues: string | null;
  /** FEEL expression used when no rule matches (single-result hit policies only). */
  defaultOutputEntry: string | null;
}

export interface DecisionRule {
  id: string;
  description: string | null;
  /** FEEL unary tests, one per input; `-` or empty matches anything. */
  inputEntries: string[];
  /** FEEL expressions, one per output; empty gives null. */
  outputEntries: string[];
}

export interface DecisionTable {
  id: string;
  name: string | null;
  hitPolicy: HitPolicy;
  /** Only with COLLECT. */
  aggregation: Aggregation | null;
  inputs: DecisionInput[];
  outputs: DecisionOutput[];
  rules: DecisionRule[];
}

export interface ParsedDmn {
  id: string;
  name: string | null;
  namespace: string | null;
  decisions: DecisionTable[];
}

export interface DecisionResult {
  /**
   * The rules whose outputs make up `output`, in table order: every match for
   * UNIQUE, ANY, COLLECT and RULE ORDER; only the winner for FIRST and PRIORITY.
   */
  matchedRuleIds: string[];
  /**
   * UNIQUE, FIRST, PRIORITY, ANY: one object (output name → value) or null.
   * COLLECT, RULE ORDER: a list of objects. COLLECT with SUM/MIN/MAX: a number
   * or null when nothing matched; COUNT: a number.
   */
  output: Record<string, unknown> | Record<string, unknown>[] | number | null;
}

export class DecisionError extends Error {
  override readonly name = 'DecisionError';
  constructor(
    message: string,
    readonly decisionId: string,
    readonly ruleIds: string[] = [],
  ) {
    super(message);
  }
}

/** Same shape as DecisionTable, before the hit policy and aggregation are known to be supported. */
type DraftTable = Omit<DecisionTable, 'hitPolicy' | 'aggregation'> & { hitPolicy: string; aggregation: string | null };
type DraftDmn = Omit<ParsedDmn, 'decisions'> & { decisions: DraftTable[] };

const DMN13_NAMESPACE = 'https://www.omg.org/spec/DMN/20191111/MODEL/';

const text = (element: DmnText | undefined): string => (element?.text ?? '').trim();
const orNull = (value: string | undefined): string | null => (value === undefined || value === '' ? null : value);

function draftTable(decision: DmnDecision, table: DmnDecisionTable): DraftTable {
  return {
    id: decision.id ?? '',
    name: orNull(decision.name),
    hitPolicy: table.hitPolicy ?? 'UNIQUE',
    aggregation: orNull(table.aggregation),
    inputs: (table.input ?? []).map((input) => ({
      id: orNull(input.id),
      label: orNull(input.label),
      inputExpression: text(input.inputExpression),
      typeRef: orNull(input.inputExpression?.typeRef),
    })),
    outputs: (table.output ?? []).map((output) => ({
      id: orNull(output.id),
      name: output.name ?? '',
      label: orNull(output.label),
      typeRef: orNull(output.typeRef),
      outputValues: orNull(text(output.outputValues)),
      defaultOutputEntry: orNull(text(output.defaultOutputEntry)),
    })),
    // A rule without an id still needs a stable name in matchedRuleIds and messages.
    rules: (table.rule ?? []).map((rule, index) => ({
      id: rule.id ?? `row-${index + 1}`,
      description: orNull(rule.description?.trim()),
      inputEntries: (rule.inputEntry ?? []).map(text),
      outputEntries: (rule.outputEntry ?? []).map(text),
    })),
  };
}

function isDecision(element: DmnElement): element is DmnDecision {
  return element.$type === 'dmn:Decision';
}

function isDecisionTable(element: DmnElement | undefined): element is DmnDecisionTable {
  return element?.$type === 'dmn:DecisionTable';
}

const oneLine = (message: string) => message.replace(/content\s+detected/, 'content detected').replace(/\s*\n\s*/g, '; ').trim();

/** FEEL uses double quotes itself, so snippets quoted in messages need other marks. */
const q = (feel: string) => `«${feel}»`;

/**
 * Check a DMN 1.3 file before deploying it. `parsed` is present only when no
 * problem is an error, so a caller cannot store a table that would misbehave.
 */
export async function validateDmn(xml: string): Promise<{ problems: Problem[]; parsed?: ParsedDmn }> {
  const problems: Problem[] = [];
  const add = (elementId: string | null, rule: string, message: string, severity: Problem['severity'] = 'error') =>
    problems.push({ elementId, rule, severity, message });

  if (typeof xml !== 'string' || !xml.trim()) {
    add(null, 'parse', 'The decision file is empty: send the DMN 1.3 XML saved from the modeler.');
    return { problems };
  }
  const declaration = markupDeclaration(xml);
  if (declaration) {
    add(null, 'doctype', `The file declares ${declaration}: a decision file may not carry a DOCTYPE or ENTITY declarations. Remove that line and save the file from the modeler again.`);
    return { problems };
  }
  let root: DmnDefinitions;
  let warnings: { message: string; element?: DmnElement }[];
  try {
    ({ rootElement: root, warnings } = await new DmnModdle().fromXML(xml));
  } catch (err: any) {
    const message = oneLine(String(err?.message ?? err));
    const hint = /failed to parse document as <dmn:Definitions>/.test(message)
      ? ` Save it as DMN 1.3: the root must be <definitions xmlns="${DMN13_NAMESPACE}">. DMN 1.1/1.2 files and BPMN diagrams are not accepted.`
      : ' Check that the file is complete and was saved from the modeler as DMN 1.3.';
    problems.push(parseProblem('The file is not a readable DMN 1.3 decision file', err, hint));
    return { problems };
  }
  // The parser drops what it cannot read, so what would be deployed differs from what was drawn.
  for (const w of warnings ?? []) {
    add(w.element?.id ?? null, 'parse', `Part of the file could not be read and would be lost (${oneLine(w.message)}). Correct or remove that element in the modeler.`);
  }
  if (!root.id) add(null, 'definitions-id', 'Give <definitions> an id attribute (in the modeler: the ID of the DRD): the deployed decision file is stored and found by it.');

  const drafts: DraftTable[] = [];
  for (const decision of (root.drgElement ?? []).filter(isDecision)) {
    if (isDecisionTable(decision.decisionLogic)) {
      drafts.push(draftTable(decision, decision.decisionLogic));
    } else {
      const what = decision.decisionLogic ? `is a ${decision.decisionLogic.$type.replace(/^dmn:/, '')}` : 'is empty';
      add(decision.id ?? null, 'unsupported-decision-logic', `Decision "${decision.name ?? decision.id}" ${what}; only decision tables are evaluated, so it will be ignored. Turn it into a decision table or delete it.`, 'warning');
    }
  }
  if (drafts.length === 0) {
    add(null, 'no-decision-table', 'The file contains no decision table: add a decision and set its logic to "Decision table" in the modeler.');
  }
  for (const draft of drafts) checkTable(draft, add);

  if (problems.some((p) => p.severity === 'error')) return { problems };
  const parsed: DraftDmn = { id: root.id!, name: orNull(root.name), namespace: orNull(root.namespace), decisions: drafts };
  return { problems, parsed: parsed as ParsedDmn };
}

/**
 * Read a DMN 1.3 file into plain JSON. Throws UnprocessableError (with the
 * validation problems) when the file would not evaluate as drawn.
 */
export async function parseDmn(xml: string): Promise<ParsedDmn> {
  const { problems, parsed } = await validateDmn(xml);
  if (!parsed) {
    const errors = problems.filter((p) => p.severity === 'error');
    throw new UnprocessableError(`The decision file has ${errors.length} problem(s): ${errors[0]?.message ?? 'unknown'}`, [], problems);
  }
  return parsed;
}

type Add = (elementId: string | null, rule: string, message: string, severity?: Problem['severity']) => void;

/** Output names become case variables; these would reach or replace object prototypes downstream. */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const OUTPUT_NAME = /^[\p{L}_][\p{L}\p{N}_]*$/u;

const ENTRY_HELP = 'Write text in double quotes ("Xây dựng"), several values separated by commas ("a","b"), a comparison (>= 10, < "M"), a range ([1..5]), not("x"), or - for any value.';
const OUTPUT_HELP = 'Write text in double quotes ("Sở Xây dựng"), a number, true/false, or leave the cell empty for no value.';

function checkTable(table: DraftTable, add: Add): void {
  const where = `Decision "${table.name ?? table.id}"`;
  const tableId = table.id || null;
  if (!table.id) add(null, 'decision-id', `Give decision "${table.name ?? '(unnamed)'}" an ID: processes call a decision by its ID.`);

  if (!(HIT_POLICIES as readonly string[]).includes(table.hitPolicy)) {
    add(tableId, 'unsupported-hit-policy', `${where} uses hit policy "${table.hitPolicy}", which is not supported. Choose one of ${HIT_POLICIES.join(', ')}.`);
  }
  if (table.aggregation !== null) {
    if (!(AGGREGATIONS as readonly string[]).includes(table.aggregation)) {
      add(tableId, 'unsupported-aggregation', `${where} uses aggregation "${table.aggregation}", which is not supported. Choose SUM, MIN, MAX, COUNT, or no aggregation.`);
    } else if (table.hitPolicy !== 'COLLECT') {
      add(tableId, 'unsupported-aggregation', `${where} has aggregation ${table.aggregation} but hit policy ${table.hitPolicy}; aggregation only applies to COLLECT. Set the hit policy to COLLECT or remove the aggregation.`);
    } else if (table.outputs.length !== 1) {
      add(tableId, 'unsupported-aggregation', `${where} aggregates with ${table.aggregation} but has ${table.outputs.length} output columns; an aggregated table must have exactly one output. Remove the other outputs or the aggregation.`);
    }
  }

  if (table.outputs.length === 0) add(tableId, 'no-outputs', `${where} has no output column: add at least one output with a name.`);
  const seen = new Map<string, number>();
  table.outputs.forEach((output, i) => {
    const column = `output column ${i + 1}${output.label ? ` ("${output.label}")` : ''}`;
    if (!output.name) {
      add(output.id ?? tableId, 'output-name', `${where}: give ${column} an output name; the result is stored in the case variable of that name.`);
    } else if (!OUTPUT_NAME.test(output.name) || RESERVED_NAMES.has(output.name)) {
      add(output.id ?? tableId, 'output-name', `${where}: the output name "${output.name}" of ${column} cannot be used as a case variable. Use letters, digits and _ only, starting with a letter (for example capXuLy), and not constructor, prototype or __proto__.`);
    } else if (seen.has(output.name)) {
      add(output.id ?? tableId, 'duplicate-output-name', `${where}: output columns ${seen.get(output.name)! + 1} and ${i + 1} are both named "${output.name}", so one would overwrite the other. Give each output column its own name.`);
    } else {
      seen.set(output.name, i);
    }
    if (output.outputValues) {
      const error = feelSyntaxProblem(output.outputValues, 'unary-tests');
      if (error) add(output.id ?? tableId, 'feel-output-values', `${where}: the allowed values of ${column}, ${q(output.outputValues)}, are not valid FEEL (${error}). List them as text in double quotes separated by commas, e.g. "khẩn","cao","thường".`);
    }
    if (output.defaultOutputEntry) {
      const error = feelSyntaxProblem(output.defaultOutputEntry, 'expression');
      if (error) add(output.id ?? tableId, 'feel-output-entry', `${where}: the default value of ${column}, ${q(output.defaultOutputEntry)}, is not valid FEEL (${error}). ${OUTPUT_HELP}`);
    }
  });
  if (table.hitPolicy === 'PRIORITY' && !table.outputs.some((o) => o.outputValues)) {
    add(tableId, 'priority-output-values', `${where} uses hit policy PRIORITY, which ranks matching rules by the allowed values of the outputs, but no output lists any. Enter the allowed values of an output in priority order (highest first), e.g. "khẩn","cao","thường".`);
  }

  const inputNames = new Set<string>();
  table.inputs.forEach((input, i) => {
    const column = inputColumn(input, i);
    inputNames.add(input.inputExpression);
    if (!input.inputExpression) {
      add(input.id ?? tableId, 'feel-input-expression', `${where}: ${column} has no input expression. Write the name of the case variable it reads, e.g. linhVuc.`);
      return;
    }
    const error = feelSyntaxProblem(input.inputExpression, 'expression');
    if (error) add(input.id ?? tableId, 'feel-input-expression', `${where}: the expression of ${column}, ${q(input.inputExpression)}, is not valid FEEL (${error}). Write the name of a case variable, e.g. linhVuc, or a FEEL expression over the case variables.`);
  });

  table.rules.forEach((rule, r) => {
    const row = `row ${r + 1}`;
    if (rule.inputEntries.length !== table.inputs.length || rule.outputEntries.length !== table.outputs.length) {
      add(rule.id, 'rule-entries', `${where}, ${row}: the rule has ${rule.inputEntries.length} input and ${rule.outputEntries.length} output cells, but the table has ${table.inputs.length} input and ${table.outputs.length} output columns. Fill every cell of the row (- for any input value); if the file was edited by hand, add the missing <inputEntry>/<outputEntry> elements.`);
      return;
    }
    rule.inputEntries.forEach((entry, i) => {
      if (isAny(entry)) return;
      const cell = `${where}, ${row}, ${inputColumn(table.inputs[i], i)}`;
      const error = feelSyntaxProblem(entry, 'unary-tests');
      if (error) {
        add(rule.id, 'feel-input-entry', `${cell}: ${q(entry)} is not a valid FEEL test (${error}). ${ENTRY_HELP}`);
        return;
      }
      if (UNQUOTED_CODE.test(entry.trim())) {
        add(rule.id, 'unquoted-text', `${cell}: ${q(entry)} is read as arithmetic (${entry.trim().split('-').join(' minus ')}), so the rule never matches. Write the code in double quotes: "${entry.trim()}".`);
        return;
      }
      for (const name of bareNames(entry, 'unary-tests')) {
        if (!inputNames.has(name)) add(rule.id, 'unquoted-text', `${cell}: ${q(name)} is read as the name of a case variable, not as text, so the rule can only match if such a variable exists. If you meant the text, write "${name}" in double quotes.`, 'warning');
      }
    });
    rule.outputEntries.forEach((entry, i) => {
      if (!entry) return;
      const output = table.outputs[i];
      const cell = `${where}, ${row}, output "${output.label ?? output.name}"`;
      const error = feelSyntaxProblem(entry, 'expression');
      if (error) {
        add(rule.id, 'feel-output-entry', `${cell}: ${q(entry)} is not valid FEEL (${error}). ${OUTPUT_HELP}`);
        return;
      }
      if (UNQUOTED_CODE.test(entry.trim())) {
        add(rule.id, 'unquoted-text', `${cell}: ${q(entry)} is read as arithmetic (${entry.trim().split('-').join(' minus ')}), so the result is empty and the case goes to nobody. Write the code in double quotes: "${entry.trim()}".`);
        return;
      }
      for (const name of bareNames(entry, 'expression')) {
        if (!inputNames.has(name)) add(rule.id, 'unquoted-text', `${cell}: ${q(name)} is read as the name of a case variable, not as text, so the result will be empty unless such a variable exists. If you meant the text, write "${name}" in double quotes.`, 'warning');
      }
    });
  });
}

function inputColumn(input: DecisionInput, index: number): string {
  const label = input.label ?? input.inputExpression;
  return `input column ${index + 1}${label ? ` ("${label}")` : ''}`;
}

const isAny = (entry: string) => entry === '' || entry === '-';

function parseFeel(source: string, kind: 'expression' | 'unary-tests') {
  return kind === 'expression' ? parseExpression(source, {}, undefined) : parseUnaryTests(source, {}, undefined);
}

/**
 * feelin 8's parse functions return a tree with error nodes rather than
 * throwing (only evaluation throws), so the tree is walked here; a throw is
 * still handled in case a later version does what its typings suggest.
 */
function feelSyntaxProblem(source: string, kind: 'expression' | 'unary-tests'): string | null {
  if (!source.trim()) return 'it is empty';
  let tree;
  try {
    tree = parseFeel(source, kind);
  } catch (err: any) {
    return `${err?.message ?? String(err)}${err?.position ? ` at character ${err.position.from + 1}` : ''}`;
  }
  const errors: { from: number; to: number }[] = [];
  tree.iterate({
    enter(node) {
      if (errors.length) return false;
      if (node.type.isError) {
        errors.push({ from: node.from, to: node.to });
        return false;
      }
      return undefined;
    },
  });
  if (!errors.length) return null;
  const { from, to } = errors[0];
  if (from !== to) {
    const token = source.slice(from, to);
    const unclosed = token.startsWith('"') && !token.slice(1).includes('"');
    const hint = unclosed ? '; a text value may be missing its closing double quote'
      : kind === 'unary-tests' && from > 0 ? '; a comma may be missing before it' : '';
    return `${q(token)} at character ${from + 1} is not understood${hint}`;
  }
  const rest = source.slice(from).trim();
  if (!rest) return 'something is missing at the end';
  return `something is missing before ${q(rest.slice(0, 20))} at character ${from + 1}`;
}

/** Names that make up a whole test or expression: usually text someone forgot to quote. */
/** A catalogue code written without quotes (CONG-AN, VP-X-LONG-THANH): FEEL reads the hyphens as minus. */
const UNQUOTED_CODE = /^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$/;

function bareNames(source: string, kind: 'expression' | 'unary-tests'): string[] {
  const names: string[] = [];
  parseFeel(source, kind).iterate({
    enter(ref) {
      if (ref.name !== 'VariableName') return undefined;
      const parent = ref.node.parent;
      if (parent && (parent.name === 'PositiveUnaryTest' || parent.name === 'Expression') && parent.from === ref.from && parent.to === ref.to) {
        names.push(source.slice(ref.from, ref.to));
      }
      return false;
    },
  });
  return names;
}

type Scope = Record<string, unknown>;

/**
 * A null-prototype copy: FEEL name lookup then cannot fall through to
 * Object.prototype (`constructor`, `__proto__`, `toString` resolve to
 * nothing), and an own `__proto__` key from JSON stays plain data.
 */
function scopeOf(context: Record<string, unknown>, extra?: Scope): Scope {
  const scope: Scope = Object.create(null);
  for (const [key, value] of Object.entries(context ?? {})) scope[key] = value;
  if (extra) for (const [key, value] of Object.entries(extra)) scope[key] = value;
  return scope;
}

export function evaluateDecision(table: DecisionTable, context: Record<string, unknown>): DecisionResult {
  const scope = scopeOf(context);
  const values = table.inputs.map((input, i) => inputValue(table, input, i, scope));
  // `?` names the input value inside an input entry; one scope per input column.
  const testScopes = values.map((value) => scopeOf(scope, { '?': value }));

  const matches: DecisionRule[] = [];
  for (const [index, rule] of table.rules.entries()) {
    if (ruleMatches(table, rule, index, testScopes)) {
      matches.push(rule);
      if (table.hitPolicy === 'FIRST') break;
    }
  }
  const ids = (rules: DecisionRule[]) => rules.map((rule) => rule.id);
  const outputsOf = (rules: DecisionRule[]) => rules.map((rule) => ruleOutput(table, rule, scope));

  switch (table.hitPolicy) {
    case 'UNIQUE':
      if (matches.length > 1) {
        throw new DecisionError(
          `${describe(table)} has hit policy UNIQUE, but ${matches.length} rules match (${rowList(table, matches)}). Make these rules exclusive, or change the hit policy (FIRST takes the first matching row).`,
          table.id, ids(matches));
      }
      return matches.length ? { matchedRuleIds: ids(matches), output: ruleOutput(table, matches[0], scope) } : noMatch(table, scope);
    case 'FIRST':
      return matches.length ? { matchedRuleIds: ids(matches), output: ruleOutput(table, matches[0], scope) } : noMatch(table, scope);
    case 'PRIORITY': {
      if (!matches.length) return noMatch(table, scope);
      const outputs = outputsOf(matches);
      const winner = byPriority(table, outputs);
      return { matchedRuleIds: [matches[winner].id], output: outputs[winner] };
    }
    case 'ANY': {
      if (!matches.length) return noMatch(table, scope);
      const outputs = outputsOf(matches);
      const first = JSON.stringify(outputs[0]);
      if (outputs.some((output) => JSON.stringify(output) !== first)) {
        throw new DecisionError(
          `${describe(table)} has hit policy ANY, but the matching rules give different results (${rowList(table, matches)}). Give these rules the same outputs, or change the hit policy.`,
          table.id, ids(matches));
      }
      return { matchedRuleIds: ids(matches), output: outputs[0] };
    }
    case 'COLLECT':
      return { matchedRuleIds: ids(matches), output: table.aggregation ? aggregate(table, matches, outputsOf(matches)) : outputsOf(matches) };
    case 'RULE ORDER':
      return { matchedRuleIds: ids(matches), output: outputsOf(matches) };
    default:
      throw new DecisionError(`${describe(table)} has hit policy "${String(table.hitPolicy)}", which is not supported; redeploy it with one of ${HIT_POLICIES.join(', ')}.`, table.id);
  }
}

function describe(table: DecisionTable): string {
  return table.name ? `Decision "${table.name}" (${table.id})` : `Decision ${table.id}`;
}

function rowList(table: DecisionTable, rules: DecisionRule[]): string {
  return rules.map((rule) => `row ${table.rules.indexOf(rule) + 1} = ${rule.id}`).join(', ');
}

function inputValue(table: DecisionTable, input: DecisionInput, index: number, scope: Scope): unknown {
  let value: unknown;
  try {
    value = feelValue(input.inputExpression, scope);
  } catch (err: any) {
    throw new DecisionError(`${describe(table)}: ${inputColumn(input, index)} could not be evaluated: ${err?.message ?? err}.`, table.id);
  }
  return checkType(table, input, index, value);
}

/**
 * feelin compares across types loosely (the text "x" passes `>= 10`), so a
 * value that contradicts the column's declared type is refused instead of
 * being allowed to match by accident. Dates arrive from JSON as text and are
 * read as FEEL dates so that date comparisons work.
 */
function checkType(table: DecisionTable, input: DecisionInput, index: number, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const type = (input.typeRef ?? '').trim().toLowerCase();
  const asFeel = (fn: string, Type: typeof FeelDate | typeof FeelDateTime | typeof FeelTime | typeof FeelDuration) => {
    if (value instanceof Type) return value;
    if (typeof value !== 'string') return undefined;
    const converted = feelValue(`${fn}(v)`, { v: value });
    return converted instanceof Type ? converted : undefined;
  };
  let checked: unknown;
  switch (type) {
    case 'string': checked = typeof value === 'string' ? value : undefined; break;
    case 'number': case 'integer': case 'long': case 'double':
      checked = typeof value === 'number' && Number.isFinite(value) ? value : undefined; break;
    case 'boolean': checked = typeof value === 'boolean' ? value : undefined; break;
    case 'date': checked = asFeel('date', FeelDate); break;
    case 'datetime': case 'date and time': checked = asFeel('date and time', FeelDateTime); break;
    case 'time': checked = asFeel('time', FeelTime); break;
    case 'duration': case 'daytimeduration': case 'yearmonthduration': case 'days and time duration': case 'years and months duration':
      checked = asFeel('duration', FeelDuration); break;
    default: return value;
  }
  if (checked === undefined) {
    const shown = typeof value === 'string' ? `"${value}"` : JSON.stringify(toPlain(value));
    throw new DecisionError(`${describe(table)}: ${inputColumn(input, index)} expects a ${input.typeRef} but the case has ${shown} (${typeof value}). Correct the case data, or the column's type in the table.`, table.id);
  }
  return checked;
}

function ruleMatches(table: DecisionTable, rule: DecisionRule, index: number, testScopes: Scope[]): boolean {
  if (rule.inputEntries.length !== table.inputs.length) {
    throw new DecisionError(`${describe(table)}, row ${index + 1}: the rule has ${rule.inputEntries.length} input cells for ${table.inputs.length} input columns; redeploy a corrected table.`, table.id, [rule.id]);
  }
  for (const [i, entry] of rule.inputEntries.entries()) {
    if (isAny(entry.trim())) continue;
    let result: unknown;
    try {
      result = feelTest(entry, testScopes[i]);
    } catch (err: any) {
      throw new DecisionError(`${describe(table)}, row ${index + 1}, ${inputColumn(table.inputs[i], i)}: the test ${q(entry)} failed: ${err?.message ?? err}.`, table.id, [rule.id]);
    }
    if (result !== true) return false;
  }
  return true;
}

function outputValue(table: DecisionTable, source: string | null | undefined, scope: Scope, where: string, ruleIds: string[]): unknown {
  if (!source?.trim()) return null;
  try {
    return toPlain(feelValue(source, scope));
  } catch (err: any) {
    throw new DecisionError(`${describe(table)}, ${where}: ${q(source)} could not be evaluated: ${err?.message ?? err}.`, table.id, ruleIds);
  }
}

function ruleOutput(table: DecisionTable, rule: DecisionRule, scope: Scope): Record<string, unknown> {
  const row = table.rules.indexOf(rule) + 1;
  // fromEntries defines own properties, so even a stored name "__proto__" stays data.
  return Object.fromEntries(table.outputs.map((output, i) =>
    [output.name, outputValue(table, rule.outputEntries[i], scope, `row ${row}, output "${output.name}"`, [rule.id])]));
}

function noMatch(table: DecisionTable, scope: Scope): DecisionResult {
  if (!table.outputs.some((output) => output.defaultOutputEntry)) return { matchedRuleIds: [], output: null };
  return {
    matchedRuleIds: [],
    output: Object.fromEntries(table.outputs.map((output) =>
      [output.name, outputValue(table, output.defaultOutputEntry, scope, `default of output "${output.name}"`, [])])),
  };
}

/** Index into `outputs` of the highest-priority result; ties go to the earlier row. */
function byPriority(table: DecisionTable, outputs: Record<string, unknown>[]): number {
  const lists = table.outputs.map((output) => (output.outputValues ? listItems(output.outputValues) : []));
  const rank = (result: Record<string, unknown>) => table.outputs.map((output, o) => {
    const items = lists[o];
    const at = items.findIndex((item) => feelTest(item, scopeOf({}, { '?': result[output.name] })) === true);
    return at === -1 ? items.length : at;
  });
  const ranks = outputs.map(rank);
  let best = 0;
  for (let i = 1; i < ranks.length; i++) {
    const k = ranks[i].findIndex((r, o) => r !== ranks[best][o]);
    if (k !== -1 && ranks[i][k] < ranks[best][k]) best = i;
  }
  return best;
}

/** The comma-separated items of an allowed-values list, each a unary test of its own. */
function listItems(source: string): string[] {
  const items: string[] = [];
  parseUnaryTests(source, {}, undefined).iterate({
    enter(ref) {
      if (ref.name !== 'PositiveUnaryTest') return undefined;
      items.push(source.slice(ref.from, ref.to));
      return false;
    },
  });
  return items;
}

/**
 * Sums every matched value, not only distinct ones as the DMN text reads:
 * analysts draw these tables in Camunda Modeler and expect its engine's
 * behaviour (two rules each adding 1 point give 2). Null outputs are skipped.
 */
function aggregate(table: DecisionTable, matches: DecisionRule[], outputs: Record<string, unknown>[]): number | null {
  const name = table.outputs[0]?.name;
  const hits = outputs.map((output, i) => ({ rule: matches[i], value: output[name] })).filter((hit) => hit.value !== null && hit.value !== undefined);
  if (table.aggregation === 'COUNT') return hits.length;
  const wrong = hits.find((hit) => typeof hit.value !== 'number');
  if (wrong) {
    throw new DecisionError(`${describe(table)} aggregates output "${name}" with ${table.aggregation}, but ${rowList(table, [wrong.rule])} gives ${JSON.stringify(wrong.value)}, which is not a number. Make every output in this column a number.`, table.id, [wrong.rule.id]);
  }
  const numbers = hits.map((hit) => hit.value as number);
  if (!numbers.length) return null;
  switch (table.aggregation) {
    case 'SUM': return numbers.reduce((sum, n) => sum + n, 0);
    case 'MIN': return Math.min(...numbers);
    case 'MAX': return Math.max(...numbers);
    default: throw new DecisionError(`${describe(table)} uses aggregation "${String(table.aggregation)}", which is not supported; redeploy it with SUM, MIN, MAX or COUNT.`, table.id);
  }
}

/** Results become case variables, stored as JSON: temporal values as their FEEL text. */
function toPlain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof FeelDate || value instanceof FeelTime || value instanceof FeelDateTime || value instanceof FeelDuration) return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'function') return null;
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, toPlain(entry)]));
    }
    return String(value);
  }
  return null;
}

import { feelClock } from './clock.js';
import { VIETNAM_OFFSET_TEXT } from './vietnam-time.js';
import { compileExpression, compileUnaryTests, evaluate, parseExpression, FeelDate, FeelDateTime, FeelDuration, FeelTime } from 'feelin';

/**
 * FEEL is the only expression language a diagram may use. Values in diagram
 * attributes that start with `=` are FEEL (the Camunda 8 convention, so an
 * analyst can tell at a glance); sequence-flow conditions declare
 * `language="feel"`. Nothing here ever runs JavaScript from a diagram.
 */
export const TIME_ZONE = 'Asia/Ho_Chi_Minh';

/** Functions a node adds to every FEEL context, e.g. the working-day calendar's `add working days`. */
export type FeelFunctions = Record<string, (...args: any[]) => unknown>;

export function isFeel(value: unknown): boolean {
  return typeof value === 'string' && value.trimStart().startsWith('=');
}

export class FeelError extends Error {
  constructor(
    message: string,
    readonly expression: string,
    readonly position?: { from: number; to: number },
  ) {
    super(message);
  }
}

/** A parse context naming `functions`, so multi-word names (`add working days`) parse as one name. */
function parseContext(functions: string[]): Record<string, unknown> {
  return Object.fromEntries(functions.map((name) => [name, () => null]));
}

/** Syntax check; returns null or a message with the position, for deploy-time validation. */
export function feelSyntaxError(expression: string, functions: string[] = []): string | null {
  if (!expression.trim()) return 'the expression is empty';
  try {
    // The parser recovers from errors and marks them in the tree instead of throwing.
    const tree = parseExpression(expression, parseContext(functions), undefined);
    let at = -1;
    tree.iterate({
      enter(node) {
        if (at < 0 && node.type.isError) at = node.from;
      },
    });
    return at < 0 ? null : `syntax error at character ${at + 1}`;
  } catch (err: any) {
    const at = err?.position ? ` at character ${err.position.from + 1}` : '';
    return `${err?.message ?? String(err)}${at}`;
  }
}

const builtInFunctions = new Map<string, boolean>();

/** Whether feelin implements `name` (evaluating a built-in's bare name gives the function). */
function isBuiltInFunction(name: string): boolean {
  let known = builtInFunctions.get(name);
  if (known === undefined) {
    try {
      known = typeof evaluate(name, {}).value === 'function';
    } catch {
      known = false;
    }
    builtInFunctions.set(name, known);
  }
  return known;
}

/**
 * Names of functions an expression calls that are neither built into FEEL
 * (as feelin implements it) nor in `functions`; such a call fails when the
 * case reaches it. A name defined as a context key in the same expression
 * (`{f: function(x) x}`) counts as known.
 */
export function unknownFunctions(expression: string, functions: string[] = []): string[] {
  const known = new Set(functions);
  const calls: string[] = [];
  const keys = new Set<string>();
  const tree = parseExpression(expression, parseContext(functions), undefined);
  tree.iterate({
    enter(ref) {
      if (ref.type.name === 'Key') keys.add(expression.slice(ref.from, ref.to).trim());
      if (ref.type.name !== 'FunctionInvocation') return;
      const callee = ref.node.firstChild;
      if (callee?.type.name === 'VariableName') calls.push(expression.slice(callee.from, callee.to).replace(/\s+/g, ' ').trim());
    },
  });
  return [...new Set(calls)].filter((name) => !known.has(name) && !keys.has(name) && !isBuiltInFunction(name));
}

/**
 * Names in an expression written in capitals (SXD, CONG): case variables are
 * camelCase, so these are almost always catalogue codes missing their quotes,
 * which FEEL reads as (absent) variables.
 */
export function capitalizedNames(expression: string, functions: string[] = []): string[] {
  const names: string[] = [];
  parseExpression(expression, parseContext(functions), undefined).iterate({
    enter(ref) {
      if (ref.type.name !== 'VariableName') return undefined;
      const name = expression.slice(ref.from, ref.to);
      if (/^[A-Z][A-Z0-9_]+$/.test(name)) names.push(name);
      return false;
    },
  });
  return [...new Set(names)];
}

/**
 * What feelin's parser reads of a context: its names, at every depth (a name
 * that is a key of the context, or of a nested context reached by a path, may
 * hold spaces and symbols and parses as one name; values never change a
 * parse). Class instances carry their constructor's name, because feelin turns
 * a Date into a FEEL date-time with names of its own before parsing. Items of
 * a list give their shapes once each. Null when the context is too big or too
 * deep to be worth a signature, or has a name with a control character (the
 * separators below): such an evaluation is parsed as before, not cached.
 */
function namesOf(value: unknown, depth: number, budget: { names: number }): string | null {
  if (value === null || typeof value !== 'object') return '';
  if (depth > 16 || ++budget.names > 500) return null;
  if (Array.isArray(value)) {
    const shapes = new Set<string>();
    for (const item of value) {
      const shape = namesOf(item, depth + 1, budget);
      if (shape === null) return null;
      shapes.add(shape);
    }
    return `\u0003${[...shapes].join('\u0002')}\u0004`;
  }
  const proto = Object.getPrototypeOf(value);
  let out = proto === Object.prototype || proto === null ? '\u0003' : `@${proto?.constructor?.name ?? '?'}\u0003`;
  for (const key of Object.keys(value)) {
    if (hasControlCharacter(key) || ++budget.names > 500) return null;
    const inner = namesOf((value as Record<string, unknown>)[key], depth + 1, budget);
    if (inner === null) return null;
    out += `${key}\u0001${inner}\u0002`;
  }
  return `${out}\u0004`;
}
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}

/**
 * Parsed-and-built FEEL, by expression and the names of its context (`namesOf`):
 * feelin parses an expression on every evaluation (its parser reads the
 * context's names), which was 7 % of the shipped diagram's CPU
 * (docs/performance.md, fourth pass). Bounded: past MAX_COMPILED entries the
 * cache starts again (a deployment holds a few hundred expressions).
 */
const compiled = new Map<string, (context: Record<string, unknown>) => unknown>();
const MAX_COMPILED = 5000;
const MAX_CACHED_SOURCE = 4000;
export const feelCacheStats = { hits: 0, misses: 0, uncached: 0 };

function compiledFeel(kind: 'e' | 't', source: string, context: Record<string, unknown>): (context: Record<string, unknown>) => unknown {
  const names = source.length > MAX_CACHED_SOURCE ? null : namesOf(context, 0, { names: 0 });
  const compile = () => (kind === 'e' ? compileExpression(source, context) : compileUnaryTests(source, context));
  if (names === null) {
    feelCacheStats.uncached++;
    return compile();
  }
  const key = `${kind}${source}\u0000${names}`;
  let fn = compiled.get(key);
  if (fn) {
    feelCacheStats.hits++;
    return fn;
  }
  feelCacheStats.misses++;
  fn = compile();
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(key, fn);
  return fn;
}

/** feelin's `evaluate(expression, context).value`, parsed once per expression and names of the context. */
export function feelValue(expression: string, context: Record<string, unknown>): unknown {
  return compiledFeel('e', expression, context)(context);
}

/** feelin's `unaryTest(tests, context).value` (the value tested is context['?']), parsed once likewise. */
export function feelTest(tests: string, context: Record<string, unknown>): boolean | null {
  return compiledFeel('t', tests, context)(context) as boolean | null;
}

/**
 * Evaluate FEEL against case variables. Returned values are plain JSON-able
 * JavaScript: dates and times as ISO 8601 strings, durations as ISO strings.
 * Variables are copied into a null-prototype object so that even a name like
 * `constructor` resolves to nothing rather than to Object.prototype.
 */
export function evaluateFeel(expression: string, variables: Record<string, unknown> = {}, functions: FeelFunctions = {}): unknown {
  const source = expression.trimStart().startsWith('=') ? expression.trimStart().slice(1) : expression;
  const context: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(variables)) context[k] = v;
  for (const [k, fn] of Object.entries(functions)) context[k] = fn;
  try {
    return fromFeel(feelValue(source, context));
  } catch (err: any) {
    throw new FeelError(`FEEL "${source}" failed: ${err?.message ?? err}`, source, err?.position);
  }
}

export function fromFeel(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof FeelDateTime) {
    const zone = value.zone === 'Z' || value.zone === null ? (value.zone === 'Z' ? 'UTC' : TIME_ZONE) : value.zone;
    const zoned = (value.value as any).toZonedDateTime(zone);
    return new Date(zoned.epochMilliseconds).toISOString();
  }
  if (value instanceof FeelDate || value instanceof FeelTime || value instanceof FeelDuration) return value.toString();
  if (Array.isArray(value)) return value.map(fromFeel);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = fromFeel(v);
    return out;
  }
  if (typeof value === 'function') return null;
  return value;
}

/** A comma-separated literal list, or a FEEL expression giving a string or a list of strings. */
export function resolveList(value: string | undefined, variables: Record<string, unknown>, functions: FeelFunctions = {}): string[] {
  if (!value) return [];
  const raw = isFeel(value) ? evaluateFeel(value, variables, functions) : value;
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : raw == null ? [] : [String(raw)];
  return items.map((s) => String(s).trim()).filter(Boolean);
}

/**
 * A due date: FEEL (`=now() + duration("P10D")`, or a working-day function), an ISO
 * 8601 duration counted from `from`, or an ISO date-time. Returns null when absent.
 */
export function resolveDueDate(value: string | undefined, variables: Record<string, unknown>, from: Date, functions: FeelFunctions = {}): Date | null {
  if (!value) return null;
  const raw = isFeel(value) ? evaluateFeel(value, variables, functions) : value.trim();
  if (raw === null || raw === undefined || raw === '') return null;
  const text = String(raw);
  if (/^P/i.test(text)) return new Date(from.getTime() + durationMs(text, from));
  // A bare date means the end of that working day in Vietnam (17:00).
  const date = new Date(text.length === 10 ? `${text}T17:00:00${VIETNAM_OFFSET_TEXT}` : text);
  if (Number.isNaN(date.getTime())) throw new FeelError(`"${text}" is not a date, date-time or duration`, text);
  return date;
}

/** Milliseconds of ISO 8601 durations without years or months, by text (the same from any start: in UTC a day is 24 hours). */
const fixedDurations = new Map<string, number>();

/** An ISO 8601 duration in milliseconds from `from` (years and months depend on where they start). */
function durationMs(text: string, from: Date): number {
  const fixed = fixedDurations.get(text);
  if (fixed !== undefined) return fixed;
  const duration = feelValue('duration(text)', { text });
  if (!(duration instanceof FeelDuration)) throw new FeelError(`"${text}" is not an ISO 8601 duration`, text);
  const d = duration.value as any;
  const ms: number = d.total({ unit: 'milliseconds', relativeTo: from.toISOString().replace('Z', '+00:00[UTC]') });
  // Reading `from` as a zoned date-time for every task cost more than the rest of the task's assignment.
  if (!d.years && !d.months && fixedDurations.size < 1000) fixedDurations.set(text, ms);
  return ms;
}

/**
 * Who a user task goes to and by when, from its camunda attributes, evaluated
 * once when the task appears (the runtime's task rows; a dry run's replay).
 */
export function taskAssignment(behaviour: { candidateGroups?: string; assignee?: string; dueDate?: string }, variables: Record<string, unknown>, now: Date, functions: FeelFunctions = {}) {
  // now() and today() are `now` (the command's or the replay's time), never the machine's date.
  const fns = { ...functions, ...feelClock({ now: () => now }) } as FeelFunctions;
  return {
    candidateGroups: resolveList(behaviour.candidateGroups, variables, fns),
    assignee: resolveList(behaviour.assignee, variables, fns)[0] ?? null,
    due: resolveDueDate(behaviour.dueDate, variables, now, fns),
  };
}

/**
 * The names an expression reads from its context (case variables): every
 * variable reference except function names, path members (`a.b` reads `a`),
 * names the expression binds itself (for/some/every iteration variables,
 * function parameters, context keys) and names inside a filter (`l[x > 1]`
 * reads the items' members, not variables). What deploy-time validation
 * checks against the names known at that point of the flow.
 */
export function freeVariables(expression: string, functions: string[] = []): string[] {
  const names: string[] = [];
  const bound = new Set<string>();
  const tree = parseExpression(expression, parseContext(functions), undefined);
  tree.iterate({
    enter(ref) {
      const name = ref.type.name;
      if (name === 'Name' || name === 'ParameterName') bound.add(expression.slice(ref.from, ref.to).trim());
      if (name === 'FilterExpression') {
        // The list itself is read; the filter condition is about its items.
        const list = ref.node.firstChild;
        if (list?.type.name === 'VariableName') names.push(expression.slice(list.from, list.to));
        else if (list) names.push(...freeVariables(expression.slice(list.from, list.to), functions));
        return false;
      }
      if (name === 'FunctionInvocation') {
        const callee = ref.node.firstChild;
        const args = callee?.nextSibling?.nextSibling;
        if (callee?.type.name === 'VariableName' && args) {
          for (let arg = args.firstChild; arg; arg = arg.nextSibling) names.push(...freeVariables(expression.slice(arg.from, arg.to), functions));
          return false;
        }
      }
      if (name === 'VariableName') {
        names.push(expression.slice(ref.from, ref.to).replace(/\s+/g, ' ').trim());
        return false;
      }
      return undefined;
    },
  });
  return [...new Set(names)].filter((n) => n && !bound.has(n) && n !== 'item');
}

/**
 * What an expression yields, when its form says so without evaluating it
 * (a comparison is a boolean, a quoted text a string): enough to refuse a
 * timer written as a comparison or a condition written as a number.
 * 'unknown' whenever it depends on variables or functions.
 */
export function feelResultKind(expression: string, functions: string[] = []): 'boolean' | 'number' | 'string' | 'duration' | 'date' | 'time' | 'null' | 'unknown' {
  const top = parseExpression(expression, parseContext(functions), undefined).topNode.firstChild;
  switch (top?.type.name) {
    case 'Comparison':
    case 'Conjunction':
    case 'Disjunction':
    case 'BooleanLiteral':
    case 'QuantifiedExpression':
    case 'InstanceOfExpression':
      return 'boolean';
    case 'NumericLiteral':
      return 'number';
    case 'StringLiteral':
      return 'string';
    case 'DateTimeLiteral': {
      // duration("P3D"), @"P3D"; time("10:00"), @"10:00:00"; date("…") and date and time("…"), @"2026-…".
      const text = expression.slice(top.from, top.to).trim();
      if (/^duration\b/.test(text) || /^@"-?P/.test(text)) return 'duration';
      if (/^time\b/.test(text) || /^@"\d{2}:/.test(text)) return 'time';
      return 'date';
    }
    case 'null':
      return 'null';
    default:
      return 'unknown';
  }
}

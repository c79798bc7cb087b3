import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import canonicalize from 'canonicalize';
import type { Db } from '../db/connect.js';
import { adoptForms, caseDefinitionId, definitionForms, latestRecordedForms, versionsWithoutForms, type FormRow } from '../db/forms.js';
import { parseBpmn } from './bpmn.js';
import { createAjv, fieldProblems } from './json-schema.js';
import { NotFoundError, UnprocessableError } from './errors.js';
import type { Problem } from './validate.js';
import { calledDefinitionIn, calledDefinitionOf } from './call-activity.js';

export type { FormRow };

const SUFFIX = '.schema.json';

/**
 * Task forms: `processes/forms/<formKey>.schema.json`, JSON Schema checked by
 * ajv. A task with a formKey is completed only with data its schema accepts.
 */
export class FormRegistry {
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly schemas = new Map<string, Record<string, unknown>>();

  static fromDirectory(dir: string): FormRegistry {
    const registry = new FormRegistry();
    if (!existsSync(dir)) return registry;
    for (const file of readdirSync(dir).filter((f) => f.endsWith(SUFFIX)).sort()) {
      const key = file.slice(0, -SUFFIX.length);
      let schema: Record<string, unknown>;
      try {
        schema = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      } catch (err: any) {
        throw new Error(`Form ${join(dir, file)} is not valid JSON: ${err.message}`, { cause: err });
      }
      registry.add(key, schema);
    }
    return registry;
  }

  private readonly ajv = createAjv();

  add(key: string, schema: Record<string, unknown>): void {
    try {
      this.validators.set(key, this.ajv.compile(schema));
    } catch (err: any) {
      throw new Error(`Form "${key}" is not a valid JSON Schema: ${err.message}`, { cause: err });
    }
    this.schemas.set(key, schema);
  }

  keys(): string[] {
    return [...this.schemas.keys()];
  }

  has(key: string): boolean {
    return this.schemas.has(key);
  }

  schema(key: string): Record<string, unknown> | undefined {
    return this.schemas.get(key);
  }

  /** The variables each form sets (its top-level properties), by key: what validation knows a step writes. */
  fieldsByForm(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [key, schema] of this.schemas) out[key] = Object.keys((schema.properties as Record<string, unknown> | undefined) ?? {});
    return out;
  }

  /**
   * A BPMN message's payload must match processes/forms/message-<name>.schema.json:
   * its fields become case variables, so an undeclared field is refused.
   */
  checkMessage(name: string, payload: Record<string, unknown>): void {
    const key = `message-${name}`;
    if (!this.has(key)) {
      // Mostly a misspelt name (citizen-infor): 404 naming the messages there are, before the hint for an analyst whose
      // new diagram waits for a message no form declares (it answered 422 "add processes/forms/…" to every caller).
      const known = this.keys().filter((k) => k.startsWith('message-')).map((k) => `"${k.slice('message-'.length)}"`);
      throw new NotFoundError(`There is no message "${name}" to send to a case${known.length ? `; the messages are ${known.join(', ')}` : ''} (a new message needs its form, processes/forms/${key}${SUFFIX}).`);
    }
    this.check(key, payload);
  }

  /** Throws 422 with one problem per field when `data` does not satisfy the form. */
  check(formKey: string | null | undefined, data: unknown): void {
    if (!formKey) return;
    const validate = this.validators.get(formKey);
    if (!validate) throw new UnprocessableError(`Form "${formKey}" of this task is not installed; ask an analyst to add processes/forms/${formKey}${SUFFIX}.`);
    if (!validate(data)) throw new UnprocessableError(`The form "${formKey}" is not filled in correctly.`, fieldProblems(validate.errors));
  }
}

/** Forms by key: each a JSON Schema for the data its tasks are completed with. */
export type FormSchemas = Record<string, Record<string, unknown>>;

/** The task forms of a folder of <formKey>.schema.json files (message forms apart): what `pakn deploy --forms` sends. */
export function taskFormsIn(dir: string): FormSchemas {
  const registry = FormRegistry.fromDirectory(dir);
  return Object.fromEntries(registry.keys().filter((k) => !k.startsWith('message-')).map((k) => [k, registry.schema(k)!]));
}

/** Where a version's form came from when it was deployed. */
export type FormSource = 'given' | 'previous' | 'installed';

/** What a deploy of one diagram will store as its forms, worked out before it is validated. */
export interface FormPlan {
  /** Every form the diagram may use: installed ones, overridden by the previous version's, overridden by the given ones. */
  candidates: FormSchemas;
  /** The literal formKeys of the diagram's user tasks. */
  referenced: string[];
  /** Problems of the given forms themselves (not a JSON Schema, not an object form). */
  problems: Problem[];
  /** The forms the version keeps (referenced and resolved), with their digests. */
  rows: FormRow[];
  /** Digest of `rows`: with the XML's it tells an identical deploy from a new version. */
  digest: string;
  source: Record<string, FormSource>;
}

/** SHA-256 of the RFC 8785 canonical JSON: key order and spacing do not count (used for the digest of a version's forms). */
export function canonicalSha256(value: unknown): string {
  return createHash('sha256').update(canonicalize(value) ?? '').digest('hex');
}

/**
 * A form's digest: SHA-256 of its JSON text without spacing. Field order
 * counts (it is the order pages draw the fields in), so moving a field is a
 * changed form and a new version; spacing does not.
 */
export function formSha256(schema: unknown): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

/** The digest of a version's forms (form key → schema digest). */
export function formsDigest(rows: readonly FormRow[]): string {
  return canonicalSha256(Object.fromEntries(rows.map((r) => [r.form_key, r.sha256])));
}

/** The literal camunda:formKey of every user task, sub-processes included; FEEL keys are refused by validation. */
function formKeysOf(moddle: any): { processId?: string; keys: string[] } {
  const keys = new Set<string>();
  const walk = (container: any) => {
    for (const el of container?.flowElements ?? []) {
      if (el.$type === 'bpmn:UserTask' && typeof el.formKey === 'string' && el.formKey && !el.formKey.trimStart().startsWith('=')) keys.add(el.formKey);
      if (el.flowElements) walk(el);
    }
  };
  const processes = (moddle?.rootElement?.rootElements ?? []).filter((e: any) => e.$type === 'bpmn:Process');
  for (const p of processes) walk(p);
  return { processId: processes.find((p: any) => p.isExecutable)?.id, keys: [...keys].sort() };
}

/** The largest form a deploy may carry. */
const MAX_FORM_CHARS = 200_000;

/**
 * Forms as versioned resources: the forms a diagram references are deployed
 * with it (definition_forms), and a task is completed with the form of its
 * case's version, so editing a form never changes it under running cases.
 *
 * Forms stay JSON Schema (not form-js): the ajv validator is the schema
 * itself, with nothing derived that could drift from it; agencies' systems
 * already read the schema from GET /v1/tasks/{id}; the hotline's contract
 * (reports, transfers) reads its enums. The page previews fields from it.
 *
 * processes/forms (the installed library) remains what a deploy without
 * forms starts from, and where message payload forms (message-<name>) live:
 * those describe what outside systems may send, not a step of one version.
 */
export class FormStore {
  /** By definition id: a recorded version's forms never change, so they are kept for the process's life. */
  private readonly versions = new Map<number, Promise<Map<string, FormRow> | null>>();
  /** By schema digest: the same form in many versions is compiled once. */
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ajv = createAjv();

  constructor(
    private readonly db: Db,
    /** processes/forms: the installed library. */
    readonly library: FormRegistry,
  ) {}

  /** The installed task forms (processes/forms), messages' apart: what the boot deploys its diagrams with. */
  installed(): FormSchemas {
    return Object.fromEntries(this.library.keys().filter((k) => !k.startsWith('message-')).map((k) => [k, this.library.schema(k)!]));
  }

  /** Message payloads are checked against the installed message forms. */
  checkMessage(name: string, payload: Record<string, unknown>): void {
    this.library.checkMessage(name, payload);
  }

  /**
   * The runtime's form hook (RuntimeOptions.forms) knows only a task's form
   * key, not which version its case runs on, so task data is checked in
   * checkTask (RuntimeOptions.checkOutput, on the same locked task row, right
   * after this) against the version's form; nothing to do here.
   */
  check(_formKey: string | null | undefined, _data: unknown): void {}

  /** Forms looked up for a task command (prepareTask), taken by checkTask in the same command. */
  private readonly prepared = new Map<string, Map<string, FormRow> | null>();

  /**
   * RuntimeOptions.checkTaskRow, on the locked, current task row of every
   * task command: look up the forms of the version its case runs on now (a
   * migration changes it under the same lock), for checkTask.
   */
  async prepareTask(trx: Db, task: { id: string; case_id: string; execution_id?: string }, kase: { definition_id: number; engine_state: unknown; engineStateText?: string | null; stateLeftOut?: boolean }): Promise<void> {
    // A called process's task: the forms of the called version (engine/call-activity.ts). Both read from the
    // locked case row the command already holds (two round trips fewer per task command), the state as its
    // text when the lock has it (issue 20: parsing it cost 0.3–0.4 ms of every task command). A lock leaves the
    // state out only when it calls no process (db/cases.ts lockedCase).
    const called = task.execution_id && !kase.stateLeftOut ? calledDefinitionIn(kase.engineStateText ?? kase.engine_state, task.execution_id) : undefined;
    const forms = await this.ofVersion(called ?? kase.definition_id, trx);
    this.prepared.delete(task.id);
    this.prepared.set(task.id, forms);
    // Claims and comments prepare but never check: keep only the newest few thousand.
    while (this.prepared.size > 5000) this.prepared.delete(this.prepared.keys().next().value!);
  }

  /**
   * RuntimeOptions.checkOutput: throws 422 with one problem per field unless
   * `output` satisfies the form of the task's key in its case's version.
   */
  checkTask(task: { id: string; form_key: string | null }, output: unknown): void {
    if (!this.prepared.has(task.id)) throw new Error(`Forms of task ${task.id} were not looked up: wire FormStore.prepareTask as the runtime's checkTaskRow.`);
    const forms = this.prepared.get(task.id)!;
    this.prepared.delete(task.id);
    if (!task.form_key) return;
    // A version deployed before forms were versioned, not yet adopted: the installed form, as before.
    if (!forms) return this.library.check(task.form_key, output);
    const form = forms.get(task.form_key);
    if (!form) throw new UnprocessableError(`Form "${task.form_key}" of this task is not part of the diagram version its case runs on; ask an analyst to deploy a version with it and migrate the case.`);
    const validate = this.validator(form);
    if (!validate(output)) throw new UnprocessableError(`The form "${task.form_key}" is not filled in correctly.`, fieldProblems(validate.errors));
  }

  /** The form a task of this case is completed with (its version's), or undefined. */
  async forCase(caseId: string, formKey: string | null | undefined, db: Db = this.db, executionId?: string): Promise<Record<string, unknown> | undefined> {
    if (!formKey) return undefined;
    const called = executionId ? await calledDefinitionOf(db, caseId, executionId) : undefined;
    const definitionId = called ?? (await caseDefinitionId(db, caseId));
    const forms = definitionId === undefined ? null : await this.ofVersion(definitionId, db);
    return forms ? forms.get(formKey)?.schema : this.library.schema(formKey);
  }

  /** The forms of one version by key; null for a version deployed before forms were versioned. */
  ofVersion(definitionId: number, db: Db = this.db): Promise<Map<string, FormRow> | null> {
    let cached = this.versions.get(definitionId);
    if (!cached) {
      cached = definitionForms(db, definitionId).then((found) => (found?.recorded ? new Map(found.forms.map((f) => [f.form_key, f])) : null));
      this.versions.set(definitionId, cached);
      // Not recorded yet (the boot may adopt forms for it), or a failed read: ask again next time.
      cached.then((v) => v ?? this.versions.delete(definitionId), () => this.versions.delete(definitionId));
    }
    return cached;
  }

  /** A version's forms for reading (the API, the page); a version deployed before forms were versioned lists the installed ones. */
  async listOfVersion(definitionId: number): Promise<{ recorded: boolean; forms: FormRow[] }> {
    const forms = await this.ofVersion(definitionId);
    if (forms) return { recorded: true, forms: [...forms.values()] };
    const installed = this.installed();
    return { recorded: false, forms: Object.keys(installed).sort().map((k) => ({ form_key: k, schema: installed[k], sha256: formSha256(installed[k]) })) };
  }

  private validator(form: FormRow): ValidateFunction {
    let validate = this.validators.get(form.sha256);
    if (!validate) {
      validate = this.ajv.compile(form.schema);
      this.validators.set(form.sha256, validate);
    }
    return validate;
  }

  /** Problems of one form given to a deploy: it must compile as JSON Schema and describe an object. */
  schemaProblems(key: string, schema: unknown): Problem[] {
    const problem = (message: string): Problem => ({ elementId: null, rule: 'form-schema', severity: 'error', message: `Form "${key}": ${message}` });
    if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return [problem('must be a JSON Schema object.')];
    const s = schema as Record<string, unknown>;
    if (s.type !== 'object') return [problem('must describe an object ("type": "object"): a task is completed with named fields.')];
    if (s.properties !== undefined && (typeof s.properties !== 'object' || s.properties === null || Array.isArray(s.properties))) return [problem('"properties" must be an object.')];
    // Ajv keeps schemas by $id: two versions of one form with the same $id could not both be checked.
    if ('$id' in s) return [problem('remove "$id": a form is named by its key and version.')];
    if (JSON.stringify(schema).length > MAX_FORM_CHARS) return [problem(`is larger than ${MAX_FORM_CHARS} characters.`)];
    try {
      createAjv().compile(s);
    } catch (err: any) {
      return [problem(`is not a valid JSON Schema: ${err.message}`)];
    }
    // A field required but not declared, in a form that refuses undeclared fields, makes the task impossible to
    // complete (without it: "is required"; with it: "is not a known field"). The forms page said so; deploy did not.
    if (s.additionalProperties === false) {
      const declared = new Set(Object.keys((s.properties as Record<string, unknown> | undefined) ?? {}));
      const branches = [s, s.then, s.else, ...(['allOf', 'anyOf', 'oneOf'] as const).flatMap((k) => (Array.isArray(s[k]) ? (s[k] as unknown[]) : []))];
      const missing = new Set<string>();
      for (const b of branches) {
        const required = (b as { required?: unknown } | undefined)?.required;
        if (Array.isArray(required)) for (const name of required) if (typeof name === 'string' && !declared.has(name)) missing.add(name);
      }
      if (missing.size) return [...missing].map((name) => problem(`requires "${name}", which "properties" does not declare, and undeclared fields are refused: the task could never be completed.`));
    }
    return [];
  }

  /**
   * Work out the forms a deploy of `xml` keeps, before validation: each
   * referenced key from the given forms, else from the newest version of the
   * same process that has forms (so deploying a diagram alone keeps forms an
   * analyst edited), else from the installed library. A key found nowhere is
   * left out of `candidates`, and validation refuses it (form-missing).
   */
  async plan(db: Db, xml: string, given: FormSchemas = {}): Promise<FormPlan> {
    let parsed: { processId?: string; keys: string[] } = { keys: [] };
    try {
      parsed = formKeysOf(await parseBpmn(xml));
    } catch {
      // Validation reports the XML itself.
    }
    const problems: Problem[] = [];
    const valid: FormSchemas = {};
    for (const [key, schema] of Object.entries(given)) {
      const found = this.schemaProblems(key, schema);
      problems.push(...found);
      if (!found.length) valid[key] = schema;
      else continue;
      if (!parsed.keys.includes(key)) problems.push({ elementId: null, rule: 'form-unused', severity: 'warning', message: `Form "${key}" is not used by any user task of this diagram; it is not stored with the version.` });
    }
    const previous = parsed.processId ? await latestRecordedForms(db, parsed.processId) : undefined;
    const source: Record<string, FormSource> = {};
    const candidates: FormSchemas = {};
    for (const key of this.library.keys()) {
      candidates[key] = this.library.schema(key)!;
      source[key] = 'installed';
    }
    for (const f of previous?.forms ?? []) {
      candidates[f.form_key] = f.schema;
      source[f.form_key] = 'previous';
    }
    for (const [key, schema] of Object.entries(valid)) {
      candidates[key] = schema;
      source[key] = 'given';
    }
    const rows = parsed.keys.filter((k) => candidates[k]).map((k) => ({ form_key: k, schema: candidates[k], sha256: formSha256(candidates[k]) }));
    return { candidates, referenced: parsed.keys, problems, rows, digest: formsDigest(rows), source };
  }

  /** The fields each candidate form sets, message forms included: what validation knows a step writes. */
  fieldsOf(candidates: FormSchemas): Record<string, string[]> {
    const out: Record<string, string[]> = { ...this.library.fieldsByForm() };
    for (const [key, schema] of Object.entries(candidates)) out[key] = Object.keys((schema.properties as Record<string, unknown> | undefined) ?? {});
    return out;
  }

  /**
   * Versions deployed before forms were versioned read the installed forms
   * at every use; freeze those forms into them once (at boot, before the
   * seed deploys), so a later change of processes/forms no longer reaches
   * their cases. Returns how many versions were adopted.
   */
  async adoptInstalled(): Promise<number> {
    let adopted = 0;
    for (const v of await versionsWithoutForms(this.db)) {
      let keys: string[] = [];
      try {
        keys = formKeysOf(await parseBpmn(v.xml)).keys;
      } catch {
        // Deployed versions parsed when they were deployed; one that does not now keeps no forms.
      }
      const rows = keys.filter((k) => this.library.has(k)).map((k) => ({ form_key: k, schema: this.library.schema(k)!, sha256: formSha256(this.library.schema(k)) }));
      if (await this.db.transaction((trx) => adoptForms(trx, v.id, formsDigest(rows), rows))) adopted++;
      this.versions.delete(v.id);
    }
    return adopted;
  }
}

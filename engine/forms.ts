import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { createAjv, fieldProblems } from './json-schema.js';
import { UnprocessableError } from './errors.js';

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
    if (!this.has(key)) throw new UnprocessableError(`Message "${name}" has no form: add processes/forms/${key}${SUFFIX} declaring the fields it may carry.`);
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

import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FieldProblem } from './errors.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

/** One ajv configuration for request bodies and task forms alike. */
export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, useDefaults: false, coerceTypes: false });
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'x-pii', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'example' });
  return ajv;
}

/** ajv errors as `{path, message}` naming the field, e.g. `/variables/citizenPhone`. */
export function fieldProblems(errors: ErrorObject[] | null | undefined): FieldProblem[] {
  return (errors ?? []).map((e) => {
    let path = e.instancePath || '';
    if (e.keyword === 'required') path += `/${(e.params as any).missingProperty}`;
    if (e.keyword === 'additionalProperties') path += `/${(e.params as any).additionalProperty}`;
    const message =
      e.keyword === 'additionalProperties'
        ? 'is not a known field'
        : e.keyword === 'required'
          ? 'is required'
          : e.keyword === 'enum'
            ? `must be one of ${((e.params as any).allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
            : (e.message ?? 'is invalid');
    return { path: path || '/', message };
  });
}

import fc from 'fast-check';

/**
 * Values generated from the schemas of a served OpenAPI document, bounded in
 * size: the one generator of the suite's fuzz test (test/fuzz.test.ts) and of
 * the chaos suite's scenario d (bench/chaos/fuzz.ts).
 */
export type Schema = Record<string, any>;

/** `document` is read when a schema is resolved, so a suite may fetch the document in its before hook. */
export function openApiArbitraries(document: () => any): { resolve: (s: Schema) => Schema; valid: (schema: Schema) => fc.Arbitrary<unknown> } {
  const resolve = (s: Schema): Schema => (s?.$ref ? resolve(s.$ref.replace(/^#\//, '').split('/').reduce((o: any, k: string) => o[k], document())) : s);

  /** Values the schema allows (mostly), bounded in size. */
  function valid(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
    const s = resolve(schema ?? {});
    if (s.allOf) return valid({ ...resolve(s.allOf[0]), ...s, allOf: undefined }, depth);
    if ('const' in s) return fc.constant(s.const);
    if (s.enum) return fc.constantFrom(...s.enum);
    const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
    if (types.length > 1) return fc.oneof(...types.map((type) => valid({ ...s, type }, depth)));
    switch (types[0]) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
        return fc.integer({ min: s.minimum ?? -1000, max: Math.min(s.maximum ?? 1_000_000, Number.MAX_SAFE_INTEGER) });
      case 'number':
        return fc.double({ noNaN: true, noDefaultInfinity: true, min: s.minimum ?? -1e6, max: s.maximum ?? 1e6 });
      case 'string':
        if (s.format === 'date-time') return fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
        if (s.format === 'date') return fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
        if (s.format === 'uuid') return fc.uuid();
        if (s.format === 'email') return fc.emailAddress();
        if (s.format === 'uri') return fc.webUrl();
        if (s.pattern) return fc.stringMatching(new RegExp(s.pattern, 'u'), { maxLength: s.maxLength ?? 40 }).filter((v) => v.length >= (s.minLength ?? 0) && v.length <= (s.maxLength ?? Infinity));
        return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 40), unit: 'grapheme' });
      case 'array':
        return fc.array(valid(s.items ?? {}, depth + 1), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 3, 3) });
      case 'object': {
        if (!s.properties || depth > 3) return fc.dictionary(fc.stringMatching(/^[a-z]\w{0,8}$/), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
        const required = new Set<string>(s.required ?? []);
        const props = Object.fromEntries(Object.entries<Schema>(s.properties).map(([k, v]) => [k, valid(v, depth + 1)]));
        return fc.record(props, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
      }
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  }
  return { resolve, valid: (schema: Schema) => valid(schema) };
}

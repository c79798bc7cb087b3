import { expect } from 'chai';
import { routeSpecs } from '../../api/app.js';
import { MAX_PATH_PARAM_LENGTH, pathParamsSchema, type JsonSchema, type RouteSpec } from '../../api/http.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Issue 15: path parameters were checked by hand in some handlers only:
 * integers beyond int32 reached PostgreSQL (500 on five endpoints), a NUL
 * reached it on nine, and a malformed id answered 404 as if it named a
 * missing row. Now every route's path parameters go through the same ajv
 * layer as bodies and queries (api/http.ts, schemas in api/schemas.ts
 * PathParam): a bad value answers 400 naming the parameter, on every route.
 */
describe('Regression: path and query parameters of every route are validated by the schema layer', () => {
  let t: TestDb;
  let h: Hotline;
  let specs: RouteSpec[];
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    specs = routeSpecs(h.s);
  });
  after(() => t.close());

  /** Bounded: an enum, an integer with both ends, a string with a maximum length (or a known format), a list of bounded items. */
  const bounded = (s: any): boolean => {
    if (!s) return false;
    if (s.enum || s.const !== undefined || s.type === 'boolean') return true;
    if (s.type === 'integer' || s.type === 'number') return s.minimum !== undefined && s.maximum !== undefined;
    // A pattern anchored at both ends with no open-ended repetition bounds the length too.
    const closedPattern = typeof s.pattern === 'string' && /^\^.*\$$/.test(s.pattern) && !/[*+]|\{\d+,\}/.test(s.pattern);
    if (s.type === 'string') return s.maxLength !== undefined || closedPattern || ['date', 'uuid'].includes(s.format);
    if (s.type === 'array') return s.maxItems !== undefined && bounded(s.items);
    return false;
  };
  const paramNames = (spec: RouteSpec) => [...spec.path.matchAll(/:([A-Za-z_]\w*)/g)].map((m) => m[1]);

  it('Given the route specs, then every path parameter and every query parameter has a bounded schema', () => {
    const unbounded: string[] = [];
    for (const spec of specs) {
      const params = (pathParamsSchema(spec)?.properties ?? {}) as Record<string, JsonSchema>;
      for (const name of paramNames(spec)) if (!bounded(params[name])) unbounded.push(`${spec.method} ${spec.path} path ${name}`);
      for (const [name, schema] of Object.entries((spec.query?.properties ?? {}) as Record<string, JsonSchema>)) if (!bounded(schema)) unbounded.push(`${spec.method} ${spec.path} query ${name}`);
    }
    expect(unbounded).to.deep.equal([]);
  });

  /** A valid-looking value for every parameter but the one under test. */
  const good = (schema: any): string => {
    if (schema?.enum) return String(schema.enum[0]);
    if (schema?.type === 'integer') return '1';
    if (schema?.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
    if (typeof schema?.pattern === 'string' && schema.pattern.startsWith('^[1-9]')) return '1';
    return 'PA2611-AAAAA';
  };
  const url = (spec: RouteSpec, values: Record<string, string>) =>
    spec.path.replace(/:([A-Za-z_]\w*)/g, (_m, name: string) => encodeURIComponent(values[name]).replace(/%2500/g, '%00'));
  const send = (spec: RouteSpec, path: string) => {
    const req = (h.s.http as any)[spec.method](path).set(h.keys.coordinator);
    return spec.method === 'get' || spec.method === 'delete' ? req : req.send({});
  };

  it(`Given every route with path parameters, when a parameter carries a NUL, is longer than ${MAX_PATH_PARAM_LENGTH} characters, or is a number beyond its column's range, then each answers 400 naming the parameter (never 404 or 5xx)`, async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const spec of specs) {
      const schemas = (pathParamsSchema(spec)?.properties ?? {}) as Record<string, any>;
      for (const name of paramNames(spec)) {
        if (schemas[name].enum) continue; // Open311's format names a resource: an unknown one is 404 by the spec
        const values = Object.fromEntries(paramNames(spec).map((n) => [n, good(schemas[n])]));
        const bad = ['a\u0000b', 'x'.repeat(MAX_PATH_PARAM_LENGTH + 1)];
        // Numbers beyond their column: int32 ids and UUIDs refuse 2147483648; bigint ids (digits) a number beyond bigint.
        if (schemas[name].type === 'integer' || schemas[name].format === 'uuid') bad.push('2147483648', '99999999999999999999');
        else if (String(schemas[name].pattern ?? '').startsWith('^[1-9]')) bad.push('99999999999999999999');
        for (const value of bad) {
          const path = url(spec, { ...values, [name]: value === 'a\u0000b' ? 'a\u0000b' : value });
          const res = await send(spec, path);
          checked++;
          const text = JSON.stringify(res.body ?? res.text);
          if (res.status !== 400 || !text.includes(name)) wrong.push(`${spec.method.toUpperCase()} ${spec.path} ${name}=${JSON.stringify(value).slice(0, 20)} → ${res.status} ${text.slice(0, 160)}`);
        }
      }
    }
    expect(checked).to.be.greaterThan(60);
    expect(wrong).to.deep.equal([]);
  });

  it('Given a definition version beyond PostgreSQL integer, or a job id beyond bigint, then 400 names the parameter', async () => {
    const version = await h.s.http.get('/v1/definitions/complaint-handling/versions/2147483648').set(await h.s.as('analyst'));
    expect(version.status, JSON.stringify(version.body)).to.equal(400);
    expect(version.body.errors.map((e: any) => e.path)).to.deep.equal(['version']);
    expect(version.body.detail).to.include('path parameter version');
    const job = await h.s.http.post('/v1/jobs/99999999999999999999/retry').set(h.keys.coordinator);
    expect(job.status, JSON.stringify(job.body)).to.equal(400);
    expect([...new Set(job.body.errors.map((e: any) => e.path))]).to.deep.equal(['id']);
  });

  it('Given an API key id that is not a UUID (the ids are UUIDs), when revoked, then 400 names the parameter instead of failing in the database', async () => {
    const res = await h.s.http.delete('/v1/keys/2147483648').set(await h.s.as('admin'));
    expect(res.status, JSON.stringify(res.body)).to.equal(400);
    expect(res.body.errors).to.deep.equal([{ path: 'id', message: 'must match format "uuid"' }]);
    expect(res.body.detail).to.include('path parameter id');
  });

  it('Given a task id that is not a UUID, when read, then 400 names the parameter; a well-formed unknown id is still 404', async () => {
    const bad = await h.s.http.get('/v1/tasks/12345').set(h.keys.coordinator);
    expect(bad.status, JSON.stringify(bad.body)).to.equal(400);
    expect(bad.body.errors[0].path).to.equal('id');
    const unknown = await h.s.http.get('/v1/tasks/00000000-0000-4000-8000-000000000000').set(h.keys.coordinator);
    expect(unknown.status).to.equal(404);
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import { ROLES } from '../engine/hotline/policy.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline } from './helpers/scenario.js';
import { openApiArbitraries, type Schema } from './helpers/openapi-arbitrary.js';

/**
 * Schema-driven fuzz over the served OpenAPI document, as Schemathesis does it
 * but bounded and inside the suite: for every operation, RUNS requests whose
 * path parameters, query and body are generated from the document's own
 * schemas (with a share of values outside them), each sent with a key of a
 * random role or none. No answer may be a 5xx; since the test app checks every
 * answer against the document, an undocumented status, content type or body
 * shape is a 500 too. Size and result: docs/reliability.md.
 */
// Bounded for the suite; FUZZ_RUNS and FUZZ_SEED run a longer or another exploration by hand.
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const SEED = Number(process.env.FUZZ_SEED ?? 20261206);


describe('Fuzz: requests generated from the OpenAPI document, every role', function () {
  this.timeout(600_000);
  let t: TestDb;
  let h: Hotline;
  let doc: any;
  const keys: Array<{ role: string; header: Record<string, string> }> = [];
  const known: { codes: string[]; tasks: string[] } = { codes: [], tasks: [] };

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    for (const role of ROLES) keys.push({ role, header: { Authorization: (await h.s.as(role, role === 'agency' ? 'SNNMT' : null, `fuzz ${role}`)).Authorization } });
    for (const field of ['DAT-DAI', 'Y-TE']) {
      const kase = await h.intake({ title: 'Phản ánh thử', field, citizenPhone: '0912000111' });
      known.codes.push(kase.code);
      known.tasks.push(...kase.tasks.map((x: any) => x.id));
    }
    doc = (await h.s.http.get('/openapi.json')).body;
  });
  after(() => t.close());

  const { resolve, valid } = openApiArbitraries(() => doc);

  /** Mostly valid, sometimes anything at all (wrong types, huge numbers, control characters). */
  const fuzzy = (schema: Schema) => fc.oneof({ weight: 4, arbitrary: valid(schema) }, { weight: 1, arbitrary: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(2 ** 31, 2 ** 53, -1, '', '\u0000', '%01', 'x'.repeat(300))) });

  function pathValue(name: string, schema: Schema): fc.Arbitrary<string> {
    const s = resolve(schema);
    if (s.enum) return fc.constantFrom(...s.enum.map(String));
    const picks: string[] = name === 'code' || name === 'id' || name === 'token' ? [...known.codes, ...known.tasks] : name === 'key' ? ['complaint-handling', 'routing'] : name === 'version' ? ['1', '1.xml', '99999999999'] : name === 'kind' ? ['fields', 'agencies'] : name === 'file' ? ['ui.css', 'case.js'] : [];
    const arbs: Array<fc.Arbitrary<string>> = [fc.string({ minLength: 1, maxLength: 30 }), fc.uuid()];
    if (picks.length) arbs.push(fc.constantFrom(...picks));
    return fc.oneof(...arbs);
  }

  function request(path: string, method: string, op: any) {
    const params: any[] = (op.parameters ?? []).map(resolve).filter((p: any) => p.in !== 'header');
    const pathArbs = Object.fromEntries(params.filter((p) => p.in === 'path').map((p) => [p.name, pathValue(p.name, p.schema)]));
    const queryArbs = Object.fromEntries(params.filter((p) => p.in === 'query').map((p) => [p.name, fuzzy(p.schema)]));
    const allowed = keys.flatMap((k, i) => ((op['x-roles'] ?? []).includes(k.role) ? [i] : []));
    const content = op.requestBody?.content ?? {};
    const types = Object.keys(content);
    const body = types.length ? fc.tuple(fc.constantFrom(...types), fuzzy(content[types.includes('application/json') ? 'application/json' : types[0]].schema)) : fc.constant(null);
    return fc.record({
      path: fc.record(pathArbs),
      query: fc.record(queryArbs as Record<string, fc.Arbitrary<unknown>>, { requiredKeys: params.filter((p) => p.in === 'query' && p.required).map((p) => p.name) as never[] }),
      body,
      // Mostly a key whose role the operation takes (to get past the gate), sometimes any role or none.
      key: allowed.length ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...allowed) }, { weight: 1, arbitrary: fc.integer({ min: -1, max: keys.length - 1 }) }) : fc.integer({ min: -1, max: keys.length - 1 }),
    }).map((r) => ({ ...r, url: path.replace(/\{(\w+)\}/g, (_m, n: string) => encodeURIComponent((r.path as Record<string, string>)[n])), method }));
  }

  function send(r: { url: string; method: string; query: Record<string, unknown>; body: [string, unknown] | null; key: number }) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(r.query)) for (const item of Array.isArray(v) ? v : [v]) qs.append(k, typeof item === 'string' ? item : JSON.stringify(item));
    let req = (h.s.http as any)[r.method](`${r.url}${qs.size ? `?${qs}` : ''}`);
    if (r.key >= 0) req = req.set(keys[r.key].header);
    if (r.body) {
      const [type, value] = r.body;
      if (type === 'application/json') req = req.set('Content-Type', 'application/json').send(JSON.stringify(value));
      else if (type === 'application/x-www-form-urlencoded' && value && typeof value === 'object' && !Array.isArray(value)) req = req.type('form').send(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])));
      else if (type === 'multipart/form-data' && value && typeof value === 'object' && !Array.isArray(value)) for (const [k, v] of Object.entries(value)) req = req.field(k, typeof v === 'string' ? v : JSON.stringify(v));
      else req = req.set('Content-Type', type).send(typeof value === 'string' ? value : JSON.stringify(value));
    }
    return req;
  }

  it(`Given ${RUNS} generated requests per operation with a random role (or none), no answer is a 5xx`, async () => {
    const statuses: Record<string, number> = {};
    const failures: string[] = [];
    let total = 0;
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        await fc.assert(
          fc.asyncProperty(request(path, method, op), async (r) => {
            const res = await send(r);
            total++;
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
            if (res.status >= 500) failures.push(`${method.toUpperCase()} ${r.url} as ${r.key >= 0 ? keys[r.key].role : 'nobody'} → ${res.status} ${res.text.slice(0, 300)}`);
            return res.status < 500;
          }),
          { numRuns: RUNS, seed: SEED, endOnFailure: true },
        ).catch(() => undefined);
      }
    }
    console.log(`      fuzz: ${total} requests over ${Object.values(doc.paths).reduce((n: number, o: any) => n + Object.keys(o).length, 0)} operations, statuses ${JSON.stringify(statuses)}`);
    expect(failures, failures.join('\n')).to.deep.equal([]);
  });
});

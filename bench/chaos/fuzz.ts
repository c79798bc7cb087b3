import fc from 'fast-check';
import { ROLES } from '../../engine/hotline/policy.js';
import type { Checks } from './checks.js';
import { send } from './client.js';
import type { Node } from './nodes.js';
import type { Keys, Row } from './run.js';
import { openApiArbitraries, type Schema } from '../../test/helpers/openapi-arbitrary.js';

/**
 * Scenario d: requests generated from the node's own /openapi.json (the
 * generator of test/fuzz.test.ts, over HTTP to a real process), every
 * operation with every role and without a key, plus for each operation the
 * hostile inputs of issue 15 (JSON nested 6,000 deep, NUL, integers beyond
 * int64, lone UTF-16 surrogates, ill-formed UTF-8 in paths, wrong types, an
 * oversized body). Requests go one at a time so that each refused one (4xx)
 * can be held to "changed nothing": a digest of every table (rate_limits
 * excepted) before and after it must be equal.
 */

interface Req {
  method: string;
  url: string;
  key: number; // index in the role list, -1: no key
  body: { type: string; raw: string | URLSearchParams | FormData } | null;
  what: string;
}

const HOSTILE_VALUES: unknown[] = ['\u0000', 'a\u0000b', 2 ** 31, 2 ** 53, 2 ** 63, -1, 1e308, '', '%01', 'x'.repeat(300), '\ud800', 'a\udc00b', true, [], {}, null, 'ngày\u0301'];
/** Path segments as sent on the wire (already percent-encoded): NUL, int32/int64 overflow, ill-formed UTF-8, an encoded lone surrogate, too long, traversal. */
const HOSTILE_SEGMENTS = ['%00', 'a%00b', '2147483648', '99999999999999999999', '-1', '1.5', '%ED%A0%80', '%C0%AF', '%FF', 'x'.repeat(300), '..%2F..%2Fetc', '%E1%BA%A1%CC%81'];

function deep(n: number): string {
  return `${'['.repeat(n)}${']'.repeat(n)}`;
}

function encodeSegment(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return '%ED%A0%80'; // a lone surrogate has no UTF-8 form; send the bytes a careless client would
  }
}

export async function fuzzScenario(node: Node, keys: Keys, checks: Checks, opts: { requests: number; seed: number; log: (l: string) => void }): Promise<Row> {
  const roles = [...ROLES];
  const headers = (k: number) => (k >= 0 ? keys[roles[k]] : {});
  // Known cases and tasks, so that generated ids sometimes hit real ones.
  const known: { codes: string[]; tasks: string[] } = { codes: [], tasks: [] };
  for (const field of ['DAT-DAI', 'Y-TE']) {
    const a = await send(node.base, 'POST', '/v1/cases', keys.operator, { variables: { title: 'Phản ánh thử (chaos d)', description: 'Nội dung thử.', channel: 'call', field, citizenPhone: '0912000111' } });
    if (a.status !== 201) throw new Error(`d: seeding a case answered ${a.status}: ${JSON.stringify(a.body).slice(0, 300)}`);
    known.codes.push(a.body.code);
    known.tasks.push(...a.body.tasks.map((t: any) => t.id));
  }
  const doc = (await send(node.base, 'GET', '/openapi.json', {})).body;
  const { resolve, valid } = openApiArbitraries(() => doc);

  /** Mostly valid; one in four anything at all or one of the hostile values; inside objects too (a hostile field among valid ones). */
  const fuzzy = (schema: Schema): fc.Arbitrary<unknown> =>
    fc.oneof(
      { weight: 3, arbitrary: valid(schema) },
      { weight: 1, arbitrary: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(...HOSTILE_VALUES)) },
      {
        weight: 1,
        arbitrary: fc.tuple(valid(schema), fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom(...HOSTILE_VALUES)).map(([v, k, bad]) => {
          if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
          const keys = Object.keys(v as object);
          const target = keys.length ? keys[k.length % keys.length] : k;
          return { ...(v as object), [target]: bad };
        }),
      },
    );

  function pathValue(name: string, schema: Schema): fc.Arbitrary<string> {
    const s = resolve(schema);
    if (s.enum) return fc.constantFrom(...s.enum.map(String)).map(encodeSegment);
    const picks: string[] = name === 'code' || name === 'id' || name === 'token' ? [...known.codes, ...known.tasks] : name === 'key' ? ['complaint-handling', 'routing'] : name === 'version' ? ['1', '1.xml', '99999999999'] : name === 'kind' ? ['fields', 'agencies'] : name === 'file' ? ['ui.css', 'case.js'] : [];
    const arbs: Array<fc.Arbitrary<string>> = [fc.string({ minLength: 1, maxLength: 30 }).map(encodeSegment), fc.uuid(), fc.constantFrom(...HOSTILE_SEGMENTS)];
    if (picks.length) arbs.push(fc.constantFrom(...picks.map(encodeSegment)));
    return fc.oneof(...arbs);
  }

  function encodeBody(type: string, value: unknown): Req['body'] {
    if (type === 'application/x-www-form-urlencoded' && value && typeof value === 'object' && !Array.isArray(value)) {
      return { type, raw: new URLSearchParams(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])) };
    }
    if (type === 'multipart/form-data' && value && typeof value === 'object' && !Array.isArray(value)) {
      const form = new FormData();
      for (const [k, v] of Object.entries(value)) form.append(k, typeof v === 'string' ? v : JSON.stringify(v));
      return { type, raw: form };
    }
    return { type, raw: typeof value === 'string' && type !== 'application/json' ? value : JSON.stringify(value) };
  }

  const operations: Array<{ path: string; method: string; op: any }> = [];
  for (const [path, ops] of Object.entries<any>(doc.paths)) for (const [method, op] of Object.entries<any>(ops)) operations.push({ path, method, op });

  function requests(path: string, method: string, op: any, n: number, seed: number): Req[] {
    const params: any[] = (op.parameters ?? []).map(resolve).filter((p: any) => p.in !== 'header');
    const pathParams = params.filter((p) => p.in === 'path');
    const pathArbs = Object.fromEntries(pathParams.map((p) => [p.name, pathValue(p.name, p.schema)]));
    const queryArbs = Object.fromEntries(params.filter((p) => p.in === 'query').map((p) => [p.name, fuzzy(p.schema)]));
    const allowed = roles.flatMap((r, i) => ((op['x-roles'] ?? []).includes(r) ? [i] : []));
    const content = op.requestBody?.content ?? {};
    const types = Object.keys(content);
    const bodyArb = types.length ? fc.tuple(fc.constantFrom(...types), fuzzy(content[types.includes('application/json') ? 'application/json' : types[0]].schema)) : fc.constant(null);
    const arb = fc.record({
      path: fc.record(pathArbs),
      query: fc.record(queryArbs as Record<string, fc.Arbitrary<unknown>>, { requiredKeys: params.filter((p) => p.in === 'query' && p.required).map((p) => p.name) as never[] }),
      body: bodyArb,
      key: allowed.length ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...allowed) }, { weight: 1, arbitrary: fc.integer({ min: -1, max: roles.length - 1 }) }) : fc.integer({ min: -1, max: roles.length - 1 }),
    });
    const urlOf = (p: Record<string, string>, query: Record<string, unknown>) => {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) for (const item of Array.isArray(v) ? v : [v]) qs.append(k, typeof item === 'string' ? item : JSON.stringify(item));
      let q: string;
      try {
        q = qs.size ? `?${qs}` : '';
      } catch {
        q = `?${[...qs.keys()][0]}=%ED%A0%80`; // a lone surrogate in the query: send ill-formed bytes
      }
      return `${path.replace(/\{(\w+)\}/g, (_m, name: string) => p[name])}${q}`;
    };
    const out: Req[] = fc.sample(arb, { numRuns: n, seed }).map((r, i) => ({
      method: method.toUpperCase(),
      url: urlOf(r.path as Record<string, string>, r.query),
      // The first requests of each operation go once with every role and once with no key.
      key: i <= roles.length ? i - 1 : r.key,
      body: r.body ? encodeBody(r.body[0], r.body[1]) : null,
      what: 'generated',
    }));
    // The hostile inputs of issue 15, each once per operation, with a key the operation takes.
    const key = allowed[0] ?? -1;
    const validPath = fc.sample(fc.record(pathArbs), { numRuns: 1, seed })[0] as Record<string, string>;
    const requiredQuery = fc.sample(fc.record(queryArbs as Record<string, fc.Arbitrary<unknown>>, { requiredKeys: params.filter((p) => p.in === 'query' && p.required).map((p) => p.name) as never[] }), { numRuns: 1, seed })[0];
    for (const p of pathParams) {
      for (const seg of HOSTILE_SEGMENTS) out.push({ method: method.toUpperCase(), url: urlOf({ ...validPath, [p.name]: seg }, requiredQuery), key, body: null, what: `path ${p.name}=${seg.slice(0, 20)}` });
    }
    for (const p of params.filter((x) => x.in === 'query')) {
      for (const v of ['%00', '2147483648', '99999999999999999999', '%ED%A0%80']) out.push({ method: method.toUpperCase(), url: `${urlOf(validPath, {})}?${p.name}=${v}`, key, body: null, what: `query ${p.name}=${v}` });
    }
    if (types.length) {
      const json = types.includes('application/json') ? 'application/json' : types[0];
      const raws: Array<[string, string]> = [
        ['JSON nested 6,000 deep', json === 'application/json' ? `{"variables":{"title":${deep(6000)}}}` : deep(6000)],
        ['JSON nested 3,000 deep', `{"variables":{"title":"x","description":"x","channel":"call","nested":${deep(3000)}}}`],
        ['NUL in text', '{"variables":{"title":"a\\u0000b","description":"x","channel":"call"},"reason":"a\\u0000b","text":"a\\u0000b","xml":"\\u0000"}'],
        ['lone surrogate', '{"variables":{"title":"a\\ud800b","description":"\\udc00","channel":"call"},"reason":"\\ud800","text":"\\udfff","xml":"\\ud800"}'],
        ['integer beyond int64', '{"version":99999999999999999999,"toVersion":9223372036854775808,"limit":1e400,"variables":{"title":"x","description":"x","channel":"call","answerDays":99999999999999999999}}'],
        ['wrong types', '{"variables":[1,2],"xml":5,"reason":{},"toAgency":[],"comment":true,"roles":"admin"}'],
        ['top-level array', '[{"variables":{"title":"x"}}]'],
        ['not JSON', '{"variables":'],
        ['empty body', ''],
        ['1.5 MB body', JSON.stringify({ variables: { title: 'x', description: 'y'.repeat(1_500_000), channel: 'call' } })],
      ];
      for (const [what, raw] of raws) out.push({ method: method.toUpperCase(), url: urlOf(validPath, requiredQuery), key, body: { type: json, raw }, what });
    }
    return out;
  }

  const perOperation = Math.ceil(opts.requests / operations.length);
  const all = operations.flatMap(({ path, method, op }, k) => requests(path, method, op, perOperation, opts.seed + k));

  const statuses: Record<string, number> = {};
  const fiveHundreds: string[] = [];
  const changed: string[] = [];
  let refused = 0;
  let checked = 0;
  let before: string | null = null;
  const t0 = Date.now();
  for (const [k, r] of all.entries()) {
    if (k > 0 && k % 1000 === 0) opts.log(`d: ${k} of ${all.length} requests sent`);
    before ??= await checks.digest();
    let status = 0;
    let text: string;
    try {
      const res = await fetch(`${node.base}${r.url}`, {
        method: r.method,
        headers: { ...headers(r.key), ...(r.body && typeof r.body.raw === 'string' ? { 'Content-Type': r.body.type } : {}) },
        body: r.body ? r.body.raw : undefined,
        signal: AbortSignal.timeout(30_000),
      });
      status = res.status;
      text = await res.text();
    } catch (err: any) {
      text = String(err?.cause?.code ?? err?.message ?? err);
    }
    statuses[status || 'no answer'] = (statuses[status || 'no answer'] ?? 0) + 1;
    const who = r.key >= 0 ? roles[r.key] : 'nobody';
    if (status >= 500 || status === 0) fiveHundreds.push(`${r.method} ${r.url.slice(0, 120)} as ${who} (${r.what}) → ${status} ${text.slice(0, 200)}`);
    if (status >= 400) {
      refused++;
      const after = await checks.digest();
      checked++;
      if (after !== before) {
        const a = new Map(after.split(',').map((x) => x.split(':') as [string, string]));
        const tables = before.split(',').filter((x) => a.get(x.split(':')[0]) !== x.split(':')[1]).map((x) => x.split(':')[0]);
        changed.push(`${r.method} ${r.url.slice(0, 120)} as ${who} (${r.what}) → ${status} changed ${tables.join(', ')}`);
      }
      before = after;
    } else before = null; // an accepted request may change the state: take a fresh digest before the next one
  }
  const seconds = (Date.now() - t0) / 1000;
  for (const f of fiveHundreds.slice(0, 10)) opts.log(`d: 5xx: ${f}`);
  for (const c of changed.slice(0, 10)) opts.log(`d: refused but changed: ${c}`);
  return {
    scenario: 'd. generated from /openapi.json',
    load: `${all.length} requests over ${operations.length} operations × ${roles.length} roles + no key (seed ${opts.seed}), one at a time, ${seconds.toFixed(0)} s`,
    figures: [
      ['5xx answers (or no answer)', fiveHundreds.length, 'zero'],
      ['refused requests that changed the state', changed.length, 'zero'],
      ['refused requests (each checked by a digest of every table)', `${refused} (${checked} checked)`, 'info'],
      ['answers by status', Object.entries(statuses).sort().map(([k, v]) => `${k}: ${v}`).join(', '), 'info'],
    ],
  };
}

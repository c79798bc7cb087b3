import { expect } from 'chai';
import Koa from 'koa';
import { Router } from '@koa/router';
import supertest from 'supertest';
import { errorMiddleware, mountRoutes, type RouteSpec, type State } from '../api/http.js';
import { buildOpenApi } from '../api/openapi.js';
import { createLogger } from '../api/logger.js';
import { responseCheck, type UndocumentedResponse } from '../api/response-check.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { testSystem, type TestSystem } from './helpers/system.js';

/**
 * The served document tells the whole truth: success bodies are typed,
 * required query parameters are marked, every status and content type is
 * declared (the test app checks every answer of the suite against it; here we
 * check that checker), unknown methods answer 405 with Allow.
 */
describe('OpenAPI document: the whole truth', () => {
  let t: TestDb;
  let s: TestSystem;
  let doc: any;

  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
    doc = (await s.http.get('/openapi.json')).body;
  });
  after(() => t.close());

  const operations = () => Object.entries<any>(doc.paths).flatMap(([path, ops]) => Object.entries<any>(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })));

  /** Where a body schema says only "an object" or "a list": nothing a client could generate a type from. */
  function untyped(schema: any, at: string, out: string[]) {
    if (!schema || schema.$ref || schema.allOf || schema.const !== undefined || schema.enum) return;
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    // An object is typed by its properties, by the type of its values, or (genuinely open data such as case variables) by a description saying what it holds.
    if (types.includes('object') && !schema.properties && !schema.additionalProperties && !schema.description) out.push(at || '(body)');
    if (types.includes('array')) {
      if (!schema.items) out.push(`${at}[]`);
      else untyped(schema.items, `${at}[]`, out);
    }
    if (schema.type === undefined && !schema.description) out.push(at || '(body)');
    for (const [k, v] of Object.entries<any>(schema.properties ?? {})) untyped(v, `${at}.${k}`, out);
  }

  it('Given every operation, each success body is typed (no bare object or list)', () => {
    const bare: string[] = [];
    for (const { name, op } of operations()) {
      for (const [status, r] of Object.entries<any>(op.responses)) {
        if (Number(status) >= 300) continue;
        for (const [type, c] of Object.entries<any>(r.content ?? {})) {
          if (!/json/.test(type)) continue;
          const out: string[] = [];
          untyped(c.schema, '', out);
          if (out.length) bare.push(`${name} ${status} ${type}: ${out.join(', ')}`);
        }
      }
    }
    expect(bare, `type these in the route's responses block:\n${bare.join('\n')}`).to.deep.equal([]);
  });

  it('Given the query parameters the server requires, the document marks them required', () => {
    const param = (path: string, method: string, name: string) => doc.paths[path][method].parameters.find((p: any) => p.name === name);
    expect(param('/v1/public/cases/{code}', 'get', 'phone').required).to.equal(true);
    expect(param('/v1/public/cases/{code}/rating', 'post', 'phone').required).to.equal(true);
    expect(param('/v1/reports/stats', 'get', 'groupBy').required).to.equal(true);
    expect(param('/v1/tasks', 'get', 'limit').required).to.equal(false);
  });

  it('Given the content types routes answer besides JSON, each is documented where it is answered', () => {
    const types = (path: string, method = 'get', status = '200') => Object.keys(doc.paths[path][method].responses[status].content);
    expect(types('/v1/history/events')).to.have.members(['application/x-ndjson', 'text/csv']);
    expect(types('/v1/reports/weekly')).to.have.members(['application/json', 'text/csv']);
    expect(types('/v1/definitions/{key}/versions/{version}')).to.have.members(['application/json', 'application/xml']);
    expect(types('/ui/assets/{file}')).to.have.members(['application/javascript', 'text/css']);
    expect(types('/open311/v2/requests.{format}', 'post', '201')).to.have.members(['application/json', 'text/xml']);
    expect(types('/open311/v2/requests.{format}', 'get', '404')).to.have.members(['application/json', 'text/xml']);
    expect(Object.keys(doc.paths['/open311/v2/requests.{format}'].post.requestBody.content)).to.have.members(['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']);
    expect(doc.paths['/v1/public/cases/{code}'].get.responses).to.have.keys('200', '400', '404', '429', '500', '503');
  });

  it('Given an answer its route does not document, the checker turns it into a 500 naming the route and the status', async () => {
    const spec: RouteSpec = {
      method: 'get',
      path: '/probe/:n',
      summary: 'probe',
      tags: ['Test'],
      access: 'public',
      responses: { 200: { description: 'ok', schema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } } },
      handler: (ctx) => {
        if (ctx.params.n === 'teapot') ctx.status = 418;
        else if (ctx.params.n === 'text') ctx.body = 'plain';
        else ctx.body = { n: ctx.params.n === 'bad' ? 'not a number' : 1 };
      },
    };
    const met: UndocumentedResponse[] = [];
    const app = new Koa<State>();
    const router = new Router<State>();
    mountRoutes(router, [spec], []);
    app.use(responseCheck(() => buildOpenApi([spec], 'test'), (m) => met.push(m)));
    app.use(errorMiddleware(createLogger('silent')));
    app.use(router.routes());
    const http = supertest(app.callback());
    expect((await http.get('/probe/1')).status).to.equal(200);
    const teapot = await http.get('/probe/teapot');
    expect(teapot.status).to.equal(500);
    expect(teapot.body.detail).to.match(/^GET \/probe\/\{n\} answered 418 .*status 418 is not among 200, 400, 404, 500, 503/);
    expect((await http.get('/probe/text')).body.detail).to.match(/content type text\/plain is not among application\/json/);
    expect((await http.get('/probe/bad')).body.detail).to.match(/\/n must be integer/);
    expect(met.map((m) => `${m.operation} ${m.status}`)).to.deep.equal(['GET /probe/{n} 418', 'GET /probe/{n} 200', 'GET /probe/{n} 200']);
  });

  it('Given TRACE or another method a path does not take, 405 with Allow', async () => {
    const admin = await s.as('admin');
    for (const method of ['TRACE', 'PATCH', 'PUT']) {
      const res = await (s.http as any)[method.toLowerCase()]('/v1/keys').set(admin);
      expect(res.status, method).to.equal(405);
      expect(res.headers.allow.split(/,\s*/)).to.include.members(['GET', 'POST']);
      expect(res.type).to.equal('application/problem+json');
      expect(res.body.detail).to.contain(`${method} is not allowed on /v1/keys`);
    }
  });

  it('Given integers beyond PostgreSQL’s integer in bodies and paths, 400 or 404, never 500', async () => {
    const analyst = await s.as(['analyst', 'admin']);
    for (const [path, body, field] of [
      ['/v1/definitions/complaint-handling/active', { version: 2 ** 31 }, '/version'],
      ['/v1/definitions/complaint-handling/migrate', { toVersion: 2 ** 31, fromVersion: 2 ** 40 }, '/toVersion'],
      ['/v1/cases/PA0000-NONE/migrate', { toVersion: 2 ** 31 }, '/toVersion'],
    ] as const) {
      const res = await s.http.post(path).set(analyst).send(body);
      expect(res.status, `${path} ${res.text}`).to.equal(400);
      expect(res.body.errors.map((e: any) => e.path)).to.include(field);
    }
    // In a path the schema layer refuses it too, naming the parameter (issue 15).
    const path = await s.http.get('/v1/definitions/complaint-handling/versions/99999999999').set(analyst);
    expect(path.status).to.equal(400);
    expect(path.body.errors.map((e: any) => e.path)).to.include('version');
  });
});

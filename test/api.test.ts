import { expect } from 'chai';
import { freshDb, type TestDb } from './helpers/db.js';
import { testSystem, type TestSystem } from './helpers/system.js';
import { routeSpecs } from '../api/app.js';
import { openApiPath } from '../api/openapi.js';
import { createLogger } from '../api/logger.js';
import { Writable } from 'node:stream';

describe('HTTP API conventions', () => {
  let t: TestDb;
  let s: TestSystem;

  before(async () => {
    t = await freshDb();
    s = await testSystem(t.db);
  });
  after(() => t.close());

  describe('Operations', () => {
    it('Given a running node, /health answers ok and /ready checks the database and migrations', async () => {
      expect((await s.http.get('/health')).body).to.deep.equal({ status: 'ok' });
      const ready = await s.http.get('/ready');
      expect(ready.status).to.equal(200);
      expect(ready.body).to.deep.equal({ status: 'ready' });
    });

    it('Given an unknown path, the answer is a 404 problem+json with a request id', async () => {
      const res = await s.http.get('/v1/nothing-here').set('X-Request-Id', 'req-123');
      expect(res.status).to.equal(404);
      expect(res.type).to.equal('application/problem+json');
      expect(res.body).to.include({ status: 404, requestId: 'req-123' });
      expect(res.headers['x-request-id']).to.equal('req-123');
    });
  });

  describe('Authentication', () => {
    it('Given no key, a protected endpoint answers 401 with WWW-Authenticate', async () => {
      const res = await s.http.get('/v1/tasks');
      expect(res.status).to.equal(401);
      expect(res.headers['www-authenticate']).to.equal('Bearer');
      expect(res.type).to.equal('application/problem+json');
    });

    it('Given an unknown key, 401', async () => {
      expect((await s.http.get('/v1/tasks').set('Authorization', 'Bearer pakn_not-a-real-key')).status).to.equal(401);
    });

    it('Given a key that an admin revokes, the very next request is refused', async () => {
      const admin = await s.as('admin');
      const created = await s.http.post('/v1/keys').set(admin).send({ name: 'Sở Y tế', roles: ['agency'], agency: 'SO-YT' });
      expect(created.status).to.equal(201);
      expect(created.body.key).to.match(/^pakn_/);
      const key = { Authorization: `Bearer ${created.body.key}` };
      expect((await s.http.get('/v1/tasks').set(key)).status).to.equal(200);
      const stored = await t.db('api_keys').where({ id: created.body.id }).first();
      expect(stored.key_hash).to.have.length(64);
      expect(JSON.stringify(stored)).not.to.contain(created.body.key);
      expect((await s.http.delete(`/v1/keys/${created.body.id}`).set(admin)).status).to.equal(204);
      expect((await s.http.get('/v1/tasks').set(key)).status).to.equal(401);
      const list = await s.http.get('/v1/keys').set(admin);
      expect(JSON.stringify(list.body)).not.to.contain(created.body.key);
    });

    it('Given admin keys, an admin cannot revoke its own key, and the last live admin key cannot be revoked (409 saying why)', async () => {
      const db = await freshDb();
      try {
        const node = await testSystem(db.db);
        const first = await node.as('admin', null, 'Quản trị 1');
        const self = await node.http.delete(`/v1/keys/${first.id.slice('key:'.length)}`).set(first);
        expect(self.status).to.equal(409);
        expect(self.body.detail).to.match(/cannot revoke itself/);
        const second = await node.as('admin', null, 'Quản trị 2');
        expect((await node.http.delete(`/v1/keys/${first.id.slice('key:'.length)}`).set(second)).status).to.equal(204);
        // The CLI revokes without a caller: the rule that keeps key management reachable holds there too.
        const last = second.id.slice('key:'.length);
        let refused: any;
        await node.keys.revoke(last).catch((err) => (refused = err));
        expect(refused?.status).to.equal(409);
        expect(refused.message).to.match(/last live admin key/);
        expect((await node.http.get('/v1/keys').set(second)).status).to.equal(200);
        const other = await node.as('operator');
        expect((await node.http.delete(`/v1/keys/${other.id.slice('key:'.length)}`).set(second)).status).to.equal(204);
      } finally {
        await db.close();
      }
    });

    it('Given an agency key without an agency code, creation is refused with the field named', async () => {
      const admin = await s.as('admin');
      const res = await s.http.post('/v1/keys').set(admin).send({ name: 'Thiếu mã', roles: ['agency'] });
      expect(res.status).to.equal(400);
      expect(res.body.errors).to.deep.include({ path: '/agency', message: 'required for role agency' });
    });

    it('Given an auditor, writes are forbidden', async () => {
      const auditor = await s.as('auditor');
      expect((await s.http.post('/v1/cases').set(auditor).send({})).status).to.equal(403);
      expect((await s.http.post('/v1/definitions').set(auditor).send({ xml: '<x/>' })).status).to.equal(403);
      expect((await s.http.post('/v1/keys').set(auditor).send({ name: 'x', roles: ['admin'] })).status).to.equal(403);
    });
  });

  describe('Bad input', () => {
    it('Given malformed JSON, 400 says the body is not valid JSON', async () => {
      const operator = await s.as('operator');
      const res = await s.http.post('/v1/cases').set(operator).set('Content-Type', 'application/json').send('{"process": ');
      expect(res.status).to.equal(400);
      expect(res.body.detail).to.match(/not valid JSON/);
    });

    it('Given a bad pagination cursor or limit, 400 names the parameter', async () => {
      const agency = await s.as('agency', 'SNNMT');
      const cursor = await s.http.get('/v1/tasks?cursor=garbage').set(agency);
      expect(cursor.status).to.equal(400);
      expect(cursor.body.errors[0].path).to.equal('/cursor');
      const limit = await s.http.get('/v1/tasks?limit=500').set(agency);
      expect(limit.status).to.equal(400);
      expect(limit.body.errors[0].path).to.equal('/limit');
    });
  });

  describe('OpenAPI document', () => {
    it('Given the registered Koa routes, every one is in /openapi.json and every documented operation is registered', async () => {
      const doc = (await s.http.get('/openapi.json')).body;
      expect(doc.openapi).to.equal('3.1.0');
      const documented = new Set<string>();
      for (const [path, ops] of Object.entries<any>(doc.paths)) for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`);
      const registered = new Set<string>();
      const app = (await import('../api/app.js')).createApp(s);
      for (const mw of app.middleware as any[]) {
        for (const layer of mw.router?.stack ?? []) {
          for (const m of layer.methods) if (m !== 'HEAD') registered.add(`${m} ${openApiPath(layer.path)}`);
        }
      }
      expect(registered.size).to.be.greaterThan(10);
      expect([...registered].sort()).to.deep.equal([...documented].sort());
      expect(routeSpecs(s).length).to.equal(registered.size);
    });

    it('Given /docs, a readable Vietnamese reference page lists the endpoints', async () => {
      const res = await s.http.get('/docs');
      expect(res.type).to.equal('text/html');
      expect(res.text).to.contain('Tài liệu API');
      expect(res.text).to.contain('/v1/tasks/{id}/complete');
    });
  });

  describe('Metrics', () => {
    it('Given traffic, /metrics reports request latency by route, commands by outcome, queue depth and open tasks by agency', async () => {
      const operator = await s.as('operator');
      await s.definitions.deploy((await import('./helpers/system.js')).fixture('simple.bpmn'), { deployedBy: 'test' });
      await s.http.post('/v1/cases').set(operator).send({ process: 'simple', variables: { title: 'Phản ánh thử', description: 'Nội dung phản ánh thử.', channel: 'call' } });
      await s.http.post('/v1/cases').set(operator).send({ process: 'no-such-process', variables: { title: 'Phản ánh thử', description: 'Nội dung phản ánh thử.', channel: 'call' } });
      const res = await s.http.get('/metrics').set(await s.as('admin'));
      expect(res.status).to.equal(200);
      expect(res.text).to.match(/pakn_http_request_duration_seconds_count\{method="POST",route="\/v1\/cases",status="201"\} 1/);
      expect(res.text).to.match(/pakn_commands_total\{command="startCase",outcome="ok"\} 1/);
      expect(res.text).to.match(/pakn_open_tasks\{group="SNNMT",overdue="false"\} 1/);
      expect(res.text).to.match(/pakn_cases\{status="running"\} 1/);
      expect(res.text).to.contain('pakn_jobs_oldest_due_age_seconds');
      expect(res.text).to.contain('pakn_node_process_resident_memory_bytes');
    });
  });

  describe('Logs', () => {
    it('Given a log line carrying a citizen phone and name, they are masked', () => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      });
      const log = createLogger('info', sink);
      log.info({ variables: { citizenPhone: '0912345678', citizenName: 'Nguyễn Văn An', title: 'Ngập nước' } }, 'case');
      expect(lines.join('')).not.to.contain('0912345678');
      expect(lines.join('')).not.to.contain('Nguyễn Văn An');
      expect(lines.join('')).to.contain('Ngập nước');
    });
  });
});

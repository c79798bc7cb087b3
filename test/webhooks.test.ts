import { expect } from 'chai';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { deployProcesses } from '../api/system.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { ROOT, testSystem, type TestSystem } from './helpers/system.js';

interface Received {
  raw: string;
  body: any;
  signatureValid: boolean;
}

/** A real receiver on loopback: it checks X-Pakn-Signature against the raw body, and fails while `failures` > 0. */
class Receiver {
  readonly received: Received[] = [];
  failures = 0;
  secret = '';
  url = '';
  private server!: Server;

  async start() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const expected = Buffer.from(`sha256=${createHmac('sha256', this.secret).update(raw).digest('hex')}`);
        const given = Buffer.from(String(req.headers['x-pakn-signature'] ?? ''));
        this.received.push({ raw, body: JSON.parse(raw), signatureValid: given.length === expected.length && timingSafeEqual(given, expected) });
        if (this.failures > 0) {
          this.failures--;
          return res.writeHead(503).end('busy');
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/pakn-events`;
  }

  types() {
    return this.received.map((r) => r.body.type);
  }

  stop() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe('Agencies hear of their work: signed webhooks with retries, and the event feed', () => {
  let t: TestDb;
  let s: TestSystem;
  let keys: Record<string, { Authorization: string; id: string }>;
  const sxd = new Receiver();
  const flaky = new Receiver();

  before(async () => {
    await sxd.start();
    await flaky.start();
    t = await freshDb();
    // Deliveries only to loopback receivers here: targets are configuration (PAKN_WEBHOOK_TARGETS).
    s = await testSystem(t.db, { webhookTargets: ['http://127.0.0.1:'] });
    await deployProcesses(s, join(ROOT, 'processes'));
    keys = {
      operator: await s.as('operator', 'TONG-DAI-1022'),
      coordinator: await s.as('coordinator', 'VP-UBND'),
      admin: await s.as('admin'),
      SXD: await s.as('agency', 'SXD'),
      SNNMT: await s.as('agency', 'SNNMT'),
    };
  });
  after(async () => {
    await sxd.stop();
    await flaky.stop();
    await t.close();
  });

  const intake = async () => {
    const res = await s.http.post('/v1/cases').set(keys.operator).send({ variables: { title: 'Đèn tín hiệu giao thông hỏng', description: 'Đèn tín hiệu ở ngã tư tắt từ sáng.', channel: 'call', field: 'GIAO-THONG', citizenName: 'Phạm Thị Dung', citizenPhone: '0912000111' } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string; code: string; tasks: any[] };
  };

  it('Given an agency subscribed with its key, when a case reaches it and the executor runs, then its receiver gets task.created signed with the secret, with no personal data, and the attempt is listed', async () => {
    const res = await s.http.post('/v1/subscriptions').set(keys.SXD).send({ url: sxd.url, events: ['task.created', 'task.due-soon', 'task.overdue', 'case.escalated', 'case.transferred'] });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ agency: 'SXD', url: sxd.url });
    expect(res.body.secret).to.match(/^whsec_/);
    sxd.secret = res.body.secret;
    (sxd as any).id = res.body.id;

    const kase = await intake();
    await s.executor.drain();

    expect(sxd.types()).to.deep.equal(['task.created']);
    const [got] = sxd.received;
    expect(got.signatureValid).to.equal(true);
    expect(got.body).to.have.keys('id', 'type', 'occurredAt', 'data');
    expect(got.body.data).to.include({ caseCode: kase.code, taskId: kase.tasks[0].id, agency: 'SXD', elementId: 'handle' });
    expect(got.body.data.due).to.equal(kase.tasks[0].due);
    expect(got.raw).not.to.match(/0912000111|Phạm Thị Dung|Đèn tín hiệu/);

    const deliveries = await s.http.get(`/v1/subscriptions/${res.body.id}/deliveries`).set(keys.SXD);
    expect(deliveries.status).to.equal(200);
    expect(deliveries.body.items.map((d: any) => [d.eventId, d.type, d.attempt, d.outcome, d.httpStatus])).to.deep.equal([[got.body.id, 'task.created', 1, 'delivered', 204]]);
    // Another agency cannot see it; an admin can.
    expect((await s.http.get(`/v1/subscriptions/${res.body.id}/deliveries`).set(keys.SNNMT)).status).to.equal(404);
    expect((await s.http.get(`/v1/subscriptions/${res.body.id}/deliveries`).set(keys.admin)).status).to.equal(200);
  });

  it('Given a receiver that fails, when the executor runs as time passes, then it retries with growing delays until a 2xx, same event id and body each time, and lists every attempt', async () => {
    const sub = await s.http.post('/v1/subscriptions').set(keys.admin).send({ url: flaky.url, events: ['task.created'] });
    expect(sub.status).to.equal(201);
    flaky.secret = sub.body.secret;
    flaky.failures = 2;

    await intake();
    await s.executor.drain();
    expect(flaky.received).to.have.length(1);
    // Not due again yet: the first retry waits 5 s, the second 10 s.
    expect(await s.executor.drain()).to.equal(0);
    s.clock.advance(5_000);
    await s.executor.drain();
    expect(flaky.received).to.have.length(2);
    s.clock.advance(5_000);
    expect(await s.executor.drain()).to.equal(0);
    s.clock.advance(5_000);
    await s.executor.drain();
    expect(flaky.received).to.have.length(3);
    expect(flaky.received.every((r) => r.signatureValid)).to.equal(true);
    expect(new Set(flaky.received.map((r) => r.raw)).size, 'the same body at every attempt').to.equal(1);

    const list = await s.http.get(`/v1/subscriptions/${sub.body.id}/deliveries`).set(keys.admin);
    expect(list.body.items.map((d: any) => [d.attempt, d.outcome, d.httpStatus])).to.deep.equal([
      [3, 'delivered', 204],
      [2, 'failed', 503],
      [1, 'failed', 503],
    ]);

    // Ended: no more deliveries.
    expect((await s.http.delete(`/v1/subscriptions/${sub.body.id}`).set(keys.admin)).status).to.equal(204);
    await intake();
    await s.executor.drain();
    expect(flaky.received).to.have.length(3);
  });

  it('Given the case at the agency, when it transfers the case, then its system hears case.transferred and not the new agency’s task; the new agency’s feed has its task', async () => {
    sxd.received.length = 0;
    const kase = await intake();
    const task = kase.tasks[0];
    const done = await s.http.post(`/v1/tasks/${task.id}/complete`).set(keys.SXD).send({ outcome: 'transfer', toAgency: 'SNNMT', transferReason: 'Thuộc lĩnh vực môi trường' });
    expect(done.status, JSON.stringify(done.body)).to.equal(200);
    await s.executor.drain();
    const mine = sxd.received.filter((r) => r.body.data.caseCode === kase.code);
    expect(mine.map((r) => r.body.type)).to.deep.equal(['task.created', 'case.transferred']);
    expect(mine[1].body.data).to.include({ fromAgency: 'SXD', toAgency: 'SNNMT', by: 'transfer', transferCount: 1 });

    const feed = await s.http.get('/v1/events').set(keys.SNNMT);
    expect(feed.status).to.equal(200);
    const theirs = feed.body.items.filter((e: any) => e.data.caseCode === kase.code).map((e: any) => e.type);
    expect(theirs).to.deep.equal(['case.transferred', 'task.created']);
    // Nothing new after the cursor: the same cursor back.
    const again = await s.http.get(`/v1/events?after=${feed.body.nextCursor}`).set(keys.SNNMT);
    expect(again.body).to.deep.equal({ items: [], nextCursor: feed.body.nextCursor });
  });

  it('Given an open task at the agency, when the diagram reminds and the deadline passes, then task.due-soon, task.overdue and case.escalated reach the agency once each', async () => {
    sxd.received.length = 0;
    const kase = await intake();
    const due = new Date(kase.tasks[0].due);
    s.clock.set(s.calendar!.addWorkingDays(due, -2));
    await s.executor.drain();
    s.clock.set(due);
    await s.executor.drain();
    const types = sxd.received.filter((r) => r.body.data.caseCode === kase.code).map((r) => r.body.type);
    expect(types.sort()).to.deep.equal(['case.escalated', 'task.created', 'task.due-soon', 'task.overdue']);
    const escalated = sxd.received.find((r) => r.body.type === 'case.escalated' && r.body.data.caseCode === kase.code)!;
    expect(escalated.body.data).to.include({ agency: 'SXD', reason: 'overdue' });
    // The coordinator's feed has the escalation and the new coordinator task.
    const feed = await s.http.get('/v1/events?type=case.escalated').set(keys.coordinator);
    expect(feed.body.items.map((e: any) => e.data.caseCode)).to.include(kase.code);
  });

  it('Given bad subscriptions, then each is refused naming the field: a URL outside the configured targets, an unknown event, another agency’s events; unknown ids are 404', async () => {
    const outside = await s.http.post('/v1/subscriptions').set(keys.SXD).send({ url: 'https://example.org/hook', events: ['task.created'] });
    expect(outside.status).to.equal(422);
    expect(outside.body.errors).to.deep.equal([{ path: '/url', message: 'is not among the configured targets' }]);
    const unknown = await s.http.post('/v1/subscriptions').set(keys.SXD).send({ url: sxd.url, events: ['task.exploded'] });
    expect(unknown.status).to.equal(400);
    expect(unknown.body.errors[0].path).to.match(/^\/events/);
    const other = await s.http.post('/v1/subscriptions').set(keys.SXD).send({ url: sxd.url, events: ['task.created'], agency: 'SNNMT' });
    expect(other.status).to.equal(403);
    expect((await s.http.post('/v1/subscriptions').set(keys.operator).send({ url: sxd.url, events: ['task.created'] })).status).to.equal(403);
    expect((await s.http.delete('/v1/subscriptions/00000000-0000-0000-0000-000000000000').set(keys.SXD)).status).to.equal(404);
    expect((await s.http.get('/v1/events?after=abc').set(keys.SXD)).body.errors[0].path).to.match(/after/);
  });
});

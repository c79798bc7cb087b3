import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock, type Clock } from '../engine/clock.js';
import { JobExecutor } from '../engine/jobs.js';
import { HttpSmsGateway, type SmsGateway } from '../engine/hotline/sms.js';
import { deployProcesses } from '../api/system.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline } from './helpers/scenario.js';
import { ROOT, testSystem, type TestSystem } from './helpers/system.js';
import { join } from 'node:path';

/** A real HTTP SMS provider on loopback: it fails the first `failures` requests and honours Idempotency-Key. */
class FakeProvider {
  readonly received: Array<{ key: string; to: string; text: string }> = [];
  readonly sent = new Map<string, { id: string; to: string; text: string }>();
  failures = 0;
  private server!: Server;
  url = '';

  async start() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const msg = JSON.parse(body);
        const key = String(req.headers['idempotency-key']);
        this.received.push({ key, to: msg.to, text: msg.text });
        if (req.headers.authorization !== 'Bearer provider-token') return res.writeHead(401).end('bad token');
        if (this.failures > 0) {
          this.failures--;
          return res.writeHead(503).end('busy');
        }
        let sent = this.sent.get(key);
        if (!sent) {
          sent = { id: `MSG-${this.sent.size + 1}`, to: msg.to, text: msg.text };
          this.sent.set(key, sent); // a repeated key returns the first result, sends nothing
        }
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id: sent.id }));
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/send`;
  }

  stop() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe('SMS to citizens: transactional outbox, templates, retries, provider idempotency, delivery status', () => {
  let t: TestDb;
  let h: Hotline;
  let s: TestSystem;
  const provider = new FakeProvider();
  let gateway: SmsGateway;
  let crashAfterAccept = false;

  before(async () => {
    await provider.start();
    const http = new HttpSmsGateway(provider.url, 'provider-token');
    gateway = {
      name: 'http',
      async send(m) {
        const result = await http.send(m);
        if (crashAfterAccept) {
          crashAfterAccept = false;
          throw new Error('node died after the provider accepted the message');
        }
        return result;
      },
    };
    t = await freshDb();
    h = await Hotline.open(t.db);
    s = await testSystem(t.db, { processesDir: join(ROOT, 'processes') }, { sms: gateway });
    await deployProcesses(s, join(ROOT, 'processes'));
  });
  after(async () => {
    await provider.stop();
    await t.close();
  });

  async function answeredCase(phone: string | null) {
    const kase = await h.intake({ title: 'Chó thả rông cắn người', field: 'AN-NINH-TRAT-TU', ...(phone ? { citizenPhone: phone } : {}) });
    await h.act(kase.code, 'handle', 'CONG-AN', { outcome: 'answer', answer: 'Công an phường đã xử phạt chủ vật nuôi theo quy định.' });
    await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve' });
    const [job] = await h.jobs(kase.id, 'sms');
    return { kase, job };
  }

  function executor(clock: Clock = s.clock) {
    return new JobExecutor(s.db, { handlers: { sms: s.jobHandlers.sms }, backoffMs: 1000, leaseMs: 30_000, clock });
  }

  // Each test starts with an empty outbox: earlier tests' messages are delivered first.
  beforeEach(async () => {
    provider.failures = 0;
    await executor().drain();
  });

  it('Given an answer is approved, the SMS is queued in the same transaction with the Vietnamese template filled in', async () => {
    const { kase, job } = await answeredCase('0903111222');
    expect(job.status).to.equal('pending');
    expect(job.payload).to.include({ to: '0903111222', template: 'answer', caseCode: kase.code });
    expect(job.payload.text).to.equal(`Tổng đài 1022: Phản ánh ${kase.code} đã được Công an tỉnh trả lời: Công an phường đã xử phạt chủ vật nuôi theo quy định. Trả lời tin này 1 nếu hài lòng, 2 nếu chưa hài lòng.`);
  });

  it('Given the provider fails twice then succeeds, then exactly one SMS is sent after three attempts', async () => {
    const { job } = await answeredCase('0903222333');
    provider.failures = 2;
    const clock = new ManualClock(s.clock.now());
    const ex = executor(clock);
    for (let i = 0; i < 3; i++) {
      expect(await ex.runOnce()).to.be.at.least(1);
      clock.advance(60_000);
    }
    const after = await t.db('jobs').where({ id: job.id }).first();
    expect(after).to.include({ status: 'done', attempts: 3 });
    expect(after.payload).to.include({ gateway: 'http' });
    const key = `pakn-sms-${job.id}`;
    expect(provider.received.filter((r) => r.key === key)).to.have.length(3);
    expect(provider.sent.has(key)).to.equal(true);
    expect([...provider.sent.values()].filter((m) => m.to === '0903222333')).to.have.length(1);
  });

  it('Given the provider refused an SMS on every attempt (an incident), when the coordinator sends it again, then it goes out once and the history says who asked', async () => {
    const { kase, job } = await answeredCase('0903444555');
    provider.failures = 100;
    const clock = new ManualClock(s.clock.now());
    const ex = executor(clock);
    for (let i = 0; i < 10 && (await t.db('jobs').where({ id: job.id }).first()).status === 'pending'; i++) {
      await ex.runOnce();
      clock.advance({ hours: 2 });
    }
    expect((await t.db('jobs').where({ id: job.id }).first()).status).to.equal('incident');
    const listed = await h.s.http.get('/v1/jobs/incidents?type=sms').set(h.keys.coordinator);
    expect(listed.status).to.equal(200);
    expect(listed.body.find((j: any) => j.id === String(job.id))).to.include({ type: 'sms', caseCode: kase.code, status: 'incident' });
    expect(JSON.stringify(listed.body)).not.to.include('0903444555'); // no personal data in the list
    const clerk = await h.agency('CONG-AN');
    expect((await h.s.http.post(`/v1/jobs/${job.id}/retry`).set(clerk)).status).to.equal(403);
    provider.failures = 0;
    const retried = await h.s.http.post(`/v1/jobs/${job.id}/retry`).set(h.keys.coordinator);
    expect(retried.status).to.equal(200);
    // The answer names the case, as the incident list does (it said caseCode null: a black-box check, 2026-12-08).
    expect(retried.body).to.include({ status: 'pending', attempts: 0, caseCode: kase.code });
    expect((await h.s.http.post(`/v1/jobs/${job.id}/retry`).set(h.keys.coordinator)).status).to.equal(409); // not an incident any more
    await ex.runOnce();
    expect((await t.db('jobs').where({ id: job.id }).first()).status).to.equal('done');
    expect([...provider.sent.values()].filter((m) => m.to === '0903444555')).to.have.length(1);
    const history = await h.s.http.get(`/v1/cases/${kase.code}/history`).set(h.keys.coordinator);
    expect(history.body.events.find((e: any) => e.type === 'job.retried')).to.deep.include({ actor: { id: h.keys.coordinator.id, roles: ['coordinator'], agency: 'VP-UBND' } });
  });

  it('Given the node dies after the provider accepted but before the job was marked, the retry carries the same key and the citizen gets one SMS', async () => {
    const { job } = await answeredCase('0903333444');
    crashAfterAccept = true;
    const clock = new ManualClock(s.clock.now());
    const ex = executor(clock);
    await ex.runOnce();
    expect((await t.db('jobs').where({ id: job.id }).first()).status).to.equal('pending');
    clock.advance(60_000);
    await ex.runOnce();
    const after = await t.db('jobs').where({ id: job.id }).first();
    expect(after.status).to.equal('done');
    const key = `pakn-sms-${job.id}`;
    expect(provider.received.filter((r) => r.key === key)).to.have.length(2);
    expect([...provider.sent.values()].filter((m) => m.to === '0903333444')).to.have.length(1);
    expect(after.payload.providerId).to.equal(provider.sent.get(key)!.id);
  });

  it('Given a case without a phone number, its SMS is skipped, not retried forever', async () => {
    const { job } = await answeredCase(null);
    await executor().runOnce();
    const after = await t.db('jobs').where({ id: job.id }).first();
    expect(after.status).to.equal('skipped');
    expect(after.payload.skipped).to.equal('no phone number');
  });

  it('Given the provider reports delivery, the callback records it on the message and in the case history', async () => {
    const { kase, job } = await answeredCase('0903444555');
    await executor().runOnce();
    const gatewayKey = await s.as('gateway', null, 'Nhà cung cấp SMS');
    const res = await s.http.post('/v1/sms/status').set(gatewayKey).send({ reference: `pakn-sms-${job.id}`, status: 'delivered', providerId: 'MSG-9' });
    expect(res.status).to.equal(200);
    expect((await t.db('jobs').where({ id: job.id }).first()).payload.delivery).to.include({ status: 'delivered', providerId: 'MSG-9' });
    const events = (await h.events(kase.id)).filter((e) => e.type === 'sms.delivered');
    expect(events).to.have.length(1);
    // A provider repeats a report it is not sure arrived: answered as recorded, nothing written again (a black-box
    // check, 2026-12-08: it wrote a second sms.delivered).
    const again = await s.http.post('/v1/sms/status').set(gatewayKey).send({ reference: `pakn-sms-${job.id}`, status: 'delivered', providerId: 'MSG-9' });
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(res.body);
    expect((await h.events(kase.id)).filter((e) => e.type === 'sms.delivered')).to.have.length(1);
    expect((await s.http.post('/v1/sms/status').set(gatewayKey).send({ reference: 'pakn-sms-987654321', status: 'failed' })).status).to.equal(404);
    expect((await s.http.post('/v1/sms/status').set(h.keys.operator).send({ reference: `pakn-sms-${job.id}`, status: 'failed' })).status).to.equal(403);
  });
});

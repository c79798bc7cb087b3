import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { deployProcesses } from '../../api/system.js';
import { insertSubscription } from '../../db/subscriptions.js';
import type { ResolveHost } from '../../engine/hotline/webhook-targets.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline, type Key } from '../helpers/scenario.js';
import { ROOT, testSystem, type TestSystem } from '../helpers/system.js';

/**
 * Black-box check of the agency guide: with the default PAKN_WEBHOOK_TARGETS (any https:// URL) an agency key
 * could subscribe https://127.0.0.1:3102/v1/keys (201), the server then connected to it, and the deliveries list
 * reported each connection error: an agency could probe the internal network. Now, unless the operator named the
 * host in PAKN_WEBHOOK_TARGETS, a receiver must be on a public address: checked at subscription (422 naming /url)
 * and again at every delivery, which is refused, without details, when the name resolves elsewhere by then.
 */

/** A receiver on loopback that counts the connections it gets: the server must make none to a refused target. */
class Receiver {
  connections = 0;
  bodies: string[] = [];
  port = 0;
  private server!: Server;

  async start() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        this.bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(204).end();
      });
    });
    this.server.on('connection', () => this.connections++);
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  stop() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A resolver the test sets name by name (no DNS, no internet); an unknown name does not resolve. */
class FakeDns {
  readonly names = new Map<string, string[]>();
  lookups = 0;
  readonly resolve: ResolveHost = async (host) => {
    this.lookups++;
    const addresses = this.names.get(host);
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: isIP(address) }));
  };
}

const NOT_PUBLIC = { path: '/url', message: 'is not a public address' };

describe('Regression: webhooks reach only public addresses unless the operator named the host', () => {
  describe('with the default targets (any https:// URL)', () => {
    let t: TestDb;
    let h: Hotline;
    let sxd: Key;
    const dns = new FakeDns();
    const receiver = new Receiver();
    before(async () => {
      await receiver.start();
      t = await freshDb();
      h = await Hotline.open(t.db, undefined, { resolveHost: dns.resolve });
      sxd = await h.agency('SXD');
    });
    after(async () => {
      await receiver.stop();
      await t.close();
    });

    const subscribe = (url: string) => h.s.http.post('/v1/subscriptions').set(sxd).send({ url, events: ['task.created'] });
    const subscriptions = async () => Number(((await t.db('subscriptions').count('* as n').first()) as any).n);
    /** A case that reaches SXD (traffic lights): its task.created is delivered to SXD's subscriptions. */
    const caseForSxd = () => h.intake({ title: 'Đèn tín hiệu giao thông hỏng', field: 'GIAO-THONG' });
    const deliveries = async (id: string) => {
      const res = await h.s.http.get(`/v1/subscriptions/${id}/deliveries`).set(sxd);
      expect(res.status).to.equal(200);
      return (res.body.items as any[]).map((d) => ({ outcome: d.outcome, httpStatus: d.httpStatus, error: d.error }));
    };

    it('Given an agency key, when it subscribes a URL whose host is a literal internal address or a localhost name, then each is 422 naming /url and nothing is subscribed', async () => {
      const before = await subscriptions();
      for (const [url, what] of [
        ['https://127.0.0.1:3102/v1/keys', '127.0.0.1 is a loopback address'],
        ['https://2130706433/v1/keys', '127.0.0.1 is a loopback address'],
        ['https://10.20.30.40/hook', '10.20.30.40 is a private address'],
        ['https://172.16.5.4/hook', '172.16.5.4 is a private address'],
        ['https://192.168.1.10/hook', '192.168.1.10 is a private address'],
        ['https://100.64.0.1/hook', '100.64.0.1 is a shared (carrier-grade NAT) address'],
        ['https://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address'],
        ['https://0.0.0.0:3102/hook', '0.0.0.0 is an unspecified address'],
        ['https://224.0.0.1/hook', '224.0.0.1 is a multicast address'],
        ['https://[::1]:3102/hook', '::1 is a loopback address'],
        ['https://[::ffff:127.0.0.1]/hook', '::ffff:7f00:1 is a loopback address'],
        ['https://[fd12:3456::1]/hook', 'fd12:3456::1 is a private address'],
        ['https://[fe80::1]/hook', 'fe80::1 is a link-local address'],
        ['https://[::]/hook', ':: is an unspecified address'],
        ['https://localhost:3102/v1/keys', 'localhost names this server'],
        ['https://api.localhost/hook', 'api.localhost names this server'],
      ]) {
        const res = await subscribe(url);
        expect(res.status, url).to.equal(422);
        expect(res.type, url).to.equal('application/problem+json');
        expect(res.body.errors, url).to.deep.equal([NOT_PUBLIC]);
        expect(res.body.detail, url).to.contain(`Webhooks are delivered only to public addresses, and ${what}.`);
      }
      expect(await subscriptions()).to.equal(before);
      expect(receiver.connections).to.equal(0);
    });

    it('Given names the resolver maps, when an agency subscribes them, then a name with any internal address is 422 naming /url and a public one is subscribed', async () => {
      dns.names.set('noi-bo.sxd.example.vn', ['10.1.2.3']);
      dns.names.set('hai-mat.sxd.example.vn', ['203.0.113.10', '192.168.0.7']);
      dns.names.set('dms.sxd.example.vn', ['203.0.113.10', '2001:db8::10']);
      const internal = await subscribe('https://noi-bo.sxd.example.vn/hook');
      expect(internal.status).to.equal(422);
      expect(internal.body.errors).to.deep.equal([NOT_PUBLIC]);
      expect(internal.body.detail).to.contain('noi-bo.sxd.example.vn resolves to a private address');
      const mixed = await subscribe('https://hai-mat.sxd.example.vn/hook');
      expect(mixed.status).to.equal(422);
      expect(mixed.body.errors).to.deep.equal([NOT_PUBLIC]);

      const ok = await subscribe('https://dms.sxd.example.vn/hook');
      expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
      // A name that does not resolve now is taken: every delivery checks it again.
      const unknown = await subscribe('https://chua-co.sxd.example.vn/hook');
      expect(unknown.status, JSON.stringify(unknown.body)).to.equal(201);
      // Ended before any delivery: this test has no internet to deliver to.
      for (const id of [ok.body.id, unknown.body.id]) expect((await h.s.http.delete(`/v1/subscriptions/${id}`).set(sxd)).status).to.equal(204);
    });

    it('Given a name that was public at subscription and resolves to loopback at delivery (DNS rebinding), when the executor delivers, then the attempt is refused without details and nothing connects', async () => {
      const host = 'rebind.sxd.example.vn';
      dns.names.set(host, ['203.0.113.20']);
      const sub = await subscribe(`https://${host}:${receiver.port}/v1/keys`);
      expect(sub.status, JSON.stringify(sub.body)).to.equal(201);
      dns.names.set(host, ['203.0.113.20', '127.0.0.1']);

      await caseForSxd();
      await h.s.executor.drain();
      expect(receiver.connections).to.equal(0);
      expect(await deliveries(sub.body.id)).to.deep.equal([{ outcome: 'refused', httpStatus: null, error: 'refused: the address is not public' }]);
      // Refused like a target no longer configured: not retried.
      h.s.clock.advance(3_600_000);
      await h.s.executor.drain();
      expect(await deliveries(sub.body.id)).to.have.length(1);
      expect((await h.s.http.delete(`/v1/subscriptions/${sub.body.id}`).set(sxd)).status).to.equal(204);
    });

    it('Given a subscription to a loopback address stored before the check existed, when the executor delivers, then it is refused the same way and nothing connects', async () => {
      const sub = await insertSubscription(t.db, { url: `https://127.0.0.1:${receiver.port}/v1/keys`, events: ['task.created'], agency: 'SXD', secret: 'whsec_truoc-khi-sua', created_by: sxd.id, at: h.s.clock.now() });
      const lookups = dns.lookups;

      await caseForSxd();
      await h.s.executor.drain();
      expect(receiver.connections).to.equal(0);
      expect(dns.lookups, 'a literal address is not looked up').to.equal(lookups);
      expect(await deliveries(sub.id)).to.deep.equal([{ outcome: 'refused', httpStatus: null, error: 'refused: the address is not public' }]);
    });
  });

  describe('with a host the operator named in PAKN_WEBHOOK_TARGETS', () => {
    let t: TestDb;
    let s: TestSystem;
    let sxd: Key;
    let operator: Key;
    const receiver = new Receiver();
    before(async () => {
      await receiver.start();
      t = await freshDb();
      // An agency's system on the province's own network, named by the operator; any other https:// URL must be public.
      s = await testSystem(t.db, { webhookTargets: ['https://', 'http://127.0.0.1:'] }, { resolveHost: new FakeDns().resolve });
      await deployProcesses(s, join(ROOT, 'processes'));
      sxd = await s.as('agency', 'SXD');
      operator = await s.as('operator', 'TONG-DAI-1022');
    });
    after(async () => {
      await receiver.stop();
      await t.close();
    });

    it('Given the operator named http://127.0.0.1:, when an agency subscribes a receiver there, then it is subscribed and delivered to; another loopback address is still 422', async () => {
      const sub = await s.http.post('/v1/subscriptions').set(sxd).send({ url: `http://127.0.0.1:${receiver.port}/pakn`, events: ['task.created'] });
      expect(sub.status, JSON.stringify(sub.body)).to.equal(201);
      const other = await s.http.post('/v1/subscriptions').set(sxd).send({ url: 'https://127.0.0.2/pakn', events: ['task.created'] });
      expect(other.status).to.equal(422);
      expect(other.body.errors).to.deep.equal([NOT_PUBLIC]);
      // A prefix match that is not the named host (credentials before another host), and credentials at all, are refused.
      for (const url of ['http://127.0.0.1:@localhost/pakn', `http://127.0.0.1:${receiver.port}@example.org/pakn`, `http://user:secret@127.0.0.1:${receiver.port}/pakn`]) {
        const disguised = await s.http.post('/v1/subscriptions').set(sxd).send({ url, events: ['task.created'] });
        expect(disguised.status, url).to.equal(422);
        expect(disguised.body.errors).to.deep.equal([{ path: '/url', message: 'must not contain a user name or password' }]);
      }

      const kase = await s.http.post('/v1/cases').set(operator).send({ variables: { title: 'Đèn tín hiệu giao thông hỏng', description: 'Đèn tắt từ sáng.', channel: 'call', field: 'GIAO-THONG' } });
      expect(kase.status, JSON.stringify(kase.body)).to.equal(201);
      await s.executor.drain();
      expect(receiver.bodies.map((b) => JSON.parse(b).type)).to.deep.equal(['task.created']);
      const list = await s.http.get(`/v1/subscriptions/${sub.body.id}/deliveries`).set(sxd);
      expect(list.body.items.map((d: any) => [d.outcome, d.httpStatus])).to.deep.equal([['delivered', 204]]);
    });
  });
});

import { expect } from 'chai';
import { Writable } from 'node:stream';
import { connect, isDatabaseUnavailable, type Db } from '../../db/connect.js';
import { createLogger } from '../../api/logger.js';
import { freshDb, ON_POSTGRES, type TestDb } from '../helpers/db.js';
import { Relay } from '../helpers/relay.js';
import { testSystem, type TestSystem } from '../helpers/system.js';

/**
 * Issue 15: with PostgreSQL down every request answered 500 and logged an
 * "unhandled error" per request. Now: 503 problem+json with Retry-After,
 * /ready 503, one log line when the outage starts and one when it heals, and
 * it heals by itself.
 */
describe('Regression: the database being unavailable answers 503 with Retry-After, not 500', () => {
  describe('isDatabaseUnavailable (db/connect.ts)', () => {
    let t: TestDb;
    before(async () => (t = await freshDb()));
    after(() => t.close());

    it('Given a PostgreSQL URL where nothing listens, when a query runs, then its error is classified as unavailable', async () => {
      const nowhere = connect({ databaseUrl: 'postgres://postgres@127.0.0.1:1/x', poolMax: 1 });
      try {
        const err = await nowhere.raw('select 1').then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, 'the query must fail').to.be.an('error');
        expect(isDatabaseUnavailable(err)).to.equal(true);
      } finally {
        await nowhere.destroy();
      }
    });

    it('Given a reachable database, when a query is wrong, then its error is not classified as unavailable (it stays a 500)', async () => {
      const err = await t.db.raw('select * from no_such_table').then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).to.be.an('error');
      expect(isDatabaseUnavailable(err)).to.equal(false);
    });

    it('Given the driver error shapes of an outage, then each is unavailable', () => {
      for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']) {
        expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code })), code).to.equal(true);
      }
      expect(isDatabaseUnavailable(Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' }))).to.equal(true);
      expect(isDatabaseUnavailable(new AggregateError([Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })]))).to.equal(true);
      expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).to.equal(false);
    });
  });

  (ON_POSTGRES ? describe : describe.skip)('on PostgreSQL, through a relay that is cut and restored (skipped on PGlite: an embedded database cannot become unreachable)', () => {
    let t: TestDb;
    let relay: Relay;
    let nodeDb: Db;
    let s: TestSystem;
    const lines: Array<{ level: number; msg: string }> = [];

    before(async () => {
      t = await freshDb();
      const real = new URL(t.url!);
      relay = new Relay({ host: real.hostname, port: Number(real.port || 5432) });
      await relay.open();
      const via = new URL(t.url!);
      via.hostname = '127.0.0.1';
      via.port = String(relay.port);
      const sink = new Writable({
        write(chunk, _enc, done) {
          for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
          done();
        },
      });
      const log = createLogger('info', sink);
      // knex's own messages go to the same logger, as createSystem wires them.
      nodeDb = connect({ databaseUrl: via.toString(), poolMax: 4, log });
      s = await testSystem(nodeDb, {}, { log });
    });
    after(async () => {
      await nodeDb?.destroy();
      await t?.close();
    });

    it('Given a node whose database goes away, when requests arrive, then each answers 503 problem+json with Retry-After, /ready is 503, /health stays 200, and one line is logged; when it is back, requests succeed again and one line says so', async () => {
      const operator = await s.as('operator');
      expect((await s.http.get('/v1/cases').set(operator)).status).to.equal(200);

      await relay.cut();
      const answers = [
        await s.http.get('/v1/cases').set(operator),
        await s.http.post('/v1/cases').set(operator).send({ variables: { title: 'Đèn đường hỏng', description: 'Đèn đường trước nhà số 12 không sáng.', channel: 'call', field: 'GIAO-THONG' } }),
        await s.http.get('/v1/public/cases/PA2611-AAAAA?phone=1234'),
        await s.http.get('/v1/cases').set(operator),
      ];
      for (const res of answers) {
        expect(res.status, JSON.stringify(res.body)).to.equal(503);
        expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
        expect(res.headers['retry-after']).to.equal('5');
        expect(res.body.detail).to.match(/database is unavailable/);
      }
      const ready = await s.http.get('/ready');
      expect(ready.status).to.equal(503);
      expect((await s.http.get('/health')).status).to.equal(200);
      const down = lines.filter((l) => /database unavailable/.test(l.msg));
      expect(down, 'one line per outage, not per request').to.have.length(1);
      expect(lines.filter((l) => l.msg === 'unhandled error')).to.have.length(0);
      // knex's own "Acquire connection error" (one per attempt): one line per outage too.
      expect(lines.filter((l) => /Acquire connection error|Connection Error/.test(l.msg))).to.have.length(0);
      expect(lines.filter((l) => /database connections failing/.test(l.msg))).to.have.length(1);

      await relay.open(); // same port: the database is back
      expect((await s.http.get('/v1/cases').set(operator)).status).to.equal(200);
      expect((await s.http.get('/ready')).status).to.equal(200);
      expect(lines.filter((l) => /database reachable again/.test(l.msg))).to.have.length(1);
      expect(lines.filter((l) => /database connections open again/.test(l.msg))).to.have.length(1);
      expect(lines.filter((l) => /database unavailable/.test(l.msg))).to.have.length(1);
    });
  });
});

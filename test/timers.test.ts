import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from '../db/connect.js';
import { ManualClock, systemClock } from '../engine/clock.js';
import { JobExecutor } from '../engine/jobs.js';
import { freshDb, ON_POSTGRES, type TestDb } from './helpers/db.js';
import { fixture, ROOT, TEST_START, testSystem, type TestSystem } from './helpers/system.js';

const run = promisify(execFile);
const operator = { id: 'test:operator', name: 'Operator', roles: ['operator'], agency: null };

describe('Durable timers and the job executor', () => {
  describe('Given a case waiting at a task with a timer boundary, when the node restarts', () => {
    let dataDir: string | undefined;
    let t: TestDb | undefined;
    after(async () => {
      await t?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('Then a new process on the same database fires the timer and the case takes the boundary path', async function () {
      this.timeout(60_000);
      // The child process below runs on the real clock and cannot share ours,
      // so the first node's clock stands a minute before the real time: the
      // one-second timer it arms is already due when the new process looks.
      const clock = new ManualClock(new Date(systemClock.now().getTime() - 60_000));
      // The first node: an on-disk embedded database, or a fresh PostgreSQL database.
      let env: Record<string, string>;
      let first: TestSystem;
      if (ON_POSTGRES) {
        t = await freshDb();
        first = await testSystem(t.db, {}, { clock });
        env = { DATABASE_URL: t.url! };
      } else {
        dataDir = mkdtempSync(join(tmpdir(), 'pakn-restart-'));
        first = await testSystem(connect({ dataDir }), { dataDir }, { clock });
        env = { PAKN_DATA_DIR: dataDir };
      }
      await first.definitions.deploy(fixture('timer-boundary.bpmn'), { deployedBy: 'test' });
      const started = await first.runtime.startCase({ processKey: 'timer-boundary', variables: { agency: 'SNNMT', timeout: 'PT1S' }, actor: operator });
      const jobs = await first.db('jobs').where({ case_id: started.caseId, status: 'pending' });
      expect(jobs).to.have.length(1);
      expect(jobs[0]).to.include({ type: 'timer', element_id: 'late' });
      expect(new Date(jobs[0].due_at).getTime()).to.equal(clock.now().getTime() + 1000);
      // Nothing on the first node's clock has fallen due yet.
      expect(await first.executor.runOnce()).to.equal(0);
      if (!ON_POSTGRES) await first.db.destroy(); // the node goes away; only the database remains

      // A new process: the CLI's one-shot job run.
      const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'api', 'cli.ts'), 'jobs', 'drain'], {
        cwd: ROOT,
        env: { ...process.env, ...env, LOG_LEVEL: 'error' },
      });
      expect(stdout).to.match(/Ran 1 due job/);

      const db = ON_POSTGRES ? t!.db : connect({ dataDir });
      try {
        // First the job: a handler that failed in the child leaves it pending with its error.
        const pending = await db('jobs').where({ case_id: started.caseId, status: 'pending' }).select('type', 'attempts', 'last_error');
        expect(pending, JSON.stringify(pending)).to.have.length(0);
        const tasks = await db('tasks').where({ case_id: started.caseId }).pluck('element_id');
        expect(tasks).to.deep.equal(['escalate']);
        const events = await db('case_events').where({ case_id: started.caseId }).orderBy('seq').select('type', 'element_id', 'actor_id');
        expect(events).to.deep.include({ type: 'timer.fired', element_id: 'late', actor_id: 'system:timer' });
        expect(events).to.deep.include({ type: 'activity.cancelled', element_id: 'answer', actor_id: 'system:timer' });
      } finally {
        if (!ON_POSTGRES) await db.destroy();
      }
    });
  });

  describe('Given 200 cases whose timers are due', () => {
    let t: TestDb;
    let s: TestSystem;
    before(async () => {
      t = await freshDb();
      s = await testSystem(t.db);
      await s.definitions.deploy(fixture('timer-catch.bpmn'), { deployedBy: 'test' });
    });
    after(() => t.close());

    it('When two executors (two nodes) race over them, then each timer fires exactly once', async function () {
      this.timeout(120_000);
      for (let i = 0; i < 200; i++) {
        await s.runtime.startCase({ processKey: 'timer-catch', variables: { delay: 'PT0.5S' }, actor: operator });
      }
      expect(await t.db('jobs').where({ status: 'pending' }).count('* as n').first()).to.deep.equal({ n: 200 });
      // On PostgreSQL the second node has its own connection pool; PGlite has one connection by design.
      // Both nodes run on the same clock, as nodes synchronised by NTP do.
      const second = await testSystem(t.another(), {}, { clock: s.clock });
      const handlers = (sys: TestSystem) => ({ timer: (job: any) => sys.runtime.fireTimer(job.id) });
      const a = new JobExecutor(s.db, { handlers: handlers(s), workerId: 'node-a', batchSize: 5, clock: s.clock });
      const b = new JobExecutor(second.db, { handlers: handlers(second), workerId: 'node-b', batchSize: 5, clock: s.clock });
      expect(await a.runOnce()).to.equal(0); // not due before the clock passes them
      s.clock.advance(600);
      const claimed: Record<string, number> = { 'node-a': 0, 'node-b': 0 };
      const originalClaim = (ex: JobExecutor) => {
        const claim = ex.claim.bind(ex);
        ex.claim = async () => {
          const jobs = await claim();
          claimed[ex.workerId] += jobs.length;
          return jobs;
        };
      };
      originalClaim(a);
      originalClaim(b);
      await Promise.all([a.drain(), b.drain()]);

      expect(claimed['node-a'] + claimed['node-b']).to.equal(200);
      if (ON_POSTGRES) {
        expect(claimed['node-a']).to.be.greaterThan(0);
        expect(claimed['node-b']).to.be.greaterThan(0);
      }
      const fired = await t.db('case_events').where({ type: 'timer.fired' }).select('case_id');
      expect(fired).to.have.length(200);
      expect(new Set(fired.map((f) => f.case_id)).size).to.equal(200);
      expect(await t.db('tasks').where({ element_id: 'after' }).count('* as n').first()).to.deep.equal({ n: 200 });
      expect(await t.db('jobs').count('* as n').first()).to.deep.equal({ n: 0 });
    });
  });

  describe('Given 120 cases whose timers are due, claimed in batches', () => {
    let t: TestDb;
    let s: TestSystem;
    before(async function () {
      this.timeout(120_000);
      t = await freshDb();
      s = await testSystem(t.db);
      await s.definitions.deploy(fixture('timer-catch.bpmn'), { deployedBy: 'test' });
    });
    after(() => t.close());

    it('When two nodes claim 40 at a time and fire up to 4 cases at once, then every timer fires exactly once', async function () {
      this.timeout(180_000);
      for (let i = 0; i < 120; i++) await s.runtime.startCase({ processKey: 'timer-catch', variables: { delay: 'PT0.5S' }, actor: operator });
      const second = await testSystem(t.another(), {}, { clock: s.clock });
      let inFlight = 0;
      let most = 0;
      const handlers = (sys: TestSystem) => ({
        timer: async (job: any) => {
          most = Math.max(most, ++inFlight);
          try {
            return await sys.runtime.fireTimer(job.id);
          } finally {
            inFlight--;
          }
        },
      });
      const a = new JobExecutor(s.db, { handlers: handlers(s), workerId: 'node-a', batchSize: 40, concurrency: 4, clock: s.clock });
      const b = new JobExecutor(second.db, { handlers: handlers(second), workerId: 'node-b', batchSize: 40, concurrency: 4, clock: s.clock });
      s.clock.advance(600);
      const batches: number[] = [];
      for (const ex of [a, b]) {
        const claim = ex.claim.bind(ex);
        ex.claim = async () => {
          const jobs = await claim();
          if (jobs.length) batches.push(jobs.length);
          return jobs;
        };
      }
      await Promise.all([a.drain(), b.drain()]);

      expect(batches.reduce((n, x) => n + x, 0)).to.equal(120);
      expect(Math.max(...batches)).to.equal(40); // one statement claims a whole batch
      expect(most).to.be.at.most(8); // two nodes, four cases each
      if (ON_POSTGRES) expect(most).to.be.greaterThan(1); // fired concurrently (PGlite has one connection: they queue)
      const fired = await t.db('case_events').where({ type: 'timer.fired' }).select('case_id');
      expect(fired).to.have.length(120);
      expect(new Set(fired.map((f) => f.case_id)).size).to.equal(120);
      expect(await t.db('tasks').where({ element_id: 'after' }).count('* as n').first()).to.deep.equal({ n: 120 });
      expect(await t.db('jobs').count('* as n').first()).to.deep.equal({ n: 0 });
      await second.close();
    });
  });

  describe('Given a job whose handler keeps failing', () => {
    let t: TestDb;
    before(async () => {
      t = await freshDb();
    });
    after(() => t.close());

    it('When it is retried, then attempts grow with backoff and after the last attempt it becomes an incident', async () => {
      const clock = new ManualClock(TEST_START);
      const [{ id }] = await t.db('jobs').insert({ type: 'sms', due_at: new Date(clock.now().getTime() - 1000), max_attempts: 3, payload: '{}' }).returning('id');
      let calls = 0;
      const ex = new JobExecutor(t.db, {
        handlers: {
          sms: async () => {
            calls++;
            throw new Error('gateway down');
          },
        },
        backoffMs: 1000,
        clock,
      });
      expect(await ex.runOnce()).to.equal(1);
      let job = await t.db('jobs').where({ id }).first();
      expect(job).to.include({ status: 'pending', attempts: 1, last_error: 'gateway down', locked_by: null });
      expect(new Date(job.due_at).getTime()).to.equal(clock.now().getTime() + 1000);
      expect(await ex.runOnce()).to.equal(0); // not due yet: backoff holds it
      clock.advance(1000);
      expect(await ex.runOnce()).to.equal(1);
      job = await t.db('jobs').where({ id }).first();
      expect(new Date(job.due_at).getTime()).to.equal(clock.now().getTime() + 2000); // doubled
      clock.advance(2000);
      expect(await ex.runOnce()).to.equal(1);
      job = await t.db('jobs').where({ id }).first();
      expect(job).to.include({ status: 'incident', attempts: 3 });
      clock.advance({ hours: 1 });
      expect(await ex.runOnce()).to.equal(0);
      expect(calls).to.equal(3);
    });

    it('When a node dies holding a lease, then the job is claimed again after the lease expires', async () => {
      const clock = new ManualClock(TEST_START);
      const [{ id }] = await t.db('jobs').insert({ type: 'noop', due_at: new Date(clock.now().getTime() - 1000), payload: '{}' }).returning('id');
      const dead = new JobExecutor(t.db, { handlers: {}, workerId: 'dead', leaseMs: 30_000, clock });
      expect((await dead.claim()).map((j) => String(j.id))).to.deep.equal([String(id)]);
      let ran = 0;
      const alive = new JobExecutor(t.db, {
        handlers: {
          noop: async () => {
            ran++;
            await t.db('jobs').where({ id }).update({ status: 'done' });
          },
        },
        workerId: 'alive',
        clock,
      });
      expect(await alive.runOnce()).to.equal(0);
      clock.advance(31_000);
      expect(await alive.runOnce()).to.equal(1);
      expect(ran).to.equal(1);
    });
  });
});

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from '../db/connect.js';
import { JobExecutor } from '../engine/jobs.js';
import { freshDb, ON_POSTGRES, type TestDb } from './helpers/db.js';
import { fixture, ROOT, testSystem, type TestSystem } from './helpers/system.js';

const run = promisify(execFile);
const operator = { id: 'test:operator', name: 'Operator', roles: ['operator'], agency: null };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
      // The first node: an on-disk embedded database, or a fresh PostgreSQL database.
      let env: Record<string, string>;
      let first: TestSystem;
      if (ON_POSTGRES) {
        t = await freshDb();
        first = await testSystem(t.db);
        env = { DATABASE_URL: t.url! };
      } else {
        dataDir = mkdtempSync(join(tmpdir(), 'pakn-restart-'));
        first = await testSystem(connect({ dataDir }), { dataDir });
        env = { PAKN_DATA_DIR: dataDir };
      }
      await first.definitions.deploy(fixture('timer-boundary.bpmn'), { deployedBy: 'test' });
      const started = await first.runtime.startCase({ processKey: 'timer-boundary', variables: { agency: 'SNNMT', timeout: 'PT1S' }, actor: operator });
      const jobs = await first.db('jobs').where({ case_id: started.caseId, status: 'pending' });
      expect(jobs).to.have.length(1);
      expect(jobs[0]).to.include({ type: 'timer', element_id: 'late' });
      if (!ON_POSTGRES) await first.db.destroy(); // the node goes away; only the database remains
      await sleep(1100);

      // A new process: the CLI's one-shot job run.
      const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'api', 'cli.ts'), 'jobs', 'drain'], {
        cwd: ROOT,
        env: { ...process.env, ...env, LOG_LEVEL: 'error' },
      });
      expect(stdout).to.match(/Ran 1 due job/);

      const db = ON_POSTGRES ? t!.db : connect({ dataDir });
      try {
        const tasks = await db('tasks').where({ case_id: started.caseId }).pluck('element_id');
        expect(tasks).to.deep.equal(['escalate']);
        const events = await db('case_events').where({ case_id: started.caseId }).orderBy('seq').select('type', 'element_id', 'actor_id');
        expect(events).to.deep.include({ type: 'timer.fired', element_id: 'late', actor_id: 'system:timer' });
        expect(events).to.deep.include({ type: 'activity.cancelled', element_id: 'answer', actor_id: 'system:timer' });
        expect(await db('jobs').where({ case_id: started.caseId, status: 'pending' })).to.have.length(0);
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
      await sleep(600);
      // On PostgreSQL the second node has its own connection pool; PGlite has one connection by design.
      const second = await testSystem(t.another());
      const handlers = (sys: TestSystem) => ({ timer: (job: any) => sys.runtime.fireTimer(job.id) });
      const a = new JobExecutor(s.db, { handlers: handlers(s), workerId: 'node-a', batchSize: 5 });
      const b = new JobExecutor(second.db, { handlers: handlers(second), workerId: 'node-b', batchSize: 5 });
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

  describe('Given a job whose handler keeps failing', () => {
    let t: TestDb;
    before(async () => {
      t = await freshDb();
    });
    after(() => t.close());

    it('When it is retried, then attempts grow with backoff and after the last attempt it becomes an incident', async () => {
      const [{ id }] = await t.db('jobs').insert({ type: 'sms', due_at: new Date(Date.now() - 1000), max_attempts: 3, payload: '{}' }).returning('id');
      let calls = 0;
      let now = Date.now();
      const ex = new JobExecutor(t.db, {
        handlers: {
          sms: async () => {
            calls++;
            throw new Error('gateway down');
          },
        },
        backoffMs: 1000,
        now: () => new Date(now),
      });
      expect(await ex.runOnce()).to.equal(1);
      let job = await t.db('jobs').where({ id }).first();
      expect(job).to.include({ status: 'pending', attempts: 1, last_error: 'gateway down', locked_by: null });
      expect(new Date(job.due_at).getTime()).to.equal(now + 1000);
      expect(await ex.runOnce()).to.equal(0); // not due yet: backoff holds it
      now += 1000;
      expect(await ex.runOnce()).to.equal(1);
      job = await t.db('jobs').where({ id }).first();
      expect(new Date(job.due_at).getTime()).to.equal(now + 2000); // doubled
      now += 2000;
      expect(await ex.runOnce()).to.equal(1);
      job = await t.db('jobs').where({ id }).first();
      expect(job).to.include({ status: 'incident', attempts: 3 });
      now += 3_600_000;
      expect(await ex.runOnce()).to.equal(0);
      expect(calls).to.equal(3);
    });

    it('When a node dies holding a lease, then the job is claimed again after the lease expires', async () => {
      const [{ id }] = await t.db('jobs').insert({ type: 'noop', due_at: new Date(Date.now() - 1000), payload: '{}' }).returning('id');
      let now = Date.now();
      const dead = new JobExecutor(t.db, { handlers: {}, workerId: 'dead', leaseMs: 30_000, now: () => new Date(now) });
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
        now: () => new Date(now),
      });
      expect(await alive.runOnce()).to.equal(0);
      now += 31_000;
      expect(await alive.runOnce()).to.equal(1);
      expect(ran).to.equal(1);
    });
  });
});

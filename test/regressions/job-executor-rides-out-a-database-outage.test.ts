import { expect } from 'chai';
import { connect, type Db, type DriverLog } from '../../db/connect.js';
import { ensurePeriodicJob, finishJob, type JobRow } from '../../db/jobs.js';
import { ManualClock } from '../../engine/clock.js';
import { JobExecutor, MAX_OUTAGE_POLL_MS } from '../../engine/jobs.js';
import { freshDb, ON_POSTGRES, type TestDb } from '../helpers/db.js';
import { Relay } from '../helpers/relay.js';
import { TEST_START } from '../helpers/system.js';

/**
 * Issue 15: during a database outage the job executor logged "job poll
 * failed" on every poll (once a second per node, for as long as the outage
 * lasted) and knex printed its own "Acquire connection error" with a stack
 * trace for every attempt, straight to stdout. Now the executor logs one
 * line when the outage starts and one when it heals, and backs off its
 * polls; knex's messages go through our logger, one line per outage.
 */
describe('Regression: the job executor rides out a database outage with one log line and backed-off polls', () => {
  type Line = { level: string; msg: string; data?: Record<string, unknown> };
  const capture = () => {
    const lines: Line[] = [];
    const driver: DriverLog = {
      debug: () => {},
      info: (data, msg) => lines.push({ level: 'info', msg, data: data as Record<string, unknown> }),
      warn: (data, msg) => lines.push({ level: 'warn', msg, data: data as Record<string, unknown> }),
      error: (data, msg) => lines.push({ level: 'error', msg, data: data as Record<string, unknown> }),
    };
    const executor = (level: string, msg: string, data?: Record<string, unknown>) => lines.push({ level, msg, data });
    return { lines, driver, executor };
  };
  /** Whatever knex would print itself (console.log), counted while `fn` runs. */
  async function printed(fn: () => Promise<void>): Promise<string[]> {
    const out: string[] = [];
    const original = { log: console.log, warn: console.warn, error: console.error };
    const keep = (...args: unknown[]) => void out.push(args.map(String).join(' '));
    Object.assign(console, { log: keep, warn: keep, error: keep });
    try {
      await fn();
    } finally {
      Object.assign(console, original);
    }
    return out;
  }

  it('Given a database where nothing listens, when the executor polls five times, then no poll throws, it logs one line, the waits double up to the cap, and knex logs one line of its own', async () => {
    const { lines, driver, executor } = capture();
    const nowhere = connect({ databaseUrl: 'postgres://postgres@127.0.0.1:1/x', poolMax: 1, log: driver });
    try {
      const jobs = new JobExecutor(nowhere, { handlers: {}, pollMs: 1000, clock: new ManualClock(TEST_START), log: executor });
      const waits: number[] = [];
      const out = await printed(async () => {
        for (let i = 0; i < 6; i++) waits.push(await jobs.tick());
      });
      expect(waits).to.deep.equal([2000, 4000, 8000, 16000, MAX_OUTAGE_POLL_MS, MAX_OUTAGE_POLL_MS]);
      expect(lines.filter((l) => /job executor: database unavailable/.test(l.msg))).to.have.length(1);
      expect(lines.filter((l) => l.msg === 'job poll failed')).to.have.length(0);
      expect(lines.filter((l) => /database connections failing/.test(l.msg))).to.have.length(1);
      expect(out.filter((l) => /Acquire connection error/.test(l)), 'nothing printed by knex itself').to.deep.equal([]);
    } finally {
      await nowhere.destroy();
    }
  });

  (ON_POSTGRES ? describe : describe.skip)('on PostgreSQL, through a relay that is cut and restored (skipped on PGlite: an embedded database cannot become unreachable)', () => {
    let t: TestDb;
    let relay: Relay;
    let nodeDb: Db;
    before(async () => {
      t = await freshDb();
      const real = new URL(t.url!);
      relay = new Relay({ host: real.hostname, port: Number(real.port || 5432) });
      await relay.open();
      const via = new URL(t.url!);
      via.hostname = '127.0.0.1';
      via.port = String(relay.port);
      nodeDb = connect({ databaseUrl: via.toString(), poolMax: 2, log: log.driver });
    });
    after(async () => {
      await nodeDb?.destroy();
      await t?.close();
    });
    const log = capture();

    it('Given a due job and a database that goes away, when the executor polls, then it backs off with one line; when the database is back, the job runs once and one line says so', async () => {
      const clock = new ManualClock(TEST_START);
      const ran: string[] = [];
      const jobs = new JobExecutor(nodeDb, {
        handlers: {
          probe: async (job: JobRow) => {
            ran.push(String(job.id));
            await finishJob(nodeDb, String(job.id), { status: 'done', at: clock.now() });
          },
        },
        pollMs: 500,
        clock,
        log: log.executor,
      });
      expect(await jobs.tick()).to.equal(500); // nothing due yet, the database answers
      await ensurePeriodicJob(t.db, 'probe', clock.now());

      await relay.cut();
      const waits: number[] = [];
      const out = await printed(async () => {
        for (let i = 0; i < 4; i++) waits.push(await jobs.tick());
      });
      expect(waits).to.deep.equal([1000, 2000, 4000, 8000]);
      expect(ran).to.deep.equal([]);
      expect(log.lines.filter((l) => /job executor: database unavailable/.test(l.msg))).to.have.length(1);
      expect(log.lines.filter((l) => /database connections failing/.test(l.msg))).to.have.length(1);
      expect(out.filter((l) => /Acquire connection error|Connection Error/.test(l))).to.deep.equal([]);

      await relay.open(); // same port: the database is back
      expect(await jobs.tick()).to.equal(0); // it ran the job: look again at once
      expect(ran).to.have.length(1);
      expect(await jobs.tick()).to.equal(500);
      expect(ran).to.have.length(1);
      expect(log.lines.filter((l) => /job executor: database reachable again/.test(l.msg))).to.have.length(1);
      expect(log.lines.filter((l) => /job executor: database reachable again/.test(l.msg))[0].data).to.deep.equal({ failedPolls: 4 });
      expect(log.lines.filter((l) => /database connections open again/.test(l.msg))).to.have.length(1);
      expect(log.lines.filter((l) => l.level === 'error')).to.have.length(1);
    });
  });
});

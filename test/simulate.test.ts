import { expect } from 'chai';
import { vietnamDayStart } from '../engine/vietnam-time.js';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from '../db/connect.js';
import { isoWeekOf } from '../engine/hotline/reports.js';
import { freshDb, ON_POSTGRES, type TestDb } from './helpers/db.js';
import { ROOT, testSystem } from './helpers/system.js';

const run = promisify(execFile);

/** The last simulated day: fixed, so the test does not depend on today's date (the calendar data has years it covers). */
const UNTIL = '2026-11-27';

describe('Traffic generator: npm run simulate', function () {
  this.timeout(300_000);
  let t: TestDb | undefined;
  let dataDir: string | undefined;
  after(async () => {
    await t?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('Given one simulated week through the API and the job executor, the weekly reports of that data reconcile', async () => {
    let env: Record<string, string>;
    if (ON_POSTGRES) {
      t = await freshDb();
      env = { DATABASE_URL: t.url! };
    } else {
      dataDir = mkdtempSync(join(tmpdir(), 'pakn-simulate-'));
      env = { PAKN_DATA_DIR: dataDir };
    }
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'simulate.ts'), '--weeks', '1', '--per-day', '4', '--seed', '11', '--until', UNTIL], {
      cwd: ROOT,
      env: { ...process.env, ...env, PAKN_SEED_DEMO: 'false', LOG_LEVEL: 'error' },
    });
    expect(stdout).to.match(/Simulated 1 week\(s\), 4 complaints per working day/);
    const db = ON_POSTGRES ? t!.db : connect({ dataDir });
    try {
      const s = await testSystem(db);
      const cases = Number(((await db('cases').count('* as n').first()) as any).n);
      expect(cases).to.be.greaterThan(20);
      const events = await db('case_events').whereIn('type', ['task.completed', 'sms.queued', 'timer.fired']).select('type');
      expect(events.some((e) => e.type === 'sms.queued')).to.equal(true);
      // The simulated week ends on UNTIL, whatever today's date is.
      const today = vietnamDayStart(UNTIL);
      const weeks = [isoWeekOf(new Date(today.getTime() - 7 * 86_400_000)).label, isoWeekOf(today).label];
      let received = 0;
      for (const week of weeks) {
        const res = await s.http.get(`/v1/reports/weekly?week=${week}`).set(await s.as('coordinator', 'VP-UBND'));
        expect(res.status).to.equal(200);
        expect(res.body.reconciliation.ok, week).to.equal(true);
        received += res.body.totals.received;
      }
      expect(received).to.equal(cases);
      const verify = await s.http.get('/v1/history/verify').set(await s.as('auditor'));
      expect(verify.body.ok).to.equal(true);
    } finally {
      if (!ON_POSTGRES) await db.destroy();
    }
  });
});

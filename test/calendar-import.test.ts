import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Db } from '../db/connect.js';
import { freshDb, ON_POSTGRES, type TestDb } from './helpers/db.js';
import { pakn } from './helpers/cli.js';

/** The 2028 decree as Home Affairs would type it, in the shape of processes/calendar/vn-holidays.json. */
const DECREE_2028 = {
  timeZone: 'Asia/Ho_Chi_Minh',
  weekend: [6, 7],
  years: {
    '2028': {
      source: 'Thông báo nghỉ lễ, Tết năm 2028 (thử nghiệm)',
      holidays: [
        { date: '2028-01-01', name: 'Tết Dương lịch' },
        { date: '2028-01-25', name: 'Tết Nguyên đán' },
      ],
      workingDays: [{ date: '2028-01-29', name: 'Làm bù' }],
    },
  },
};

describe('pakn calendar import: a year’s holiday decree from a file', function () {
  this.timeout(120_000);
  let dir: string;
  let t: TestDb | undefined;
  let env: Record<string, string>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pakn-calendar-'));
    if (ON_POSTGRES) {
      t = await freshDb();
      env = { DATABASE_URL: t.url! };
    } else {
      env = { PAKN_DATA_DIR: join(dir, 'data') };
    }
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const db = ON_POSTGRES ? connect({ databaseUrl: t!.url! }) : connect({ dataDir: env.PAKN_DATA_DIR });
    try {
      return await fn(db);
    } finally {
      await db.destroy();
    }
  }

  it('Given a decree file for 2028, when imported, then the year is stored with the importer in the history; importing it again changes nothing', async () => {
    const file = join(dir, 'nghi-le-2028.json');
    writeFileSync(file, JSON.stringify(DECREE_2028));
    const r = await pakn(['calendar', 'import', file], env);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('2028: 2 day(s) off, 1 make-up working day(s) — added');
    const again = await pakn(['calendar', 'import', file, '--year', '2028'], env);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.contain('2028: 2 day(s) off, 1 make-up working day(s) — unchanged');
    await withDb(async (db) => {
      const year = await db('calendar_years').where({ year: 2028 }).first();
      expect(year.source).to.equal('api');
      expect(year.updated_by).to.match(/^cli:/);
      const events = await db('case_events').whereNull('case_id').where({ type: 'calendar.changed' });
      expect(events).to.have.length(1);
      expect(events[0].payload.after.holidays.map((d: any) => d.date)).to.deep.equal(['2028-01-01', '2028-01-25']);
    });
  });

  it('Given a file with a mistake, then it exits 1 naming the day and imports nothing', async () => {
    const file = join(dir, 'sai.json');
    writeFileSync(file, JSON.stringify({ years: { '2029': { holidays: [{ date: '2029-02-30', name: 'Ngày không có' }] }, '2030': { holidays: [] } } }));
    const r = await pakn(['calendar', 'import', file], env);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('/years/2029/holidays/0/date must be a real YYYY-MM-DD date');
    await withDb(async (db) => {
      expect(await db('calendar_years').whereIn('year', [2029, 2030])).to.have.length(0);
    });
    expect((await pakn(['calendar', 'import'], env)).code).to.equal(2);
  });
});

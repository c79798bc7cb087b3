import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../engine/clock.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline, type Key } from './helpers/scenario.js';
import { ROOT, testSystem, type TestSystem } from './helpers/system.js';

const SHIPPED = JSON.parse(readFileSync(join(ROOT, 'processes', 'calendar', 'vn-holidays.json'), 'utf8'));
const INTAKE = { title: 'Đèn đường hỏng', description: 'Đèn đường khu phố 3 không sáng.', channel: 'call' };

describe('Working-day calendar through the API: holidays per year, in force on every node, never stopping intake', function () {
  this.timeout(90_000);
  let t: TestDb;
  let h: Hotline;
  let analyst: Key;

  before(async () => {
    t = await freshDb();
    // Monday 2 November 2026, 09:00 in Vietnam (TEST_START).
    h = await Hotline.open(t.db);
    analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
  });
  after(() => t.close());

  const classifyDue = async (s: TestSystem, key: Key) => {
    const res = await s.http.post('/v1/cases').set(key).send({ variables: INTAKE });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return { code: res.body.code as string, due: res.body.tasks.find((x: any) => x.elementId === 'classify').due as string };
  };

  it('Given GET ?year=2026, then the shipped holidays and make-up days are served', async () => {
    const res = await h.s.http.get('/v1/catalogue/calendar?year=2026').set(h.keys.operator);
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ year: 2026, covered: true, fallback: null, storedFrom: 'file', updatedBy: 'system:seed' });
    expect(res.body.holidays.map((d: any) => d.date)).to.include('2026-09-02');
    expect(res.body.workingDays.map((d: any) => d.date)).to.deep.equal(['2026-01-10', '2026-08-22']);
    expect(res.body.years).to.include.members([2025, 2026, 2027]);
    expect(res.body.missingYears).to.deep.equal([]);
  });

  it('Given an analyst adds a day off on Tuesday 3 November 2026, then a new case on either node is due a day later, an open case keeps its deadline, and history has before and after', async () => {
    const key2 = await h.s.as('operator', 'TONG-DAI-1022');
    const second = await testSystem(t.db, {}, { clock: h.s.clock });
    const op2 = await second.as('operator', 'TONG-DAI-1022');
    const open = await classifyDue(h.s, key2);
    expect(open.due).to.equal('2026-11-03T10:00:00.000Z'); // Tuesday 17:00 +07:00

    const year2026 = SHIPPED.years['2026'];
    const body = { ...year2026, holidays: [...year2026.holidays, { date: '2026-11-03', name: 'Nghỉ đột xuất theo quyết định của UBND tỉnh' }] };
    const res = await h.s.http.put('/v1/catalogue/calendar/2026').set(analyst).send(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ storedFrom: 'api', updatedBy: analyst.id });

    expect((await classifyDue(second, op2)).due, 'the other node, no restart').to.equal('2026-11-04T10:00:00.000Z');
    expect((await classifyDue(h.s, key2)).due).to.equal('2026-11-04T10:00:00.000Z');
    const kept = await h.case(open.code);
    expect(kept.tasks.find((x: any) => x.elementId === 'classify').due).to.equal('2026-11-03T10:00:00.000Z');
    // The open case moves on after the change: its next deadline is computed with the calendar in force now.
    await h.act(open.code, 'classify', 'operator', { field: 'TU-PHAP', unit: 'X-LONG-THANH', procedure: 'HT-DANG-KY-KHAI-SINH' });
    const handle = await h.task(open.code, 'handle', 'VP-X-LONG-THANH');
    // 7 working days after Monday 2 November, Tuesday 3 off: 4, 5, 6, 9, 10, 11, 12 → Thursday 12 November 17:00 (not Wednesday 11).
    expect(handle.due).to.equal('2026-11-12T10:00:00.000Z');

    const [event] = await t.db('case_events').whereNull('case_id').where({ type: 'calendar.changed' });
    expect(event.actor_id).to.equal(analyst.id);
    expect(event.payload.year).to.equal(2026);
    expect(event.payload.before.holidays).to.have.length(year2026.holidays.length);
    expect(event.payload.after.holidays).to.have.length(year2026.holidays.length + 1);
  });

  it('Given a wrong year body, then 422 names the day, nothing changes; an operator may not write', async () => {
    const bad = await h.s.http
      .put('/v1/catalogue/calendar/2027')
      .set(analyst)
      .send({ holidays: [{ date: '2028-01-01', name: 'Tết Dương lịch' }], workingDays: [{ date: '2027-03-03', name: 'Làm bù' }] });
    expect(bad.status).to.equal(422);
    expect(bad.type).to.equal('application/problem+json');
    expect(bad.body.errors).to.deep.equal([
      { path: '/holidays/0/date', message: '2028-01-01 is not in 2027' },
      { path: '/workingDays/0/date', message: '2027-03-03 is not a weekend day, so listing it as a make-up working day changes nothing (typo?)' },
    ]);
    const noName = await h.s.http.put('/v1/catalogue/calendar/2027').set(analyst).send({ holidays: [{ date: '2027-01-01' }] });
    expect(noName.status).to.be.oneOf([400, 422]);
    expect(noName.body.errors.map((e: any) => e.path)).to.include('/holidays/0/name');
    expect((await h.s.http.get('/v1/catalogue/calendar?year=2027').set(h.keys.operator)).body.storedFrom).to.equal('file');
    expect((await h.s.http.put('/v1/catalogue/calendar/2027').set(h.keys.operator).send({ holidays: [] })).status).to.equal(403);
  });

  it('Given 1 October 2027 and no data for 2028, then the API, the metrics and GET ?year=2028 warn; on 30 September they do not', async () => {
    const clock = h.s.clock as ManualClock;
    const was = clock.now();
    try {
      clock.set('2027-09-30T10:00:00+07:00');
      expect((await h.s.http.get('/v1/catalogue/calendar').set(analyst)).body.missingYears).to.deep.equal([]);
      clock.set('2027-10-01T08:00:00+07:00');
      const res = await h.s.http.get('/v1/catalogue/calendar').set(analyst);
      expect(res.body.year).to.equal(2027);
      expect(res.body.missingYears).to.deep.equal([2028]);
      expect(res.body.warnings[0]).to.contain('Chưa có lịch nghỉ lễ, Tết năm 2028');
      const next = await h.s.http.get('/v1/catalogue/calendar?year=2028').set(analyst);
      expect(next.body).to.include({ covered: false, fallback: 'monday-friday', storedFrom: null });
      const metrics = await h.s.http.get('/metrics').set(await h.s.as('admin'));
      expect(metrics.text).to.match(/pakn_calendar_missing_year\{year="2028"\} 1/);
    } finally {
      clock.set(was);
    }
  });

  it('Given January 2028 without data, then intake goes on with Monday–Friday deadlines and the case is flagged; once 2028 is entered, deadlines use it and new cases are not flagged', async () => {
    // A node whose clock is in 2028 (its history partitions are made for that month).
    const node = await testSystem(t.db, {}, { clock: new ManualClock('2028-01-04T02:00:00.000Z') }); // Tuesday 09:00 +07:00
    const op = await node.as('operator', 'TONG-DAI-1022');
    const auditor = await node.as('auditor');
    const first = await classifyDue(node, op);
    expect(first.due).to.equal('2028-01-05T10:00:00.000Z');
    const history = await node.http.get(`/v1/cases/${first.code}/history`).set(auditor);
    expect(history.status).to.equal(200);
    const flag = history.body.events.find((e: any) => e.type === 'calendar.fallback');
    expect(flag, 'calendar.fallback in the case history').to.not.equal(undefined);
    expect(flag.payload.years).to.deep.equal([2028]);
    const flagged = await node.http.get(`/v1/cases/${first.code}`).set(op);
    expect(flagged.body.flags, 'the case itself shows the flag').to.deep.equal(['calendar.fallback']);

    const put = await node.http.put('/v1/catalogue/calendar/2028').set(await node.as('analyst', 'SNV')).send({ holidays: [{ date: '2028-01-05', name: 'Ngày nghỉ thử nghiệm' }], provisional: true });
    expect(put.status, JSON.stringify(put.body)).to.equal(201);
    const second = await classifyDue(node, op);
    expect(second.due).to.equal('2028-01-06T10:00:00.000Z');
    const after = await node.http.get(`/v1/cases/${second.code}/history`).set(auditor);
    expect(after.body.events.some((e: any) => e.type === 'calendar.fallback')).to.equal(false);
    expect((await node.http.get(`/v1/cases/${second.code}`).set(op)).body.flags).to.deep.equal([]);
  });
});

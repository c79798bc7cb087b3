import { expect } from 'chai';
import { join } from 'node:path';
import { LiveCalendar, readCalendarFile, WorkingCalendar, CalendarYearMissingError, checkCalendarYear } from '../engine/hotline/calendar.js';
import { ROOT } from './helpers/system.js';

const SHIPPED = readCalendarFile(join(ROOT, 'processes', 'calendar', 'vn-holidays.json'));

describe('Working-day calendar without data for a year: Monday to Friday, never an error, for the running hotline', () => {
  it('Given the shipped years (to 2027), when a deadline runs from 30 December 2027 into 2028, then 2028 counts Monday to Friday', () => {
    const live = new LiveCalendar(SHIPPED);
    live.load(SHIPPED.years);
    // Thursday 30 Dec 2027 + 3 working days: Fri 31 Dec, Mon 3 Jan 2028, Tue 4 Jan 2028 (1 January 2028 is a Saturday).
    expect(live.addWorkingDays('2027-12-30T09:00:00+07:00', 3).toISOString()).to.equal('2028-01-04T10:00:00.000Z');
    expect(live.isWorkingDay('2028-01-01')).to.equal(false);
    expect(live.isWorkingDay('2028-01-03')).to.equal(true);
    expect(live.missingBetween(new Date('2027-12-30T02:00:00Z'), new Date('2028-01-04T10:00:00Z'))).to.deep.equal([2028]);
    expect(live.missingBetween(new Date('2027-12-01T02:00:00Z'), new Date('2027-12-20T10:00:00Z'))).to.deep.equal([]);
  });

  it('Given the same data read as a file (pakn lint, tools), then a missing year is still refused with CalendarYearMissingError', () => {
    expect(() => new WorkingCalendar(SHIPPED).isWorkingDay('2028-01-03')).to.throw(CalendarYearMissingError);
  });

  it('Given a year loaded later, then the same call uses its holidays', () => {
    const live = new LiveCalendar(SHIPPED);
    live.load({ ...SHIPPED.years, 2028: { holidays: [{ date: '2028-01-03', name: 'Nghỉ bù Tết Dương lịch' }] } });
    expect(live.isWorkingDay('2028-01-03')).to.equal(false);
    expect(live.covers(2028)).to.equal(true);
  });

  it('Given a year body with mistakes, then each is named by JSON pointer', () => {
    expect(
      checkCalendarYear(2028, { holidays: [{ date: '2028-02-30', name: 'x' }, { date: '2028-01-01', name: '' }, { date: '2028-01-01', name: 'Tết' }, { date: '2028-01-01', name: 'Tết' }], workingDays: [{ date: '2028-01-05', name: 'bù' }] }, [6, 7]),
    ).to.deep.equal([
      { path: '/holidays/0/date', message: 'must be a real YYYY-MM-DD date, got "2028-02-30"' },
      { path: '/holidays/1/name', message: 'is required' },
      { path: '/holidays/3/date', message: '2028-01-01 is listed twice' },
      { path: '/workingDays/0/date', message: '2028-01-05 is not a weekend day, so listing it as a make-up working day changes nothing (typo?)' },
    ]);
  });
});

import { expect } from 'chai';
import { evaluate } from 'feelin';
import { feelClock, ManualClock } from '../../engine/clock.js';
import {
  CalendarYearMissingError,
  WorkingCalendar,
  feelFunctions,
  formatVietnamTime,
  loadCalendar,
  type CalendarData,
} from '../../engine/hotline/calendar.js';

// The real file Home Affairs maintains, so the tests also guard the data.
const calendar = loadCalendar(new URL('../../processes/calendar/vn-holidays.json', import.meta.url));
const fns = feelFunctions(calendar);

/** Vietnam wall-clock time → instant, so the cases read like the office diary. */
const vn = (wall: string): Date => new Date(`${wall}+07:00`);
const due = (from: Date, n: number): string => formatVietnamTime(calendar.addWorkingDays(from, n));
const feel = (expression: string): unknown => evaluate(expression, fns).value;

describe('Working-day calendar (processes/calendar/vn-holidays.json)', () => {
  describe('Given the calendar file', () => {
    it('then it covers 2025, 2026 and 2027 and marks only 2027 as provisional', () => {
      expect(calendar.years).to.deep.equal([2025, 2026, 2027]);
      expect(calendar.isProvisional(2025)).to.equal(false);
      expect(calendar.isProvisional(2026)).to.equal(false);
      expect(calendar.isProvisional(2027)).to.equal(true);
    });

    it('then 2025 and 2026 each have 250 working days (261 weekdays − weekday days off + make-up Saturdays)', () => {
      expect(calendar.workingDaysBetween('2024-12-31T12:00:00+07:00', '2025-12-31'), '2025: 261 − 12 + 1').to.equal(250);
      expect(calendar.workingDaysBetween('2025-12-31', '2026-12-31'), '2026: 261 − 13 + 2').to.equal(250);
    });
  });

  describe('Given a normal week (9–13 March 2026)', () => {
    it('when a case arrives Monday 09:00 with 5 working days, then it is due the next Monday at 17:00', () => {
      expect(due(vn('2026-03-09T09:00:00'), 5)).to.equal('2026-03-16T17:00:00+07:00');
    });

    it('when a case arrives Monday 20:00 (after hours) with 1 working day, then it is due Tuesday 17:00', () => {
      expect(due(vn('2026-03-09T20:00:00'), 1)).to.equal('2026-03-10T17:00:00+07:00');
    });

    it('when 10 working days are added, then two weeks pass', () => {
      expect(due(vn('2026-03-09T09:00:00'), 10)).to.equal('2026-03-23T17:00:00+07:00');
    });

    it('when a UTC instant is already the next morning in Vietnam, then the Vietnam date counts', () => {
      // 2026-03-12T23:30Z is Friday 13 March 06:30 in Vietnam.
      expect(formatVietnamTime(calendar.addWorkingDays(new Date('2026-03-12T23:30:00Z'), 1))).to.equal('2026-03-16T17:00:00+07:00');
    });
  });

  describe('Given a weekend', () => {
    it('when a case arrives Friday 16:00 with 1 working day, then it is due Monday 17:00', () => {
      expect(due(vn('2026-03-13T16:00:00'), 1)).to.equal('2026-03-16T17:00:00+07:00');
    });

    it('when a case arrives on Saturday or Sunday with 1 working day, then Monday is day 1', () => {
      expect(due(vn('2026-03-14T10:00:00'), 1)).to.equal('2026-03-16T17:00:00+07:00');
      expect(due(vn('2026-03-15T23:59:00'), 1)).to.equal('2026-03-16T17:00:00+07:00');
    });

    it('then Saturday and Sunday are not working days', () => {
      expect(calendar.isWorkingDay('2026-03-14')).to.equal(false);
      expect(calendar.isWorkingDay('2026-03-15')).to.equal(false);
      expect(calendar.isWorkingDay('2026-03-16')).to.equal(true);
    });
  });

  describe('Given Tết Bính Ngọ 2026 (off Saturday 14 – Sunday 22 February)', () => {
    it('then the five Tết days are not working days and Monday 23 February is', () => {
      for (const d of ['2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19', '2026-02-20']) {
        expect(calendar.isWorkingDay(d), d).to.equal(false);
      }
      expect(calendar.isWorkingDay('2026-02-13')).to.equal(true);
      expect(calendar.isWorkingDay('2026-02-23')).to.equal(true);
    });

    it('when a case arrives on Friday 13 February (the last working day before Tết) with 1 working day, then it is due Monday 23 February 17:00', () => {
      expect(due(vn('2026-02-13T10:00:00'), 1)).to.equal('2026-02-23T17:00:00+07:00');
    });

    it('when it has 3 working days, then it is due Wednesday 25 February 17:00', () => {
      expect(due(vn('2026-02-13T10:00:00'), 3)).to.equal('2026-02-25T17:00:00+07:00');
    });

    it('when a case arrives during Tết, then counting starts from the first working day after it', () => {
      expect(due(vn('2026-02-17T08:00:00'), 1)).to.equal('2026-02-23T17:00:00+07:00');
    });

    it('then 13 → 23 February is one working day', () => {
      expect(calendar.workingDaysBetween(vn('2026-02-13T10:00:00'), vn('2026-02-23T09:00:00'))).to.equal(1);
    });
  });

  describe('Given holidays and compensatory days off in April–May 2026', () => {
    it('when a case arrives on the compensatory Monday after Giỗ Tổ (27 April), then Tuesday is day 1 and 30 April–3 May are skipped', () => {
      expect(calendar.isWorkingDay('2026-04-27')).to.equal(false);
      expect(due(vn('2026-04-27T09:00:00'), 1)).to.equal('2026-04-28T17:00:00+07:00');
      expect(due(vn('2026-04-27T09:00:00'), 2)).to.equal('2026-04-29T17:00:00+07:00');
      expect(due(vn('2026-04-27T09:00:00'), 3)).to.equal('2026-05-04T17:00:00+07:00');
    });
  });

  describe('Given a make-up Saturday (làm bù)', () => {
    it('then Saturday 10 January 2026 is a working day and the swapped Friday 2 January is not', () => {
      expect(calendar.isWorkingDay('2026-01-10')).to.equal(true);
      expect(calendar.isWorkingDay('2026-01-02')).to.equal(false);
      expect(calendar.isWorkingDay('2026-08-22')).to.equal(true);
      expect(calendar.isWorkingDay('2026-08-31')).to.equal(false);
    });

    it('when a case arrives Friday 9 January 16:00 with 1 working day, then it is due Saturday 10 January 17:00', () => {
      expect(due(vn('2026-01-09T16:00:00'), 1)).to.equal('2026-01-10T17:00:00+07:00');
    });

    it('when a case arrives on 31 December 2025 with 1 working day, then New Year, the swapped Friday and the weekend are skipped', () => {
      expect(due(vn('2025-12-31T10:00:00'), 1)).to.equal('2026-01-05T17:00:00+07:00');
    });

    it('when the 2025 swap is checked, then Saturday 26 April 2025 is worked and Friday 2 May 2025 is off', () => {
      expect(calendar.isWorkingDay('2025-04-26')).to.equal(true);
      expect(calendar.isWorkingDay('2025-05-02')).to.equal(false);
    });
  });

  describe('Given a negative count (reminders before a deadline)', () => {
    it('when the deadline is Friday 20 March 17:00 and the reminder is 2 working days before, then it is Wednesday 18 March 17:00', () => {
      expect(due(vn('2026-03-20T17:00:00'), -2)).to.equal('2026-03-18T17:00:00+07:00');
    });

    it('when counting back across Tết from Wednesday 25 February, then 3 working days before is Friday 13 February', () => {
      expect(due(vn('2026-02-25T17:00:00'), -3)).to.equal('2026-02-13T17:00:00+07:00');
    });

    it('then working days between is negative when the end is before the start', () => {
      expect(calendar.workingDaysBetween('2026-03-16', '2026-03-09')).to.equal(-5);
      expect(calendar.workingDaysBetween('2026-03-09', '2026-03-16')).to.equal(5);
      expect(calendar.workingDaysBetween(vn('2026-03-09T08:00:00'), vn('2026-03-09T18:00:00'))).to.equal(0);
    });

    it('then counting back and forth from a working day round-trips through working days between', () => {
      const from = vn('2026-02-12T11:00:00');
      for (const n of [-12, -3, -1, 0, 1, 2, 5, 15, 40]) {
        expect(calendar.workingDaysBetween(from, calendar.addWorkingDays(from, n)), `n = ${n}`).to.equal(n);
      }
    });
  });

  describe('Given n = 0', () => {
    it('then the deadline is 17:00 of the same working day, or of the next working day after a day off', () => {
      expect(due(vn('2026-03-13T09:00:00'), 0)).to.equal('2026-03-13T17:00:00+07:00');
      expect(due(vn('2026-03-14T09:00:00'), 0)).to.equal('2026-03-16T17:00:00+07:00');
    });
  });

  describe('Given a year the calendar has no data for', () => {
    it('when asking about 2028, then a CalendarYearMissingError names the year and the file Home Affairs must update', () => {
      expect(() => calendar.isWorkingDay('2028-01-03'))
        .to.throw(CalendarYearMissingError, /no data for 2028.*Home Affairs.*add year 2028 to processes\/calendar\/vn-holidays\.json/);
    });

    it('when a deadline would run from late December 2027 into 2028, then it is refused rather than guessed', () => {
      let caught: unknown;
      try {
        calendar.addWorkingDays(vn('2027-12-29T09:00:00'), 5);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(CalendarYearMissingError);
      expect((caught as CalendarYearMissingError).year).to.equal(2028);
      expect((caught as CalendarYearMissingError).coveredYears).to.deep.equal([2025, 2026, 2027]);
    });

    it('when counting back into 2024, then 2024 is reported missing', () => {
      expect(() => calendar.addWorkingDays(vn('2025-01-02T09:00:00'), -2)).to.throw(/no data for 2024/);
    });
  });

  describe('Given bad input', () => {
    it('then a fractional count or an unparseable date is refused with a clear message', () => {
      expect(() => calendar.addWorkingDays(vn('2026-03-09T09:00:00'), 1.5)).to.throw(TypeError, /whole number/);
      expect(() => calendar.isWorkingDay('13/02/2026')).to.throw(TypeError, /ISO 8601/);
      expect(() => calendar.isWorkingDay(new Date('nonsense'))).to.throw(TypeError, /invalid Date/);
    });

    it('then a malformed calendar file is rejected with every problem listed', () => {
      const bad: CalendarData = {
        timeZone: 'Asia/Ho_Chi_Minh',
        weekend: [6, 7],
        years: {
          '2026': {
            holidays: [
              { date: '2026-02-30', name: 'not a date' },
              { date: '2025-12-31', name: 'wrong year' },
            ],
            workingDays: [{ date: '2026-03-09', name: 'a Monday' }],
          },
        },
      };
      expect(() => new WorkingCalendar(bad)).to.throw(/2026-02-30[\s\S]*not in 2026[\s\S]*not a weekend day/);
    });
  });

  describe('Given the FEEL functions evaluated by feelin', () => {
    it('when "add working days" gets a zoned date and time, then it returns ISO text with +07:00 that new Date() reads back', () => {
      const value = feel('add working days(date and time("2026-02-13T10:00:00@Asia/Ho_Chi_Minh"), 1)');
      expect(value).to.equal('2026-02-23T17:00:00+07:00');
      expect(new Date(value as string).toISOString()).to.equal('2026-02-23T10:00:00.000Z');
    });

    it('when it gets a FEEL date, a UTC date and time, a zone-less date and time or a string, then all mean the Vietnam date', () => {
      expect(feel('add working days(date("2026-02-13"), 1)')).to.equal('2026-02-23T17:00:00+07:00');
      expect(feel('add working days(@"2026-02-13", 1)')).to.equal('2026-02-23T17:00:00+07:00');
      expect(feel('add working days(date and time("2026-02-12T23:30:00Z"), 1)')).to.equal('2026-02-23T17:00:00+07:00');
      expect(feel('add working days(date and time("2026-02-13T10:00:00"), 1)')).to.equal('2026-02-23T17:00:00+07:00');
      expect(feel('add working days("2026-03-13T16:00:00+07:00", 1)')).to.equal('2026-03-16T17:00:00+07:00');
    });

    it('when it is called with named arguments or a negative count, then it still works', () => {
      expect(feel('add working days(from: date("2026-03-13"), n: 1)')).to.equal('2026-03-16T17:00:00+07:00');
      expect(feel('add working days(date and time("2026-02-25T17:00:00+07:00"), -3)')).to.equal('2026-02-13T17:00:00+07:00');
    });

    it('when "add working days(now(), 10)" is evaluated on the node’s clock, then the result is the 10th working day after it at 17:00 +07:00', () => {
      // now() is the node's clock (engine/clock.ts feelClock), not the machine's date: Friday 13 March 2026, 09:00 in Vietnam.
      const onClock = (expression: string) => evaluate(expression, { ...fns, ...feelClock(new ManualClock('2026-03-13T02:00:00Z')) }).value;
      expect(onClock('add working days(now(), 10)')).to.equal('2026-03-27T17:00:00+07:00');
      expect(onClock('date and time(add working days(now(), 1)) > now()')).to.equal(true);
      expect(onClock('string(today())')).to.equal('2026-03-13');
    });

    it('when "working days between" and "is working day" are evaluated, then they answer from the same data', () => {
      expect(feel('working days between(date("2026-02-13"), date("2026-02-23"))')).to.equal(1);
      expect(feel('working days between(@"2026-03-16", @"2026-03-09")')).to.equal(-5);
      expect(feel('is working day(date("2026-01-10"))')).to.equal(true);
      expect(feel('is working day(@"2026-02-17")')).to.equal(false);
      expect(feel('is working day("2026-02-23")')).to.equal(true);
    });

    it('when a date is in a missing year or an argument is null, then the evaluation throws instead of yielding null', () => {
      expect(() => feel('add working days(@"2028-01-03", 1)')).to.throw(/no data for 2028/);
      expect(() => feel('add working days(null, 1)')).to.throw(/add working days: from must be a date/);
      expect(() => feel('add working days(@"2026-03-09", 1.5)')).to.throw(/whole number/);
    });
  });
});

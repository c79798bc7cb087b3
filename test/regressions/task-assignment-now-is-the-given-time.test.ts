import { expect } from 'chai';
import { join } from 'node:path';
import { loadCalendar, feelFunctions } from '../../engine/hotline/calendar.js';
import { taskAssignment } from '../../engine/feel.js';
import { ROOT } from '../helpers/system.js';

/**
 * Issue 13: a dry run replayed a task's deadline `=add working days(now(), 1)`
 * with feelin's own now() (the machine's date), not the replay's time: on a
 * machine dated 2029 every replay failed for want of 2029 calendar data.
 */
describe('Regression: a task deadline evaluates now() as the time it is given', () => {
  it('Given Friday 13 March 2026 09:00 in Vietnam, then "add working days(now(), 1)" is Monday 16 March 17:00, whatever the machine’s date', () => {
    const functions = feelFunctions(loadCalendar(join(ROOT, 'processes', 'calendar', 'vn-holidays.json')));
    const { due } = taskAssignment({ dueDate: '=add working days(now(), 1)' }, {}, new Date('2026-03-13T02:00:00Z'), functions);
    expect(due?.toISOString()).to.equal('2026-03-16T10:00:00.000Z');
  });
});

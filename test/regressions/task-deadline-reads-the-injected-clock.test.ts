import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Issue 13: a task's deadline written `=add working days(now(), 1)` was
 * evaluated with feelin's own now() (the machine's date), not the node's
 * clock: on a clock in November 2026 the classification step was due the day
 * after the real today.
 */
describe('Regression: a task deadline is computed on the node’s clock, not the machine’s date', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given the clock at Monday 2 November 2026 09:00 (Vietnam), when a call is taken, then classification is due Tuesday 3 November 17:00', async () => {
    h.s.clock.set('2026-11-02T02:00:00Z');
    const kase = await h.intake({ title: 'Đèn tín hiệu giao thông hỏng', channel: 'call' });
    expect(kase.tasks[0]).to.include({ elementId: 'classify', due: '2026-11-03T10:00:00.000Z' });
  });
});

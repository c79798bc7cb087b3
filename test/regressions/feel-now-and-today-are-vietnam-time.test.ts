import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Issue 15: FEEL today() and now(), and so receivedAt, were in UTC while
 * dueAt is +07:00: between 00:00 and 07:00 Vietnam time "today" was yesterday.
 */
describe('Regression: FEEL now() and today() are Vietnam time', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given a call at 06:30 on Tuesday 3 November 2026 in Vietnam (23:30 UTC the day before), then receivedAt says 3 November at +07:00', async () => {
    h.s.clock.set('2026-11-02T23:30:00Z');
    const kase = await h.intake({ title: 'Mất điện từ nửa đêm', channel: 'call' });
    expect(kase.variables.receivedAt).to.equal('2026-11-03T06:30:00+07:00');
    // The classification deadline counts from Tuesday (Vietnam), so it is Wednesday's end of day.
    expect(kase.tasks[0]).to.include({ elementId: 'classify', due: '2026-11-04T10:00:00.000Z' });
  });
});

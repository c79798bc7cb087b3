import { expect } from 'chai';
import { join } from 'node:path';
import { deployProcesses } from '../../api/system.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';
import { ROOT } from '../helpers/system.js';

/**
 * Regression: saving a catalogue entry or a calendar year without changing it
 * was recorded as a change (a catalogue.changed / calendar.changed event, the
 * reference version bumped, the entry marked as the analyst's): the stored
 * jsonb comes back with its keys in another order than the body, and the two
 * were compared as text. The same made every start seed every shipped entry again.
 */
describe('Regression: an unchanged catalogue entry or calendar year saved again is not a change', function () {
  this.timeout(60_000);
  let t: TestDb;
  let h: Hotline;

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  const events = async (type: string) => (await t.db('case_events').whereNull('case_id').where({ type })).length;

  it('Given an agency read with GET and sent back as it is, then the answer is 200 and history has no new change', async () => {
    const analyst = await h.s.as('analyst', 'SNV');
    const entry = (await h.s.http.get('/v1/catalogue/agencies/SYT').set(analyst)).body;
    // Keys in the order a page or a script may send them (not the order jsonb stores).
    const reordered = Object.fromEntries(Object.entries(entry).reverse());
    const first = await h.s.http.put('/v1/catalogue/agencies/SYT').set(analyst).send({ ...reordered, name: 'Sở Y tế tỉnh Đồng Nai' });
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    expect(await events('catalogue.changed')).to.equal(1);

    const again = await h.s.http.put('/v1/catalogue/agencies/SYT').set(analyst).send({ ...reordered, name: 'Sở Y tế tỉnh Đồng Nai' });
    expect(again.status).to.equal(200);
    expect(await events('catalogue.changed'), 'the same entry again').to.equal(1);
  });

  it('Given a year saved twice with the same days, then the second is no change', async () => {
    const analyst = await h.s.as('analyst', 'SNV');
    const year = { source: 'Thông báo thử', provisional: true, holidays: [{ name: 'Tết Dương lịch', date: '2029-01-01' }], workingDays: [] };
    expect((await h.s.http.put('/v1/catalogue/calendar/2029').set(analyst).send(year)).status).to.equal(201);
    expect(await events('calendar.changed')).to.equal(1);
    expect((await h.s.http.put('/v1/catalogue/calendar/2029').set(analyst).send(year)).status).to.be.oneOf([200, 201]);
    expect(await events('calendar.changed'), 'the same year again').to.equal(1);
  });

  it('Given a node starts again with the same processes/ files, then the catalogue and calendar are not seeded again', async () => {
    const seeded = (await events('catalogue.seeded')) + (await events('calendar.seeded'));
    await deployProcesses(h.s, join(ROOT, 'processes'));
    expect((await events('catalogue.seeded')) + (await events('calendar.seeded')), 'a start with the same files').to.equal(seeded);
  });
});

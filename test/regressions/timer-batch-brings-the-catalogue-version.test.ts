import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';
import { fixture, testSystem, type TestSystem } from '../helpers/system.js';

/**
 * Issue 20: every timer firing first read the reference data's version (is
 * this node's catalogue and calendar current?), one statement of nine per
 * firing. The claim of a batch brings the version along now; a change made
 * by another node before the claim is still in force for the firing.
 */
describe('Regression: a timer batch is claimed with the catalogue version, and a firing reads it no more', () => {
  let t: TestDb;
  let s: TestSystem;
  let second: TestSystem;
  const operator = { id: 'test:operator', name: 'Tổng đài viên', roles: ['operator'], agency: null };

  before(async () => {
    t = await freshDb();
    // The hotline (its catalogue seeded) on the first node.
    s = (await Hotline.open(t.db)).s;
    // Another node on the same database and clock, with its own copy of the catalogue.
    second = await testSystem(t.db, {}, { clock: s.clock });
    await s.definitions.deploy(fixture('timer-catch.bpmn'), { deployedBy: 'test' });
  });
  after(() => t.close());

  it('Given a due timer and a catalogue changed on another node, when this node drains its jobs, then the firing sees the change and no firing reads the version itself', async () => {
    const kase = await s.runtime.startCase({ processKey: 'timer-catch', variables: { title: 'Hẹn giờ', description: 'Chờ.', channel: 'call', delay: 'PT1H' }, actor: operator });
    // The second node's catalogue is current, then the first node renames an agency.
    await second.catalogue.ensureCurrent();
    const analyst = await s.as('analyst', 'SNV');
    const before = (await s.http.get('/v1/catalogue/agencies/SYT').set(analyst)).body;
    expect(second.catalogue.get('agencies', 'SYT')!.name).to.equal(before.name);
    const put = await s.http.put('/v1/catalogue/agencies/SYT').set(analyst).send({ ...before, name: 'Sở Y tế (đổi tên)' });
    expect(put.status, JSON.stringify(put.body)).to.equal(200);
    expect(second.catalogue.get('agencies', 'SYT')!.name, 'not yet on the second node').to.equal(before.name);

    s.clock.advance(2 * 3_600_000);
    const sqls: string[] = [];
    const capture = (q: any) => sqls.push(String(q.sql));
    second.db.on('query', capture);
    try {
      expect(await second.executor.drain()).to.equal(1);
    } finally {
      second.db.removeListener('query', capture);
    }
    expect((await t.db('case_events').where({ case_id: kase.caseId, type: 'timer.fired' })).length).to.equal(1);
    expect(second.catalogue.get('agencies', 'SYT')!.name, 'the change is in force for the firing').to.equal('Sở Y tế (đổi tên)');
    const versionReads = sqls.filter((q) => /^select "version" from "reference_version"/.test(q));
    // One read: the catalogue's own refresh after it saw a new version; none per firing.
    expect(versionReads, sqls.join('\n')).to.have.length(1);
    expect(sqls.some((q) => /returning j\.\*, \(select version from reference_version/.test(q)), 'the claim reads it').to.equal(true);
  });
});

import { expect } from 'chai';
import { join } from 'node:path';
import { deployProcesses } from '../api/system.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline, type Key } from './helpers/scenario.js';
import { ROOT, testSystem, type TestSystem } from './helpers/system.js';

describe('Catalogue through the API: analysts change entries, every node takes them at once, history keeps before and after', function () {
  this.timeout(60_000);
  let t: TestDb;
  let h: Hotline;
  let analyst: Key;
  let second: TestSystem;

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    analyst = await h.s.as('analyst', 'SNV', 'Chuyên viên Sở Nội vụ');
    // A second node on the same database, with its own copy of the catalogue.
    second = await testSystem(t.db, {}, { clock: h.s.clock });
  });
  after(() => t.close());

  it('Given an analyst renames an agency with PUT, then both nodes answer the new name, history has who, when, before and after, and a restart does not bring the file back', async () => {
    const before = (await h.s.http.get('/v1/catalogue/agencies/SYT').set(h.keys.operator)).body;
    expect(before.name).to.equal('Sở Y tế');
    const secondKey = await second.as('operator', 'TONG-DAI-1022');
    expect((await second.http.get('/v1/catalogue/agencies/SYT').set(secondKey)).body.name).to.equal('Sở Y tế');

    const changed = { ...before, name: 'Sở Y tế tỉnh Đồng Nai', validFrom: '2026-12-01' };
    const res = await h.s.http.put('/v1/catalogue/agencies/SYT').set(analyst).send(changed);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ code: 'SYT', name: 'Sở Y tế tỉnh Đồng Nai', validFrom: '2026-12-01' });

    const onSecond = await second.http.get('/v1/catalogue/agencies/SYT').set(secondKey);
    expect(onSecond.body.name, 'the other node, no restart').to.equal('Sở Y tế tỉnh Đồng Nai');

    const events = await t.db('case_events').whereNull('case_id').where({ type: 'catalogue.changed' });
    expect(events).to.have.length(1);
    expect(events[0].actor_id).to.equal(analyst.id);
    expect(new Date(events[0].at).toISOString()).to.equal(h.s.clock.now().toISOString());
    expect(events[0].payload).to.deep.include({ kind: 'agencies', code: 'SYT' });
    expect(events[0].payload.before.name).to.equal('Sở Y tế');
    expect(events[0].payload.after.name).to.equal('Sở Y tế tỉnh Đồng Nai');
    const verify = await h.s.http.get('/v1/history/verify').set(h.keys.auditor);
    expect(verify.body.ok, JSON.stringify(verify.body)).to.equal(true);

    // The next start loads processes/ again: the analyst's entry stays.
    await deployProcesses(second, join(ROOT, 'processes'));
    expect((await h.s.http.get('/v1/catalogue/agencies/SYT').set(h.keys.operator)).body.name).to.equal('Sở Y tế tỉnh Đồng Nai');
  });

  it('Given a new field created with PUT, then intake accepts it at once on another node, and GET lists it with its validity', async () => {
    const entry = { name: 'Chuyển đổi số', nameEn: 'Digital transformation', defaultAgency: 'SKHCN', validFrom: '2026-11-01', validTo: null };
    const rejected = await second.http.post('/v1/cases').set(await second.as('operator', 'TONG-DAI-1022')).send({ variables: { title: 'Cổng dịch vụ công lỗi', description: 'Không nộp được hồ sơ trực tuyến.', channel: 'call', field: 'CHUYEN-DOI-SO' } });
    expect(rejected.status).to.equal(422);
    const res = await h.s.http.put('/v1/catalogue/fields/CHUYEN-DOI-SO').set(analyst).send(entry);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const list = await h.s.http.get('/v1/catalogue/fields?on=today').set(h.keys.operator);
    expect(list.body.find((f: any) => f.code === 'CHUYEN-DOI-SO')).to.include({ validFrom: '2026-11-01', validTo: null });
    const accepted = await second.http.post('/v1/cases').set(await second.as('operator', 'TONG-DAI-1022')).send({ variables: { title: 'Cổng dịch vụ công lỗi', description: 'Không nộp được hồ sơ trực tuyến.', channel: 'call', field: 'CHUYEN-DOI-SO' } });
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(201);
  });

  it('Given a bad entry, then 422 problem+json names each field and nothing changes; only analysts and admins may write', async () => {
    const bad = await h.s.http.put('/v1/catalogue/agencies/SYT').set(analyst).send({ code: 'SYT', name: 'Sở Y tế', kind: 'department', level: 1, validFrom: '2026-12-01', validTo: '2026-01-01', successor: 'SO-KHONG-CO' });
    expect(bad.status).to.equal(422);
    expect(bad.type).to.equal('application/problem+json');
    expect(bad.body.errors.map((e: any) => e.path)).to.include('/nameEn');
    const refs = await h.s.http
      .put('/v1/catalogue/agencies/SYT')
      .set(analyst)
      .send({ name: 'Sở Y tế', nameEn: 'Department of Health', kind: 'department', level: 1, validFrom: '2026-12-01', validTo: '2026-01-01', successor: 'SO-KHONG-CO' });
    expect(refs.status).to.equal(422);
    expect(refs.body.errors).to.deep.include({ path: '/validTo', message: '2026-01-01 is before validFrom 2026-12-01' });
    expect(refs.body.errors).to.deep.include({ path: '/successor', message: '"SO-KHONG-CO" is not in the agencies catalogue' });
    const other = await h.s.http.put('/v1/catalogue/agencies/SYT').set(analyst).send({ code: 'SGD', name: 'x', nameEn: 'x', kind: 'department', level: 1, validFrom: '2026-12-01', validTo: null });
    expect(other.body.errors).to.deep.include({ path: '/code', message: 'must be the code in the path (SYT) or left out' });
    expect((await h.s.http.get('/v1/catalogue/agencies/SYT').set(h.keys.operator)).body.name).to.equal('Sở Y tế tỉnh Đồng Nai');

    const entry = (await h.s.http.get('/v1/catalogue/agencies/SYT').set(h.keys.operator)).body;
    expect((await h.s.http.put('/v1/catalogue/agencies/SYT').set(h.keys.coordinator).send(entry)).status).to.equal(403);
    expect((await h.s.http.put('/v1/catalogue/agencies/SYT').set(await h.s.as('admin')).send({ ...entry, shortName: 'SYT' })).status).to.equal(200);
    expect((await h.s.http.get('/v1/catalogue/districts/X').set(h.keys.operator)).status).to.equal(404);
    expect((await h.s.http.get('/v1/catalogue/agencies/KHONG-CO').set(h.keys.operator)).status).to.equal(404);
  });
});

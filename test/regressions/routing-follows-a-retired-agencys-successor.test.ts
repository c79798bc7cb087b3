import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the catalogue (2026-12-08): with SNNMT retired through the API (validTo yesterday,
 * successor SKHCN), new land complaints were still routed to SNNMT — the routing table names it — whose inbox
 * nobody reads any more, although processes/catalogue/README.md says the router follows the successor chain to the
 * agency in force. A decision's output codes now follow it; cases already open keep the agency they hold.
 */
describe('Regression: a routing table naming a retired agency routes new cases to its successor in force', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given SNNMT retired yesterday with successor SKHCN, when a land complaint comes in, then it goes to SKHCN; the open one stays with SNNMT', async () => {
    const open = await h.intake({ title: 'Tranh chấp đất đai', field: 'DAT-DAI' });
    expect(open.variables.agency).to.equal('SNNMT');
    const admin = await h.s.as('admin');
    const entry = (await h.s.http.get('/v1/catalogue/agencies/SNNMT').set(admin)).body;
    const yesterday = new Date(h.s.clock.now().getTime() + 7 * 3600_000 - 86_400_000).toISOString().slice(0, 10);
    const { code: _code, ...rest } = entry;
    const put = await h.s.http.put('/v1/catalogue/agencies/SNNMT').set(admin).send({ ...rest, validTo: yesterday, successor: 'SKHCN' });
    expect(put.status, JSON.stringify(put.body)).to.be.oneOf([200, 201]);
    const next = await h.intake({ title: 'Lấn chiếm đất công', field: 'DAT-DAI' });
    expect(next.variables.agency).to.equal('SKHCN');
    expect(next.tasks.map((x) => x.candidateGroups)).to.deep.equal([['SKHCN']]);
    expect((await h.case(open.code)).variables.agency).to.equal('SNNMT');
  });
});

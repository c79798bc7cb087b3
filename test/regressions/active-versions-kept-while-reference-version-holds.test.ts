import { expect } from 'chai';
import { freshDb, statementsDuring, type TestDb } from '../helpers/db.js';
import { fixture, testSystem, type TestSystem } from '../helpers/system.js';

/**
 * Issue 20: every case start read which version of its process is active and,
 * at its routing step, which decision file is: two of a shipped start's seven
 * statements. A node now keeps both while the reference version (read with
 * every request's API key) has not moved; switching an active version moves
 * it (a trigger on active_definitions), so another node's deploy is in force
 * here from the next request, and this node's own deploy at once.
 */
describe('Regression: the active process and decision versions are kept while the reference version holds', () => {
  let t: TestDb;
  let a: TestSystem;
  let b: TestSystem;
  let operator: { Authorization: string };
  const simple = fixture('simple.bpmn');
  const renamed = (name: string) => simple.replace('name="Đơn giản"', `name="${name}"`);
  const intake = { title: 'Phản ánh thử', description: 'Nội dung phản ánh.', channel: 'call', agency: 'SNNMT' };

  before(async () => {
    t = await freshDb();
    a = await testSystem(t.db);
    b = await testSystem(t.another());
    await a.definitions.deploy(simple, { deployedBy: 'test' });
    operator = await a.as('operator');
  });
  after(async () => {
    await b.close();
    await t.close();
  });

  const start = async (s: TestSystem) => {
    const res = await s.http.post('/v1/cases').set(operator).send({ process: 'simple', variables: intake });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  };

  it('Given a node that started a case, when it starts another, then it does not read the active version again', async () => {
    await start(a);
    const sqls = await statementsDuring(a.db, () => start(a));
    expect(sqls.filter((q) => /active_definitions/.test(q)), sqls.join('\n')).to.deep.equal([]);
  });

  it('Given another node switches the active version, then a switch moves the reference version and the next request here starts cases on the new one', async () => {
    await start(a);
    const before = Number((await t.db('reference_version').where({ id: 1 }).first('version')).version);
    const deployed = await b.definitions.deploy(renamed('Đơn giản, bản 2'), { deployedBy: 'test' });
    expect(deployed.active).to.equal(true);
    expect(Number((await t.db('reference_version').where({ id: 1 }).first('version')).version)).to.be.greaterThan(before);
    const kase = await start(a);
    expect(kase.process).to.deep.equal({ key: 'simple', version: deployed.version });
  });

  it('Given this node deploys a version, then its next start uses it, even without a request in between', async () => {
    await start(a);
    const deployed = await a.definitions.deploy(renamed('Đơn giản, bản 3'), { deployedBy: 'test' });
    const started = await a.runtime.startCase({ processKey: 'simple', variables: intake, actor: { id: 'test:operator', name: 'Tổng đài viên', roles: ['operator'], agency: null } });
    const row = await t.db('cases as c').join('definitions as d', 'd.id', 'c.definition_id').where('c.id', started.caseId).first('d.version');
    expect(row.version).to.equal(deployed.version);
  });
});

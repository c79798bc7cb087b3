import { expect } from 'chai';
import { ManualClock } from '../../engine/clock.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';
import { testSystem } from '../helpers/system.js';

/**
 * Issue 20: the intake's answer (POST /v1/cases) was read back from the
 * database after the start had committed: one more round trip on every
 * intake (1.9 ms of a 35 ms shipped start on the benchmark machine). The
 * start now answers with the case as its transaction wrote it. The answer
 * must be the view a read gives — same fields, same masking, same flags.
 */
describe('Regression: the intake answers with the case as its start wrote it, without reading it back', () => {
  let t: TestDb;
  let h: Hotline;
  const INTAKE = { title: 'Đèn đường hỏng', description: 'Đèn đường trước số 12 không sáng.', channel: 'call', field: 'DAT-DAI', citizenName: 'Nguyễn Văn An', citizenPhone: '0912000111' };

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  /** The SQL a request sends, in order. */
  async function statementsOf<T>(fn: () => Promise<T>): Promise<{ result: T; sqls: string[] }> {
    const sqls: string[] = [];
    const capture = (q: any) => sqls.push(String(q.sql));
    t.db.on('query', capture);
    try {
      return { result: await fn(), sqls };
    } finally {
      t.db.removeListener('query', capture);
    }
  }

  it('Given an operator, when a case is opened, then the answer is what GET /v1/cases/{code} shows, and nothing is read after the commit', async () => {
    const { result: res, sqls } = await statementsOf(() => h.s.http.post('/v1/cases').set(h.keys.operator).send({ variables: INTAKE }));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const commit = sqls.findIndex((q) => /^commit/i.test(q));
    expect(commit, sqls.join('\n')).to.be.greaterThan(0);
    expect(sqls.slice(commit + 1), 'statements after the commit').to.deep.equal([]);
    const read = await h.s.http.get(`/v1/cases/${res.body.code}`).set(h.keys.operator);
    expect(res.body).to.deep.equal(read.body);
    expect(res.body.tasks.map((x: any) => x.elementId)).to.deep.equal(['handle']);
    expect(res.body.variables.citizenPhone, 'the operator sees the contact it typed').to.equal('0912000111');
  });

  it('Given a node in a year without holiday data, when a case is opened, then the answer carries the calendar.fallback flag as a read does', async () => {
    const node = await testSystem(t.db, {}, { clock: new ManualClock('2028-01-04T02:00:00.000Z') });
    const op = await node.as('operator', 'TONG-DAI-1022');
    const res = await node.http.post('/v1/cases').set(op).send({ variables: INTAKE });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.flags).to.deep.equal(['calendar.fallback']);
    expect(res.body).to.deep.equal((await node.http.get(`/v1/cases/${res.body.code}`).set(op)).body);
  });

  it('Given an Idempotency-Key, when the intake is sent twice, then both answers are the case as a read shows it', async () => {
    const send = () => h.s.http.post('/v1/cases').set(h.keys.operator).set('Idempotency-Key', 'intake-answer-1').send({ variables: INTAKE });
    const first = await send();
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    const again = await send();
    expect(again.header['idempotent-replayed']).to.equal('true');
    expect(again.body).to.deep.equal(first.body);
    expect(first.body).to.deep.equal((await h.s.http.get(`/v1/cases/${first.body.code}`).set(h.keys.operator)).body);
  });
});

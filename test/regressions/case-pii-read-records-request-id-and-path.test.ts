import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline, type Key } from '../helpers/scenario.js';

/**
 * Black-box check of the auditor guide: GET /v1/cases/{code} by a key holding the pii grant recorded its pii.read
 * with "requestId": null and payload {"what": "case"}, no path, so it could not be matched to the request log; the
 * history read recorded both. The case read now records them as the history read does.
 */
describe('Regression: reading a case with the pii grant records the request id and path', () => {
  let t: TestDb;
  let h: Hotline;
  let auditorWithPii: Key;
  let code: string;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    auditorWithPii = await h.s.as(['auditor', 'pii'], null, 'Thanh tra có quyền xem dữ liệu cá nhân');
    code = (await h.intake({ title: 'Rác thải tồn đọng', citizenName: 'Võ Thị Lan', citizenPhone: '0938111222' })).code;
  });
  after(() => t.close());

  /** The case's pii.read events as the history shows them (read by an auditor without the grant: no new pii.read). */
  const piiReads = async () => {
    const res = await h.s.http.get(`/v1/cases/${code}/history`).set(h.keys.auditor);
    expect(res.status).to.equal(200);
    return (res.body.events as any[]).filter((e) => e.type === 'pii.read');
  };

  it('Given an auditor with pii, when it reads the case with a request id, then the pii.read event carries that request id and the path read', async () => {
    const before = (await piiReads()).length;
    const res = await h.s.http.get(`/v1/cases/${code}`).set(auditorWithPii).set('X-Request-Id', 'thanh-tra-case-read-1');
    expect(res.status).to.equal(200);
    expect(res.body.variables.citizenPhone).to.equal('0938111222');

    const reads = await piiReads();
    expect(reads).to.have.length(before + 1);
    const read = reads[reads.length - 1];
    expect(read.requestId).to.equal('thanh-tra-case-read-1');
    expect(read.actor.id).to.equal(auditorWithPii.id);
    expect(read.payload).to.deep.equal({ what: 'case', path: `/v1/cases/${code}` });
  });

  it('Given the same auditor reading the history, then both reads are recorded the same way: request id and path', async () => {
    const res = await h.s.http.get(`/v1/cases/${code}/history`).set(auditorWithPii).set('X-Request-Id', 'thanh-tra-history-read-1');
    expect(res.status).to.equal(200);
    const [caseRead, historyRead] = (await piiReads()).slice(-2);
    expect([caseRead.requestId, caseRead.payload.path]).to.deep.equal(['thanh-tra-case-read-1', `/v1/cases/${code}`]);
    expect([historyRead.requestId, historyRead.payload.path]).to.deep.equal(['thanh-tra-history-read-1', `/v1/cases/${code}/history`]);
  });

  it('Given a request without an X-Request-Id, then the pii.read carries the id the server gave the request (its X-Request-Id answer header)', async () => {
    const res = await h.s.http.get(`/v1/cases/${code}`).set(auditorWithPii);
    expect(res.status).to.equal(200);
    const read = (await piiReads()).pop();
    expect(read.requestId).to.be.a('string').and.to.equal(res.headers['x-request-id']);
  });
});

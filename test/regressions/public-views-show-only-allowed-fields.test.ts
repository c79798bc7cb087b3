import { expect } from 'chai';
import { PUBLIC_VARIABLES, publicVariables } from '../../engine/hotline/public-status.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * Issue 15: the public views (citizen lookup, published answers, Open311)
 * picked fields from the whole variable bag of a case, each view its own
 * way; a variable added by an integration or a new diagram step was one
 * careless edit away from the public. They now read a case only through
 * one explicit allow-list (PUBLIC_VARIABLES), and their answers are
 * documented with additionalProperties: false, so the response check
 * refuses any other field.
 */
describe('Regression: public and Open311 views show only the fields on an explicit list', () => {
  let t: TestDb;
  let h: Hotline;
  let code: string;
  const SECRETS = ['GHI-CHU-NOI-BO-7Q', 'Nguyễn Văn Bí Mật', 'Số 7 hẻm Bí Mật', 'bimat@example.vn', 'CAN-CU-NOI-BO-7Q', 'Y-KIEN-DUYET-7Q'];

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    const kase = await h.intake({
      title: 'Rác thải ùn ứ ở chợ Tân Hiệp',
      description: 'Rác tồn đọng ba ngày ở cổng chợ.',
      channel: 'call',
      field: 'MOI-TRUONG',
      citizenName: SECRETS[1],
      citizenAddress: SECRETS[2],
      citizenEmail: SECRETS[3],
      citizenPhone: '0912000111',
      // Variables a public view has no business with: an integration's own note and a field of an odd type.
      internalNote: SECRETS[0],
      lat: 'không phải số',
    });
    code = kase.code;
    await h.act(code, 'handle', kase.variables.agency, { outcome: 'answer', answer: 'Đã thu gom rác và nhắc ban quản lý chợ.', legalBasis: SECRETS[4] });
    await h.act(code, 'review', 'coordinator', { reviewDecision: 'approve', publish: true, reviewComment: SECRETS[5] });
    await h.message(code, 'citizen-rating', { satisfied: true });
    expect((await h.case(code)).status).to.equal('completed');
  });
  after(() => t.close());

  const leaks = (text: string) => SECRETS.filter((s) => text.includes(s));

  it('Given a case carrying personal data, internal notes and odd variables, when the citizen looks it up, then only the documented fields are answered and none of them', async () => {
    const res = await h.s.http.get(`/v1/public/cases/${code}?phone=0111`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(Object.keys(res.body).sort()).to.deep.equal(['agency', 'answer', 'closedAt', 'code', 'due', 'receivedAt', 'status', 'statusLabel']);
    expect(leaks(res.text)).to.deep.equal([]);
    expect(res.body.answer).to.equal('Đã thu gom rác và nhắc ban quản lý chợ.');
  });

  it('Given the same case published, when the public answers are listed, then only the documented fields are answered and none of them', async () => {
    const res = await h.s.http.get('/v1/public/answers');
    expect(res.status).to.equal(200);
    const mine = res.body.find((a: any) => a.code === code);
    expect(Object.keys(mine).sort()).to.deep.equal(['agency', 'answer', 'answeredAt', 'code', 'field', 'fieldName', 'receivedAt', 'title', 'unit']);
    expect(leaks(res.text)).to.deep.equal([]);
  });

  it('Given the same case, when read through Open311 (list and one, JSON and XML, with and without a staff key), then none of them appear and a non-number lat is not passed on', async () => {
    const staff = h.keys.operator.Authorization.slice('Bearer '.length);
    for (const path of [`/open311/v2/requests/${code}.json`, `/open311/v2/requests/${code}.xml`, '/open311/v2/requests.json', '/open311/v2/requests.xml', `/open311/v2/requests.json?api_key=${staff}`]) {
      const res = await h.s.http.get(path);
      expect(res.status, path).to.equal(200);
      expect(leaks(res.text), path).to.deep.equal([]);
      expect(res.text, path).not.to.include('không phải số');
    }
    const one = await h.s.http.get(`/open311/v2/requests/${code}.json`);
    expect(one.body[0].lat).to.equal(null);
    expect(one.body[0].status_notes).to.equal('Đã thu gom rác và nhắc ban quản lý chợ.');
  });

  it('Given any variable bag, then publicVariables keeps only the listed names of the listed types', () => {
    const picked = publicVariables({ title: 'Đèn hỏng', answer: 42, citizenName: 'A', internalNote: 'B', lat: Number.NaN, publish: true, dueAt: '2026-12-01T17:00:00+07:00' });
    expect(picked).to.deep.equal({ title: 'Đèn hỏng', publish: true, dueAt: '2026-12-01T17:00:00+07:00' });
    for (const name of Object.keys(picked)) expect(Object.keys(PUBLIC_VARIABLES)).to.include(name);
  });
});

import { expect } from 'chai';
import { YEARS } from '../../engine/json-schema.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the guides (2026-12-08): RFC 3339 allows the year 0000 and a leap second (23:59:60),
 * which ajv's date-time format passed on; JavaScript cannot represent the leap second and PostgreSQL has no
 * year 0. The history export from=0000-01-01 answered 200, then the database failed and the stream was cut
 * ("Empty reply from server"); the scorecard and the statistics from=0000-01-01 answered 500; the weekly report
 * of 0000-W01 answered 200 for 1899. Impossible days passed where a date was a pattern (catalogue ?on=2026-13-45
 * gave today's list, 2025-06-31 an empty one; case search from=2026-02-30 rolled over; Open311 start_date too).
 * Now every date and instant a client sends is a real one between the years 1900 and 9999 (engine/json-schema.ts).
 */
describe('Regression: dates a client sends are real days and instants between the years 1900 and 9999, else 400 naming the parameter', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    await h.intake({ title: 'Đèn đường hỏng', field: 'DAT-DAI' });
  });
  after(() => t.close());

  const refused = async (path: string, key: Record<string, string>, parameter: string) => {
    const res = await h.s.http.get(path).set(key);
    expect(res.status, `${path}: ${res.status} ${JSON.stringify(res.body)}`).to.equal(400);
    expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(JSON.stringify(res.body), path).to.include(parameter);
  };

  it('Given the history export, when from or to is the year 0000 or a leap second, then it answers 400 naming the parameter, as JSON lines and as CSV', async () => {
    for (const q of ['from=0000-01-01T00:00:00Z', 'to=2026-12-31T23:59:60Z', 'from=0000-01-01T00:00:00Z&format=csv', 'from=10000-01-01T00:00:00Z', 'to=1899-12-31T16:59:59Z']) {
      await refused(`/v1/history/events?${q}`, h.keys.auditor, q.startsWith('to') ? '/to' : '/from');
    }
    const ok = await h.s.http.get(`/v1/history/events?from=${YEARS.min}-01-01T00:00:00Z&to=${YEARS.max}-12-31T23:59:59Z&format=csv`).set(h.keys.auditor);
    expect(ok.status).to.equal(200);
    expect(ok.text).to.match(/^\ufeff/);
    expect(ok.text.split('\n').length).to.be.greaterThan(2);
  });

  it('Given the reports, when a date or week is before 1900, then each answers 400 naming it (the scorecard and the statistics answered 500)', async () => {
    await refused('/v1/reports/scorecard?from=0000-01-01&to=2026-12-31', h.keys.auditor, '/from');
    await refused('/v1/reports/stats?groupBy=agency&period=day&from=0000-01-01', h.keys.auditor, '/from');
    await refused('/v1/reports/weekly?week=0000-W01', h.keys.auditor, '/week');
    await refused('/v1/reports/scorecard?from=2026-02-30&to=2026-12-31', h.keys.auditor, '/from');
    expect((await h.s.http.get('/v1/reports/scorecard?from=1900-01-01&to=2026-12-31').set(h.keys.auditor)).status).to.equal(200);
  });

  it('Given a day that does not exist, when it filters the catalogue, the case search or Open311, then it answers 400 naming it', async () => {
    for (const on of ['2026-13-45', '2026-02-30', '2025-06-31', '0000-00-00', '9999-99-99']) await refused(`/v1/catalogue/units?on=${on}`, h.keys.operator, '/on');
    expect((await h.s.http.get('/v1/catalogue/units?on=today').set(h.keys.operator)).status).to.equal(200);
    expect((await h.s.http.get('/v1/catalogue/units?on=2026-02-28').set(h.keys.operator)).body).to.have.length.greaterThan(0);
    for (const from of ['2026-02-30', '2026-13-01', '2026-12-01T24:00:00Z', '0000-01-01']) await refused(`/v1/cases?from=${encodeURIComponent(from)}`, h.keys.operator, '/from');
    const search = await h.s.http.get(`/v1/cases?from=2026-01-01&to=${encodeURIComponent('2099-12-31T08:00+07:00')}`).set(h.keys.operator);
    expect(search.status, JSON.stringify(search.body)).to.equal(200);
    expect(search.body.items).to.have.length(1);
    const open311 = await h.s.http.get('/open311/v2/requests.json?start_date=2026-02-30T00:00:00Z');
    expect(open311.status, JSON.stringify(open311.body)).to.equal(400);
    expect(JSON.stringify(open311.body)).to.include('start_date');
  });
});

import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the agency guide (2026-12-08): `POST /v1/tasks/{id}/claim` with `{"foo":1}` answered 200
 * and ignored the body, so a client that meant `{"assignee": …}` believed it had done something it had not. A
 * command that takes no body (claim, unclaim, a job's retry) now refuses one; none, an empty POST or `{}` still
 * work.
 */
describe('Regression: a command that takes no body refuses one with 400', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given an agency task, when claim is sent with fields or text, then 400 and the task stays free; without a body, with an empty one or {}, it is claimed', async () => {
    const { code } = await h.intake({ title: 'Đất đai lấn chiếm', field: 'DAT-DAI' });
    const task = await h.task(code, 'handle', 'SNNMT');
    const agency = await h.agency('SNNMT');
    const withFields = await h.s.http.post(`/v1/tasks/${task.id}/claim`).set(agency).send({ assignee: 'someone-else' });
    expect(withFields.status, JSON.stringify(withFields.body)).to.equal(400);
    expect(withFields.body.errors).to.deep.equal([{ path: '/', message: 'must be empty' }]);
    const withText = await h.s.http.post(`/v1/tasks/${task.id}/claim`).set(agency).set('Content-Type', 'text/plain').send('claim');
    expect(withText.status, JSON.stringify(withText.body)).to.equal(400);
    expect((await h.task(code, 'handle')).assignee ?? null).to.equal(null);
    expect((await h.s.http.post(`/v1/tasks/${task.id}/claim`).set(agency)).status).to.equal(200);
    expect((await h.s.http.post(`/v1/tasks/${task.id}/unclaim`).set(agency).set('Content-Length', '0')).status).to.equal(200);
    expect((await h.s.http.post(`/v1/tasks/${task.id}/claim`).set(agency).send({})).status).to.equal(200);
  });
});

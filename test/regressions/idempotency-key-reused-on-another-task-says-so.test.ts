import { expect } from 'chai';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';

/**
 * A black-box check of the agency guide (2026-12-08): the same Idempotency-Key with the same body on another
 * task was refused 409 "already used with another request body" — the body was the same, so the client could
 * not see what it did wrong. The answer now says the key was used for another request, and names it.
 */
describe('Regression: an Idempotency-Key reused on another task is refused saying so', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  it('Given a comment sent with a key, when the same key and body go to another task, then 409 names the first request; the same body again on the first task replays', async () => {
    const agency = await h.agency('SNNMT');
    const first = await h.task((await h.intake({ title: 'Đất đai lấn chiếm', field: 'DAT-DAI' })).code, 'handle', 'SNNMT');
    const second = await h.task((await h.intake({ title: 'Ô nhiễm nguồn nước', field: 'DAT-DAI' })).code, 'handle', 'SNNMT');
    const comment = (taskId: string) => h.s.http.post(`/v1/tasks/${taskId}/comments`).set(agency).set('Idempotency-Key', 'ghi-chu-1').send({ text: 'Đã liên hệ công dân.' });
    expect((await comment(first.id)).status).to.equal(201);
    const other = await comment(second.id);
    expect(other.status, JSON.stringify(other.body)).to.equal(409);
    expect(other.body.detail).to.equal(`Idempotency-Key "ghi-chu-1": this Idempotency-Key was already used for another request (POST /v1/tasks/${first.id}/comments); use a new key for each request.`);
    const again = await comment(first.id);
    expect(again.status).to.equal(201);
    expect(again.headers['idempotent-replayed']).to.equal('true');
  });
});

import { expect } from 'chai';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { createLogger } from '../../api/logger.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';
import { ROOT } from '../helpers/system.js';

/**
 * Issue 15: the SMS text with the answer was logged at info level (no SMS
 * provider configured → messages "delivered to the log"), although logs are
 * said never to show citizens' names, phones or answers.
 */
describe('Regression: a whole case life leaves no citizen name, phone or answer in the log at info', () => {
  let t: TestDb;
  let h: Hotline;
  const lines: string[] = [];
  const NAME = 'Đặng Thị Thu Hằng';
  const PHONE = '0987654321';
  const ANSWER = 'Công an phường đã lập biên bản và xử phạt cơ sở karaoke gây ồn sau 22 giờ.';

  before(async () => {
    t = await freshDb();
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    h = await Hotline.open(t.db, join(ROOT, 'processes'), { log: createLogger('info', sink) });
  });
  after(() => t.close());

  it('Given intake, handling, review, the SMS with the answer and the rating, when the log is searched, then none of the citizen’s data is in it', async () => {
    const kase = await h.intake({ title: 'Karaoke gây ồn ban đêm', field: 'AN-NINH-TRAT-TU', channel: 'call', citizenName: NAME, citizenPhone: PHONE });
    const handle = kase.tasks.find((x: any) => x.elementId === 'handle');
    await h.complete(handle.id, await h.agency(handle.candidateGroups[0]), { outcome: 'answer', answer: ANSWER });
    await h.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve', publish: true });
    expect(await h.s.executor.drain()).to.be.greaterThan(0); // the SMS goes out (to the log: no provider configured)
    await h.message(kase.code, 'citizen-rating', { satisfied: true });
    await h.s.http.get(`/v1/public/cases/${kase.code}?phone=${PHONE.slice(-4)}`);
    const log = lines.join('');
    expect(log).to.include('sms delivered to the log'); // the delivery was logged…
    for (const secret of [NAME, PHONE, PHONE.slice(1), ANSWER, ANSWER.slice(0, 40)]) expect(log, secret).not.to.include(secret); // …without the citizen
  });
});

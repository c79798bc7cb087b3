import { expect } from 'chai';
import { createApp } from '../api/app.js';
import supertest from 'supertest';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline, type Key } from './helpers/scenario.js';

describe('Agencies’ task API: claim, inbox, comments, transfer, limits', () => {
  let t: TestDb;
  let h: Hotline;
  let clerk1: Key;
  let clerk2: Key;

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    clerk1 = await h.s.as('agency', 'SYT', 'Cán bộ 1 Sở Y tế');
    clerk2 = await h.s.as('agency', 'SYT', 'Cán bộ 2 Sở Y tế');
  });
  after(() => t.close());

  const newCase = async (title = 'Bệnh viện thu tiền sai', extra: Record<string, unknown> = {}) => {
    const kase = await h.intake({ title, field: 'Y-TE', ...extra });
    return { code: kase.code, taskId: kase.tasks[0].id as string };
  };

  describe('Claiming', () => {
    it('Given two clerks of one agency claim the same task at once, then one gets it and the other 409', async () => {
      const { taskId } = await newCase();
      const [a, b] = await Promise.all([h.s.http.post(`/v1/tasks/${taskId}/claim`).set(clerk1), h.s.http.post(`/v1/tasks/${taskId}/claim`).set(clerk2)]);
      expect([a.status, b.status].sort()).to.deep.equal([200, 409]);
      const winner = a.status === 200 ? a : b;
      const row = await t.db('tasks').where({ id: taskId }).first();
      expect(row.assignee).to.equal(winner.body.claimedBy);
      const claims = await t.db('case_events').where({ type: 'task.claimed' }).whereRaw(`payload->>'taskId' = ?`, [taskId]);
      expect(claims).to.have.length(1);
    });

    it('Given clerk 1 claimed a task, then clerk 2 cannot complete it (409) until clerk 1 releases it', async () => {
      const { taskId } = await newCase();
      expect((await h.s.http.post(`/v1/tasks/${taskId}/claim`).set(clerk1)).status).to.equal(200);
      const blocked = await h.s.http.post(`/v1/tasks/${taskId}/complete`).set(clerk2).send({ outcome: 'answer', answer: 'Trả lời của cán bộ 2.' });
      expect(blocked.status).to.equal(409);
      expect(blocked.body.detail).to.match(/claimed by someone else/);
      expect((await h.s.http.post(`/v1/tasks/${taskId}/unclaim`).set(clerk2)).status).to.equal(409);
      expect((await h.s.http.post(`/v1/tasks/${taskId}/unclaim`).set(clerk1)).status).to.equal(200);
      const done = await h.s.http.post(`/v1/tasks/${taskId}/complete`).set(clerk2).send({ outcome: 'answer', answer: 'Trả lời của cán bộ 2.' });
      expect(done.status).to.equal(200);
    });

    it('Given a claimed task, the inbox state filter separates open from claimed', async () => {
      const { taskId } = await newCase('Lọc trạng thái');
      await h.s.http.post(`/v1/tasks/${taskId}/claim`).set(clerk1);
      const claimed = await h.s.http.get('/v1/tasks?state=claimed&limit=200').set(clerk1);
      const open = await h.s.http.get('/v1/tasks?state=open&limit=200').set(clerk1);
      expect(claimed.body.items.map((i: any) => i.id)).to.include(taskId);
      expect(open.body.items.map((i: any) => i.id)).not.to.include(taskId);
    });
  });

  describe('Inbox', () => {
    it('Given more tasks than a page, keyset pagination returns each exactly once, sorted by due date', async () => {
      const inbox = await (async () => {
        const agency = await h.s.as('agency', 'SGDDT', 'Sở GD&ĐT');
        for (let i = 0; i < 7; i++) await h.intake({ title: `Phản ánh giáo dục ${i}`, field: 'GIAO-DUC' });
        return agency;
      })();
      const seen: string[] = [];
      const dues: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: any = await h.s.http.get(`/v1/tasks?limit=3${cursor ? `&cursor=${cursor}` : ''}`).set(inbox);
        expect(res.status).to.equal(200);
        expect(res.body.items.length).to.be.at.most(3);
        for (const i of res.body.items) {
          seen.push(i.id);
          dues.push(i.due);
        }
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).to.equal(3);
      expect(seen).to.have.length(7);
      expect(new Set(seen).size).to.equal(7);
      expect([...dues].sort()).to.deep.equal(dues);
    });

    it('Given filters, the inbox narrows by field, text and overdue, and items carry the case summary', async () => {
      await newCase('Thuốc giả bán tại nhà thuốc', { unit: 'P-TAM-HIEP' });
      const res = await h.s.http.get('/v1/tasks?field=Y-TE&q=thuốc giả').set(clerk1);
      expect(res.body.items).to.have.length(1);
      expect(res.body.items[0]).to.include({ field: 'Y-TE', unit: 'P-TAM-HIEP', title: 'Thuốc giả bán tại nhà thuốc', transferCount: 0, overdue: false, claimedBy: null });
      const overdue = await h.s.http.get('/v1/tasks?overdue=true').set(clerk1);
      expect(overdue.body.items).to.deep.equal([]);
      const none = await h.s.http.get('/v1/tasks?field=DAT-DAI').set(clerk1);
      expect(none.body.items).to.deep.equal([]);
    });
  });

  describe('A task in detail, comments and transfer', () => {
    it('Given a task, its detail has the form schema, the allowed outcomes, comments and history', async () => {
      const { taskId } = await newCase('Phòng khám không phép');
      const c = await h.s.http.post(`/v1/tasks/${taskId}/comments`).set(clerk1).send({ text: 'Đã cử đoàn kiểm tra.', attachments: [{ name: 'bien-ban.pdf', url: 'https://files.example.vn/bien-ban.pdf', mediaType: 'application/pdf', size: 12345 }] });
      expect(c.status).to.equal(201);
      const detail = await h.s.http.get(`/v1/tasks/${taskId}`).set(clerk2);
      expect(detail.body.allowedOutcomes).to.deep.equal(['answer', 'transfer', 'notCompetent', 'moreInfo']);
      expect(detail.body.form.title).to.equal('Xử lý, trả lời phản ánh');
      expect(detail.body.mayAct).to.equal(true);
      expect(detail.body.comments).to.have.length(1);
      expect(detail.body.comments[0]).to.include({ text: 'Đã cử đoàn kiểm tra.' });
      expect(detail.body.comments[0].attachments[0]).to.include({ name: 'bien-ban.pdf' });
      expect(detail.body.history.map((e: any) => e.type)).to.include('comment.added');
    });

    it('Given a transfer with a reason, the next agency gets the task and the transfer counts toward the limit', async () => {
      const { code, taskId } = await newCase('Ngộ độc thực phẩm tại bếp ăn công nghiệp');
      const res = await h.s.http.post(`/v1/tasks/${taskId}/transfer`).set(clerk1).send({ toAgency: 'SCT', reason: 'An toàn thực phẩm tại cơ sở công nghiệp' });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const kase = await h.case(code);
      expect(kase.variables).to.include({ transferCount: 1, agency: 'SCT', transferReason: 'An toàn thực phẩm tại cơ sở công nghiệp' });
      const next = await h.task(code, 'handle', 'SCT');
      const sct = await h.agency('SCT');
      const inbox = await h.s.http.get('/v1/tasks').set(sct);
      expect(inbox.body.items.find((i: any) => i.id === next.id)).to.include({ transferCount: 1 });
    });

    it('Given a transfer to a code not in the catalogue or without a reason, then it is refused naming the field', async () => {
      const { taskId } = await newCase('Chuyển sai');
      const unknown = await h.s.http.post(`/v1/tasks/${taskId}/transfer`).set(clerk1).send({ toAgency: 'SO-KHONG-CO', reason: 'Không rõ' });
      expect(unknown.status).to.equal(422);
      expect(unknown.body.errors).to.deep.equal([{ path: '/toAgency', message: '"SO-KHONG-CO" is not in the agencies catalogue' }]);
      const noReason = await h.s.http.post(`/v1/tasks/${taskId}/transfer`).set(clerk1).send({ toAgency: 'SCT' });
      expect(noReason.status).to.equal(400);
      expect(noReason.body.errors).to.deep.include({ path: '/reason', message: 'is required' });
    });

    it('Given a transfer to the agency that already holds the step, then 422 names /toAgency', async () => {
      const { taskId } = await newCase('Tự chuyển cho mình');
      const res = await h.s.http.post(`/v1/tasks/${taskId}/transfer`).set(clerk1).send({ toAgency: 'SYT', reason: 'Kéo dài thời hạn' });
      expect(res.status).to.equal(422);
      expect(res.body.errors).to.deep.equal([{ path: '/toAgency', message: 'is the agency handling this step' }]);
    });

    it('Given a transfer past the limit, the answer says the case went to the coordinator', async () => {
      const { code, taskId } = await newCase('Chuyển vòng vòng');
      await h.s.http.post(`/v1/tasks/${taskId}/transfer`).set(clerk1).send({ toAgency: 'SCT', reason: 'Lần chuyển thứ nhất' });
      const sct = (await h.task(code, 'handle', 'SCT')).id;
      await h.s.http.post(`/v1/tasks/${sct}/transfer`).set(await h.agency('SCT')).send({ toAgency: 'SYT', reason: 'Lần chuyển thứ hai' });
      const third = (await h.task(code, 'handle', 'SYT')).id;
      const res = await h.s.http.post(`/v1/tasks/${third}/transfer`).set(clerk1).send({ toAgency: 'SCT', reason: 'Lần chuyển thứ ba' });
      expect(res.status).to.equal(200);
      expect(res.body.nextTasks.map((n: any) => [n.elementId, n.candidateGroups])).to.deep.equal([['coordinate', ['coordinator']]]);
    });

    it('Given a NUL character in a comment or a query, then 400 names the field instead of failing in the database', async () => {
      const { taskId } = await newCase('Ký tự NUL');
      const body = await h.s.http.post(`/v1/tasks/${taskId}/comments`).set(clerk1).send({ text: 'abc\u0000def' });
      expect(body.status).to.equal(400);
      expect(body.body.errors).to.deep.equal([{ path: '/text', message: 'must not contain U+0000' }]);
      const query = await h.s.http.get('/v1/tasks?q=%00').set(clerk1);
      expect(query.status).to.equal(400);
    });

    it('Given an empty completion of a handling step, then only the missing outcome is reported', async () => {
      const { taskId } = await newCase('Gửi rỗng');
      const res = await h.s.http.post(`/v1/tasks/${taskId}/complete`).set(clerk1).send({});
      expect(res.status).to.equal(422);
      expect(res.body.errors).to.deep.equal([{ path: '/outcome', message: 'is required' }]);
    });

    it('Given a step that is not a handling step, then transfer is refused', async () => {
      const { code, taskId } = await newCase('Chuyển bước duyệt');
      await h.complete(taskId, clerk1, { outcome: 'answer', answer: 'Sở Y tế đã xử lý.' });
      const review = await h.task(code, 'review', 'coordinator');
      const res = await h.s.http.post(`/v1/tasks/${review.id}/transfer`).set(h.keys.coordinator).send({ toAgency: 'SCT', reason: 'Thử chuyển bước duyệt' });
      expect(res.status).to.equal(422);
    });

    it('Given form data that fails the schema, then 422 names each field and the task stays open', async () => {
      const { taskId } = await newCase('Thiếu nội dung trả lời');
      const res = await h.s.http.post(`/v1/tasks/${taskId}/complete`).set(clerk1).send({ outcome: 'answer', answer: 'ngắn', extra: 1 });
      expect(res.status).to.equal(422);
      const paths = res.body.errors.map((e: any) => e.path);
      expect(paths).to.include.members(['/answer', '/extra']);
      expect(await t.db('tasks').where({ id: taskId }).first()).to.not.equal(undefined);
    });
  });

  describe('Idempotent intake', () => {
    it('Given a call submitted twice with one Idempotency-Key, then one case exists and both answers are the same', async () => {
      const body = { variables: { title: 'Gọi lại hai lần', description: 'Người dân gọi lại vì chưa nghe được mã hồ sơ.', field: 'Y-TE', channel: 'call' } };
      const before = Number(((await t.db('cases').count('* as n').first()) as any).n);
      const [a, b] = await Promise.all([
        h.s.http.post('/v1/cases').set(h.keys.operator).set('Idempotency-Key', 'call-2026-11-27-0001').send(body),
        h.s.http.post('/v1/cases').set(h.keys.operator).set('Idempotency-Key', 'call-2026-11-27-0001').send(body),
      ]);
      const statuses = [a.status, b.status].sort();
      // Concurrent twins: one creates, the other is told the first is still running (409) or replays it (201).
      expect(statuses[0]).to.equal(201);
      expect([201, 409]).to.include(statuses[1]);
      const again = await h.s.http.post('/v1/cases').set(h.keys.operator).set('Idempotency-Key', 'call-2026-11-27-0001').send(body);
      expect(again.status).to.equal(201);
      expect(again.headers['idempotent-replayed']).to.equal('true');
      expect(again.body.code).to.equal((a.status === 201 ? a : b).body.code);
      expect(Number(((await t.db('cases').count('* as n').first()) as any).n)).to.equal(before + 1);
    });

    it('Given the same key with another body, then 409; and a failed request frees its key', async () => {
      await h.s.http.post('/v1/cases').set(h.keys.operator).set('Idempotency-Key', 'k-2').send({ variables: { title: 'Một', description: 'Nội dung phản ánh ghi nhận qua tổng đài.', channel: 'call', field: 'Y-TE' } });
      const other = await h.s.http.post('/v1/cases').set(h.keys.operator).set('Idempotency-Key', 'k-2').send({ variables: { title: 'Hai', description: 'Nội dung phản ánh ghi nhận qua tổng đài.', channel: 'call', field: 'Y-TE' } });
      expect(other.status).to.equal(409);
      const bad = await h.s.http.post('/v1/cases').set(h.keys.operator).set('Idempotency-Key', 'k-3').send({ variables: { title: 'Sai mã', description: 'Nội dung phản ánh ghi nhận qua tổng đài.', channel: 'call', field: 'KHONG-CO' } });
      expect(bad.status).to.equal(422);
      const fixed = await h.s.http.post('/v1/cases').set(h.keys.operator).set('Idempotency-Key', 'k-3').send({ variables: { title: 'Sai mã', description: 'Nội dung phản ánh ghi nhận qua tổng đài.', channel: 'call', field: 'KHONG-CO' } });
      expect(fixed.status).to.equal(422); // not a replay of a stored failure: the key was released
    });
  });

  describe('Rate limits', () => {
    it('Given a node limited to 3 writes per minute per key, the 4th write of a key gets 429 with Retry-After, reads still pass, and another key is unaffected', async () => {
      const limited = supertest(createApp({ ...h.s, writeRateLimitPerMinute: 3 }).callback());
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.post('/v1/cases').set(h.keys.operator).send({ variables: { title: `Giới hạn ${i}`, description: 'Nội dung phản ánh ghi nhận qua tổng đài.', channel: 'call', field: 'Y-TE' } })).status);
      expect(statuses).to.deep.equal([201, 201, 201, 429]);
      const refused = await limited.post('/v1/cases').set(h.keys.operator).send({ variables: { title: 'Lần 5', description: 'Nội dung phản ánh ghi nhận qua tổng đài.', channel: 'call', field: 'Y-TE' } });
      expect(refused.type).to.equal('application/problem+json');
      expect(Number(refused.headers['retry-after'])).to.be.greaterThan(0);
      expect((await limited.get('/v1/tasks').set(h.keys.operator)).status).to.equal(200);
      const other = await h.s.as('operator', 'TONG-DAI-1022', 'Tổng đài viên 2');
      expect((await limited.post('/v1/cases').set(other).send({ variables: { title: 'Khóa khác', description: 'Nội dung phản ánh ghi nhận qua tổng đài.', channel: 'call', field: 'Y-TE' } })).status).to.equal(201);
    });
  });
});

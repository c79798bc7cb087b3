import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../api/app.js';
import { vietnamDate } from '../engine/vietnam-time.js';
import { freshDb, type TestDb } from './helpers/db.js';
import { Hotline, type Key } from './helpers/scenario.js';

describe('Auditors’ history: complete, tamper-evident, masked, exportable', () => {
  let t: TestDb;
  let h: Hotline;
  let code: string;
  let caseId: string;

  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
    const kase = await h.intake({ title: 'Rác thải ùn ứ ở chợ Long Khánh', field: 'MOI-TRUONG', citizenName: 'Võ Thị Lan', citizenPhone: '0938111222', channel: 'call' });
    code = kase.code;
    caseId = kase.id;
    await h.act(code, 'handle', 'SNNMT', { outcome: 'transfer', toAgency: 'SXD', transferReason: 'Thuộc quản lý hạ tầng đô thị' });
    await h.act(code, 'handle', 'SXD', { outcome: 'answer', answer: 'Đã chỉ đạo thu gom rác trong ngày.' });
    await h.act(code, 'review', 'coordinator', { reviewDecision: 'approve', publish: true });
    await h.message(code, 'citizen-rating', { satisfied: true });
  });
  after(() => t.close());

  describe('Completeness', () => {
    it('Given a whole case, its timeline is complete and ordered: seq 1..n, from case.started to case.completed, every task created and completed, each with its actor', async () => {
      const res = await h.s.http.get(`/v1/cases/${code}/history`).set(h.keys.auditor);
      expect(res.status).to.equal(200);
      const events = res.body.events;
      expect(events.map((e: any) => e.seq)).to.deep.equal(events.map((_: unknown, i: number) => i + 1));
      expect(events[0].type).to.equal('case.started');
      expect(events[events.length - 1].type).to.equal('case.completed');
      const created = events.filter((e: any) => e.type === 'task.created').map((e: any) => e.payload.taskId);
      const completed = events.filter((e: any) => e.type === 'task.completed').map((e: any) => e.payload.taskId);
      expect(created).to.have.length(3); // handle (SNNMT), handle (SXD), review
      expect(completed).to.deep.equal(created);
      const transfer = events.find((e: any) => e.type === 'task.completed' && e.payload.output.outcome === 'transfer');
      expect(transfer.payload.output).to.include({ toAgency: 'SXD', transferReason: 'Thuộc quản lý hạ tầng đô thị' });
      expect(transfer.actor.agency).to.equal('SNNMT');
      expect(transfer.requestId).to.be.a('string');
      for (const e of events) expect(e.actor.id).to.be.a('string').and.not.equal('');
      expect(events.map((e: any) => e.type)).to.include.members(['sms.queued', 'message.correlated', 'activity.started', 'activity.completed']);
    });
  });

  describe('Tamper evidence', () => {
    it('Given a deployment, it is recorded on the system chain with the deployer', async () => {
      const system = await t.db('case_events').whereNull('case_id').orderBy('seq');
      expect(system.map((e) => e.seq)).to.deep.equal(system.map((_, i) => i + 1));
      const deployed = system.filter((e) => e.type === 'definition.deployed');
      expect(deployed.map((e) => e.payload.key)).to.include.members(['routing', 'complaint-handling']);
      expect(system.filter((e) => e.type === 'definition.activated').map((e) => e.payload.key)).to.include.members(['routing', 'complaint-handling']);
    });

    it('Given untouched history, verify passes over every chain', async () => {
      const res = await h.s.http.get('/v1/history/verify').set(h.keys.auditor);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ ok: true, firstBroken: null });
      expect(res.body.eventsChecked).to.be.greaterThan(20);
    });

    it('Given the database itself, UPDATE and DELETE on events are refused', async () => {
      let updateError: any;
      try {
        await t.db('case_events').where({ case_id: caseId, seq: 2 }).update({ type: 'rewritten' });
      } catch (err) {
        updateError = err;
      }
      expect(String(updateError?.message)).to.match(/append-only/);
      let deleteError: any;
      try {
        await t.db('case_events').where({ case_id: caseId }).delete();
      } catch (err) {
        deleteError = err;
      }
      expect(String(deleteError?.message)).to.match(/append-only/);
    });

    it('Given a superuser who disables the trigger and rewrites an answer, verify reports the first broken link', async () => {
      const victim = await t.db('case_events').where({ case_id: caseId, type: 'task.completed' }).orderBy('seq', 'desc').first('seq', 'payload');
      await t.db.transaction(async (trx) => {
        await trx.raw('alter table case_events disable trigger case_events_no_update');
        await trx('case_events').where({ case_id: caseId, seq: victim.seq }).update({ payload: JSON.stringify({ ...victim.payload, output: { reviewDecision: 'sendBack' } }) });
        await trx.raw('alter table case_events enable trigger case_events_no_update');
      });
      const res = await h.s.http.get(`/v1/history/verify?case=${code}`).set(h.keys.auditor);
      expect(res.body.ok).to.equal(false);
      expect(res.body.firstBroken).to.include({ caseCode: code, seq: victim.seq });
      expect(res.body.firstBroken.reason).to.match(/changed after it was written/);
      const all = await h.s.http.get('/v1/history/verify').set(h.keys.auditor);
      expect(all.body.ok).to.equal(false);
    });
  });

  describe('Retention by month', () => {
    it('Given monthly partitions, new events land in this month’s partition, and an old month detaches without touching live cases', async () => {
      const { rows } = await t.db.raw(`select distinct tableoid::regclass::text as part from case_events where case_id = ?`, [caseId]);
      // This month is the node's (its clock stamps the events), in Vietnam time.
      const month = vietnamDate(h.s.clock.now()).slice(0, 7);
      expect(rows.map((r: any) => r.part)).to.deep.equal([`case_events_y${month.replace('-', 'm')}`]);
      // Archive step 1 of docs/auditor-guide.md: detach last month (empty here), then dump and drop it.
      const [year, m] = month.split('-').map(Number);
      const last = new Date(Date.UTC(year, m - 2, 1)).toISOString().slice(0, 10);
      // A fresh database has a partition for the month before its migration only; make sure last month's exists.
      await t.db.raw(`select pakn_ensure_event_partitions(?::date, 1)`, [last]);
      const old = `case_events_y${last.slice(0, 7).replace('-', 'm')}`;
      await t.db.raw(`alter table case_events detach partition ${old}`);
      await t.db.raw(`drop table ${old}`);
      const res = await h.s.http.get(`/v1/cases/${code}/history`).set(h.keys.auditor);
      expect(res.status).to.equal(200);
      expect(res.body.events.length).to.be.greaterThan(20);
    });
  });

  describe('Personal data', () => {
    let auditorWithPii: Key;
    before(async () => {
      auditorWithPii = await h.s.as(['auditor', 'pii'], null, 'Thanh tra có quyền xem dữ liệu cá nhân');
    });

    it('Given an auditor without pii, names and phones in the history are masked', async () => {
      const res = await h.s.http.get(`/v1/cases/${code}/history`).set(h.keys.auditor);
      const started = res.body.events[0];
      expect(started.payload.variables.citizenPhone).to.equal('*******222');
      expect(started.payload.variables.citizenName).to.equal('V***');
      expect(JSON.stringify(res.body)).not.to.contain('0938111222');
    });

    it('Given variable changes, each records old → new and personal data is marked and masked', async () => {
      const res = await h.s.http.get(`/v1/cases/${code}/history`).set(h.keys.auditor);
      const changes = res.body.events.filter((e: any) => e.type === 'variables.changed').flatMap((e: any) => e.payload.changes);
      const phone = changes.find((c: any) => c.name === 'citizenPhone');
      expect(phone).to.deep.equal({ name: 'citizenPhone', old: null, new: '*******222', personal: true });
      const agency = changes.filter((c: any) => c.name === 'agency').map((c: any) => [c.old, c.new]);
      expect(agency).to.deep.equal([[null, 'SNNMT'], ['SNNMT', 'SXD']]);
    });

    it('Given an auditor with pii, the data is shown and the read itself is recorded in the history', async () => {
      const before = await t.db('case_events').where({ case_id: caseId, type: 'pii.read' }).count('* as n').first();
      const res = await h.s.http.get(`/v1/cases/${code}/history`).set(auditorWithPii);
      expect(res.body.events[0].payload.variables.citizenPhone).to.equal('0938111222');
      const reads = await t.db('case_events').where({ case_id: caseId, type: 'pii.read' });
      expect(reads.length).to.equal(Number((before as any).n) + 1);
      expect(reads[reads.length - 1].actor_id).to.equal(auditorWithPii.id);
      const view = await h.s.http.get(`/v1/cases/${code}`).set(auditorWithPii);
      expect(view.body.variables.citizenPhone).to.equal('0938111222');
      const after = await t.db('case_events').where({ case_id: caseId, type: 'pii.read' });
      expect(after.length).to.equal(reads.length + 1);
      await h.s.http.get('/v1/history/events?type=case.started').set(auditorWithPii);
      const exported = await t.db('case_events').whereNull('case_id').where({ type: 'pii.exported' });
      expect(exported).to.have.length(1);
    });

    it('Given agencies, the one that held the case reads its history and another gets 404', async () => {
      expect((await h.s.http.get(`/v1/cases/${code}/history`).set(await h.agency('SNNMT'))).status).to.equal(200);
      expect((await h.s.http.get(`/v1/cases/${code}/history`).set(await h.agency('CONG-AN'))).status).to.equal(404);
    });
  });

  describe('Export', () => {
    it('Given CSV, the export is UTF-8 with a BOM, a header, and Vietnamese intact', async () => {
      const res = await h.s.http.get('/v1/history/events?format=csv&type=task.completed').set(h.keys.auditor).buffer(true).parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      });
      const body: Buffer = res.body;
      expect([...body.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
      const text = body.toString('utf8').slice(1);
      expect(text.split('\n')[0]).to.equal('caseCode,seq,at,type,elementId,elementName,actorId,actorAgency,actorRoles,requestId,payload,hash');
      expect(text).to.contain('Xử lý, trả lời phản ánh');
      expect(res.headers['content-disposition']).to.match(/attachment; filename="pakn-events-/);
    });

    it('Given 100 000 events, the JSON-lines export streams them all while the heap stays bounded', async function () {
      this.timeout(180_000);
      // Bulk history straight in SQL (outside any chain), then stream it over a real socket.
      await t.db.raw('alter table case_events disable trigger case_events_no_update');
      await t.db.raw(
        `insert into case_events (case_id, seq, type, actor_id, actor_roles, actor_agency, payload, at)
         select ?, 100000 + g, 'bulk.event', 'system:bulk', '{}', 'SNNMT', jsonb_build_object('n', g, 'note', 'Dữ liệu kiểm thử xuất lịch sử'), now() + g * interval '1 millisecond'
         from generate_series(1, 100000) g`,
        [caseId],
      );
      const server: Server = createServer(createApp(h.s).callback());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const gc = (globalThis as any).gc as (() => void) | undefined;
        gc?.();
        const base = process.memoryUsage().heapUsed;
        let peak = 0;
        let lines = 0;
        let rest = '';
        const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/history/events?type=bulk.event`, { headers: { authorization: h.keys.auditor.Authorization } });
        expect(res.status).to.equal(200);
        const decoder = new TextDecoder();
        for await (const chunk of res.body as any) {
          const text = rest + decoder.decode(chunk, { stream: true });
          const parts = text.split('\n');
          rest = parts.pop()!;
          lines += parts.length;
          if (lines % 5000 < parts.length) peak = Math.max(peak, process.memoryUsage().heapUsed - base);
        }
        expect(lines).to.equal(100_000);
        // The whole export as JS objects would be hundreds of MB; batches of 1000 keep it small.
        expect(peak / 1048576).to.be.lessThan(100);
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
      }
    });
  });
});

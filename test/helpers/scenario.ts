import { expect } from 'chai';
import { deployProcesses } from '../../api/system.js';
import type { Db } from '../../db/connect.js';
import { ROOT, testSystem, type TestSystem } from './system.js';
import { join } from 'node:path';

export type Key = { Authorization: string; id: string };

/**
 * A hotline on a fresh database with the shipped processes/ loaded (catalogue,
 * routing table, diagram), and one key per party of the directive. Scenario
 * steps go through the HTTP API only; timers fire through the job executor.
 */
export class Hotline {
  keys: Record<string, Key> = {};

  private constructor(readonly s: TestSystem) {}

  static async open(db: Db, processesDir = join(ROOT, 'processes'), options: Parameters<typeof testSystem>[2] = {}): Promise<Hotline> {
    const s = await testSystem(db, { processesDir }, options);
    await deployProcesses(s, processesDir);
    const h = new Hotline(s);
    h.keys.operator = await s.as('operator', 'TONG-DAI-1022', 'Tổng đài viên');
    h.keys.coordinator = await s.as('coordinator', 'VP-UBND', 'VP UBND tỉnh');
    h.keys.reviewer = await s.as('reviewer', 'SNV', 'Sở Nội vụ');
    h.keys.auditor = await s.as('auditor', null, 'Kiểm tra viên');
    return h;
  }

  /** A key for an agency (sector department or local focal point), made on first use. */
  async agency(code: string): Promise<Key> {
    this.keys[code] ??= await this.s.as('agency', code, `Cán bộ ${code}`);
    return this.keys[code];
  }

  /**
   * Open a case through POST /v1/cases. Intake requires title, description and
   * channel; a scenario that does not care about them gets a plain description
   * and the hotline call as channel (a scenario may still set its own).
   */
  async intake(variables: Record<string, unknown>, process?: string) {
    const complete = { description: `Nội dung phản ánh: ${String(variables.title ?? 'không tiêu đề')}.`, channel: 'call', ...variables };
    const res = await this.s.http.post('/v1/cases').set(this.keys.operator).send({ variables: complete, ...(process ? { process } : {}) });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string; code: string; status: string; tasks: any[]; variables: Record<string, any> };
  }

  async case(code: string, as: Key = this.keys.coordinator) {
    const res = await this.s.http.get(`/v1/cases/${code}`).set(as);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as { id: string; code: string; status: string; version: number; tasks: any[]; variables: Record<string, any>; process: { key: string; version: number } };
  }

  /** The one open task of the case, checked to be the expected step for the expected group. */
  async task(code: string, elementId: string, group?: string) {
    const kase = await this.case(code);
    const open = kase.tasks.filter((t) => t.elementId === elementId);
    expect(open, `open tasks of ${code}: ${kase.tasks.map((t) => t.elementId).join(', ') || 'none'}`).to.have.length(1);
    if (group) expect(open[0].candidateGroups).to.deep.equal([group]);
    return open[0];
  }

  async complete(taskId: string, as: Key, body: Record<string, unknown>, status = 200) {
    const res = await this.s.http.post(`/v1/tasks/${taskId}/complete`).set(as).send(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(status);
    return res.body;
  }

  async message(code: string, name: string, body: Record<string, unknown>) {
    const res = await this.s.http.post(`/v1/cases/${code}/messages/${name}`).set(this.keys.operator).send(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  }

  /** Complete the step `elementId` as the party its candidate group names. */
  async act(code: string, elementId: string, group: string, body: Record<string, unknown>) {
    const task = await this.task(code, elementId, group);
    const key = this.keys[group] ?? (await this.agency(group));
    return this.complete(task.id, key, body);
  }

  /**
   * Eight cases of a sample week for the dashboard: a third answered and
   * approved, a third returned as not competent (escalated), a third open.
   */
  async sampleWeek() {
    const fields = ['DAT-DAI', 'XAY-DUNG', 'Y-TE', 'DAT-DAI', 'GIAO-DUC', 'DAT-DAI', 'MOI-TRUONG', 'XAY-DUNG'];
    for (const [i, field] of fields.entries()) {
      const kase = await this.intake({ title: `Phản ánh minh họa ${i + 1}`, field, procedure: field === 'DAT-DAI' ? 'DD-CAP-GCN-LAN-DAU' : undefined });
      const agency = kase.variables.agency as string;
      if (i % 3 === 0) {
        await this.act(kase.code, 'handle', agency, { outcome: 'answer', answer: 'Đã giải quyết dứt điểm.' });
        await this.act(kase.code, 'review', 'coordinator', { reviewDecision: 'approve' });
      } else if (i % 3 === 1) {
        await this.act(kase.code, 'handle', agency, { outcome: 'notCompetent', returnReason: 'Không thuộc thẩm quyền' });
      }
    }
  }

  async events(caseId: string) {
    return this.s.db('case_events').where({ case_id: caseId }).orderBy('seq').select('type', 'element_id', 'actor_id', 'payload');
  }

  async jobs(caseId: string, type?: string) {
    const q = this.s.db('jobs').where({ case_id: caseId });
    if (type) q.where({ type });
    return q.orderBy('id');
  }

  close() {
    return this.s.close();
  }
}

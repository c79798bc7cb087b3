import { expect } from 'chai';
import { join } from 'node:path';
import { FormRegistry } from '../../engine/forms.js';
import { freshDb, type TestDb } from '../helpers/db.js';
import { Hotline } from '../helpers/scenario.js';
import { ROOT } from '../helpers/system.js';

/**
 * Found by a check of the operator guide: POST …/messages/citizen-info with
 * {"citizenInfo":"   "} answered 200 and resumed the case, so the citizen's
 * real information could no longer be delivered (409). Intake already
 * refused a title or description of spaces only; a message's or a task
 * form's required text is now refused the same way (422 naming the field),
 * and a refused message or task leaves the case as it was.
 */
describe('Regression: blank required text is refused in messages and task forms', () => {
  let t: TestDb;
  let h: Hotline;
  before(async () => {
    t = await freshDb();
    h = await Hotline.open(t.db);
  });
  after(() => t.close());

  const BLANKS = ['   ', ' \n\t '];

  it('Given a case waiting for the citizen’s information, when citizenInfo of spaces only is sent, then 422 names /citizenInfo, the case still waits, and the real information is delivered', async () => {
    const kase = await h.intake({ title: 'Nước sinh hoạt có mùi lạ', field: 'XAY-DUNG', citizenPhone: '0966 555 444' });
    await h.act(kase.code, 'handle', 'SXD', { outcome: 'moreInfo', question: 'Xin cho biết địa chỉ cụ thể' });
    const before = await h.case(kase.code);
    for (const citizenInfo of BLANKS) {
      const res = await h.s.http.post(`/v1/cases/${kase.code}/messages/citizen-info`).set(h.keys.operator).send({ citizenInfo });
      expect(res.status, JSON.stringify(res.body)).to.equal(422);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(res.body.errors).to.deep.equal([{ path: '/citizenInfo', message: 'must not be blank (only spaces)' }]);
    }
    const after = await h.case(kase.code);
    expect(after.version).to.equal(before.version);
    expect(after.tasks).to.deep.equal(before.tasks);
    expect(after.variables).not.to.have.property('citizenInfo');
    await h.message(kase.code, 'citizen-info', { citizenInfo: 'Số 12 đường Nguyễn Ái Quốc' });
    await h.task(kase.code, 'handle', 'SXD');
    expect((await h.case(kase.code)).variables).to.include({ citizenInfo: 'Số 12 đường Nguyễn Ái Quốc' });
  });

  it('Given the handling step, when its required text (answer, transfer or return reason, question) is spaces only, then 422 names the field and the task stays open', async () => {
    const kase = await h.intake({ title: 'Đèn đường không sáng', field: 'XAY-DUNG' });
    const task = await h.task(kase.code, 'handle', 'SXD');
    const clerk = await h.agency('SXD');
    const tries: Array<[Record<string, unknown>, string]> = [
      [{ outcome: 'answer', answer: ' '.repeat(12) }, '/answer'],
      [{ outcome: 'transfer', toAgency: 'SYT', transferReason: ' '.repeat(6) }, '/transferReason'],
      [{ outcome: 'notCompetent', returnReason: ' \n    ' }, '/returnReason'],
      [{ outcome: 'moreInfo', question: ' '.repeat(6) }, '/question'],
    ];
    for (const [body, path] of tries) {
      const res = await h.s.http.post(`/v1/tasks/${task.id}/complete`).set(clerk).send(body);
      expect(res.status, JSON.stringify(res.body)).to.equal(422);
      expect(res.body.errors, path).to.deep.equal([{ path, message: 'must not be blank (only spaces)' }]);
    }
    expect((await h.task(kase.code, 'handle', 'SXD')).id).to.equal(task.id);
  });

  it('Given the review step, when it is sent back with a comment of spaces only (or empty), then 422 names /reviewComment; approving needs no comment', async () => {
    const kase = await h.intake({ title: 'Ổ gà trên đường', field: 'XAY-DUNG' });
    await h.act(kase.code, 'handle', 'SXD', { outcome: 'answer', answer: 'Đã cử đội duy tu vá ổ gà.' });
    const review = await h.task(kase.code, 'review', 'coordinator');
    for (const reviewComment of ['', ...BLANKS]) {
      const res = await h.s.http.post(`/v1/tasks/${review.id}/complete`).set(h.keys.coordinator).send({ reviewDecision: 'sendBack', reviewComment });
      expect(res.status, JSON.stringify(res.body)).to.equal(422);
      expect(res.body.errors.map((e: any) => e.path)).to.include('/reviewComment');
    }
    expect((await h.task(kase.code, 'review', 'coordinator')).id).to.equal(review.id);
    await h.complete(review.id, h.keys.coordinator, { reviewDecision: 'approve' });
  });

  it('Given the coordination step, when it answers with spaces only, then 422 names /answer', async () => {
    const kase = await h.intake({ title: 'Karaoke gây ồn', field: 'XAY-DUNG' });
    await h.act(kase.code, 'handle', 'SXD', { outcome: 'notCompetent', returnReason: 'Không thuộc thẩm quyền của Sở' });
    const task = await h.task(kase.code, 'coordinate', 'coordinator');
    const res = await h.s.http.post(`/v1/tasks/${task.id}/complete`).set(h.keys.coordinator).send({ decision: 'answer', answer: ' '.repeat(12) });
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.body.errors).to.deep.equal([{ path: '/answer', message: 'must not be blank (only spaces)' }]);
    expect((await h.task(kase.code, 'coordinate', 'coordinator')).id).to.equal(task.id);
  });

  it('Given the installed forms, then every required free-text field of a message or task form refuses spaces only', () => {
    const registry = FormRegistry.fromDirectory(join(ROOT, 'processes', 'forms'));
    const unguarded: string[] = [];
    for (const key of registry.keys()) {
      const schema = registry.schema(key) as any;
      for (const { name, where } of requiredFields(schema)) {
        const field = schema.properties?.[name];
        // Codes, choices and dates have their own pattern, enum or format; free text has none of them.
        if (field?.type !== 'string' || field.enum || field.format || (field.pattern && field.pattern !== '\\S')) continue;
        if (field.pattern !== '\\S' && where?.properties?.[name]?.pattern !== '\\S') unguarded.push(`${key}: ${name}`);
      }
    }
    expect(unguarded).to.deep.equal([]);
  });
});

/** The fields a form requires, always or under a condition (if/then, allOf of if/then), with the branch that requires them. */
function requiredFields(schema: any): Array<{ name: string; where?: any }> {
  const branches = [schema, ...(schema.allOf ?? [])].map((s: any) => s?.then).filter(Boolean);
  return [...(schema.required ?? []).map((name: string) => ({ name })), ...branches.flatMap((b: any) => (b.required ?? []).map((name: string) => ({ name, where: b })))];
}

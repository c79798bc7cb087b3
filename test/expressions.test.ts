import { expect } from 'chai';
import { evaluateFeel, resolveDueDate, resolveList } from '../engine/feel.js';
import { newEngine, parseBpmn, buildContext } from '../engine/bpmn.js';
import { fixture } from './helpers/system.js';

describe('Expressions: FEEL only, no JavaScript, no prototypes', () => {
  it('Given FEEL that asks for constructor, it resolves to null, not to Object internals', () => {
    expect(evaluateFeel('constructor', {})).to.equal(null);
    expect(evaluateFeel('x.constructor', { x: {} })).to.equal(null);
    expect(evaluateFeel('x.__proto__', { x: {} })).to.equal(null);
  });

  it('Given candidate groups as a literal list or FEEL, they resolve to a list of codes', () => {
    expect(resolveList('SNNMT, CONG-AN', {})).to.deep.equal(['SNNMT', 'CONG-AN']);
    expect(resolveList('=agency', { agency: 'SO-YT' })).to.deep.equal(['SO-YT']);
    expect(resolveList('=[agency, "VP-UBND"]', { agency: 'SO-YT' })).to.deep.equal(['SO-YT', 'VP-UBND']);
  });

  it('Given a due date as an ISO duration, a date-time or FEEL, it resolves to an instant', () => {
    const from = new Date('2026-03-02T01:00:00Z');
    expect(resolveDueDate('P2D', {}, from)?.toISOString()).to.equal('2026-03-04T01:00:00.000Z');
    expect(resolveDueDate('2026-12-01T08:00:00+07:00', {}, from)?.toISOString()).to.equal('2026-12-01T01:00:00.000Z');
    expect(resolveDueDate('=date and time("2026-12-01T08:00:00@Asia/Ho_Chi_Minh")', {}, from)?.toISOString()).to.equal('2026-12-01T01:00:00.000Z');
    expect(() => resolveDueDate('=dueText', { dueText: 'soon' }, from)).to.throw(/not a date/);
  });

  it('Given the engine resolver, a ${…} expression reaching a constructor is refused at run time too', async () => {
    // Deploy refuses such diagrams; this checks the second line of defence in the engine itself.
    const xml = fixture('simple.bpmn').replace('camunda:dueDate="P3D"', 'camunda:dueDate="P3D" camunda:followUpDate="x"');
    const context = buildContext(await parseBpmn(xml));
    const { engine } = newEngine('probe', context);
    const resolve = (engine.environment as any).resolveExpression.bind(engine.environment);
    expect(() => resolve('${content.constructor.constructor("return process")()}', { content: {} })).to.throw(/not FEEL/);
    expect(resolve('P10D', {})).to.equal('P10D');
    expect(resolve('=1 + 1', {})).to.equal(2);
    expect(resolve('${environment.services.missing}', {})).to.equal(undefined);
  });
});

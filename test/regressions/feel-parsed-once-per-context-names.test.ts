import { expect } from 'chai';
import * as feelin from 'feelin';
import { evaluateFeel, feelCacheStats, feelTest, feelValue, resolveDueDate } from '../../engine/feel.js';

/**
 * Issue 20: feelin parsed every FEEL expression on every evaluation — 7 % of
 * the shipped diagram's CPU (27 evaluations per case start and completion,
 * the routing table's tests among them). Expressions are now parsed and built
 * once (feelin's `compileExpression`/`compileUnaryTests`, added by
 * patches/feelin+8.2.0.patch) and kept by expression and the names of the
 * context, because feelin's parser reads those names: `a+b` is one variable
 * where the context has a key "a+b", and a sum where it has not.
 */
describe('Regression: FEEL is parsed once per expression and names of its context', () => {
  const delta = (run: () => void) => {
    const before = { ...feelCacheStats };
    run();
    return { hits: feelCacheStats.hits - before.hits, misses: feelCacheStats.misses - before.misses };
  };

  it('Given the feelin patch, then feelin compiles expressions and unary tests', () => {
    expect((feelin as any).compileExpression, 'patches/feelin+8.2.0.patch applied by npm install').to.be.a('function');
    expect((feelin as any).compileUnaryTests).to.be.a('function');
  });

  it('Given an expression evaluated twice with the same names and other values, then it is parsed once and each answer is its own', () => {
    const counted = delta(() => {
      expect(evaluateFeel('=if score >= 5 then "cao" else "thấp"', { score: 7, regressionProbe: 1 })).to.equal('cao');
      expect(evaluateFeel('=if score >= 5 then "cao" else "thấp"', { score: 2, regressionProbe: 1 })).to.equal('thấp');
    });
    expect(counted).to.deep.equal({ hits: 1, misses: 1 });
  });

  it('Given a context that has a name with a symbol, then the same text is not read as it was for a context without it (either order)', () => {
    expect(feelValue('a+b', { a: 1, b: 2 })).to.equal(3);
    expect(feelValue('a+b', { 'a+b': 7, a: 1, b: 2 })).to.equal(7);
    expect(feelValue('a+b', { a: 10, b: 20 })).to.equal(30);
    expect(feelValue('a + c', { 'a + c': 8 })).to.equal(8);
    expect(feelValue('a + c', { a: 1, c: 1 })).to.equal(2);
  });

  it('Given a multi-word name nested in a context, then a path reaches it only where the nested context has it', () => {
    expect(feelValue('x.y z', { x: { 'y z': 5 } })).to.equal(5);
    expect(feelValue('x.y z', { x: { y: 1 } })).to.equal(null);
    expect(feelValue('x.y z', { x: { 'y z': 6 } })).to.equal(6);
    expect(feelValue('order total * 2', { 'order total': 5 })).to.equal(10);
    expect(feelValue('order total * 2', { order: 5 })).to.equal(null);
  });

  it('Given a decision cell (unary tests), then it tests each value it is given', () => {
    const counted = delta(() => {
      expect(feelTest('[1..5]', { '?': 3, probe2: true })).to.equal(true);
      expect(feelTest('[1..5]', { '?': 9, probe2: true })).to.equal(false);
      expect(feelTest('"SXD", "SNNMT"', { '?': 'SNNMT', probe2: true })).to.equal(true);
    });
    expect(counted.hits).to.equal(1);
  });

  it('Given a duration without years or months, then it counts the same from any start; with months, from where it starts', () => {
    const jan31 = new Date('2027-01-31T03:00:00Z');
    const mar31 = new Date('2027-03-31T03:00:00Z');
    expect(resolveDueDate('P7DT12H', {}, jan31)!.toISOString()).to.equal('2027-02-07T15:00:00.000Z');
    expect(resolveDueDate('P7DT12H', {}, mar31)!.toISOString()).to.equal('2027-04-07T15:00:00.000Z');
    expect(resolveDueDate('P1M', {}, jan31)!.toISOString()).to.equal('2027-02-28T03:00:00.000Z');
    expect(resolveDueDate('P1M', {}, mar31)!.toISOString()).to.equal('2027-04-30T03:00:00.000Z');
    expect(() => resolveDueDate('P"1D', {}, jan31)).to.throw(/not an ISO 8601 duration/);
  });
});

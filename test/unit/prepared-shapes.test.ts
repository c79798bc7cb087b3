import { expect } from 'chai';
import { PreparedShapes } from '../../db/prepared.js';

/** Issue 20: the command's write statement is prepared per shape, a bounded number of shapes a node (db/prepared.ts). */
describe('PreparedShapes: which shapes of a varying statement are sent prepared', () => {
  const a = 'with w0 as (delete from "tasks" where "id" in (?)) insert into x values (?)';
  const b = 'with w0 as (delete from "tasks" where "id" in (?, ?)) insert into x values (?)';
  const c = 'with events as (insert into x values (?), (?)) select 1';

  it('Given a shape sent once and twice, when it is sent a third time, then it gets a name, the same one from then on', () => {
    const shapes = new PreparedShapes({ limit: 10, after: 3, counted: 100 });
    expect([shapes.name(a), shapes.name(a)]).to.deep.equal([undefined, undefined]);
    const name = shapes.name(a);
    expect(name).to.match(/^pakn_[0-9a-f]{24}$/);
    expect(shapes.name(a)).to.equal(name);
    // Another shape counts on its own and gets another name.
    shapes.name(b);
    shapes.name(b);
    expect(shapes.name(b)).to.match(/^pakn_/).and.not.equal(name);
  });

  it('Given the limit of named shapes reached, when another shape is sent often, then it stays unprepared and the named ones keep their names', () => {
    const shapes = new PreparedShapes({ limit: 1, after: 2, counted: 100 });
    shapes.name(a);
    const name = shapes.name(a);
    expect(name).to.match(/^pakn_/);
    for (let i = 0; i < 5; i++) expect(shapes.name(b)).to.equal(undefined);
    expect(shapes.name(a)).to.equal(name);
  });

  it('Given as many shapes counted as allowed, when a new shape comes, then it is never counted nor named', () => {
    const shapes = new PreparedShapes({ limit: 10, after: 2, counted: 2 });
    shapes.name(a);
    shapes.name(b);
    for (let i = 0; i < 5; i++) expect(shapes.name(c)).to.equal(undefined);
    // The shapes already counted still get their names.
    expect(shapes.name(a)).to.match(/^pakn_/);
  });
});

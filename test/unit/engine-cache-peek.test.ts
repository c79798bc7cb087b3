import { expect } from 'chai';
import { EngineCache } from '../../engine/engine-cache.js';
import type { EngineSession } from '../../engine/session.js';

/**
 * EngineCache.peek: the version a node keeps a case's engine at, found by the
 * case or by one of its open tasks, for the command's lock (db/cases.ts
 * lockedCase leaves the state out when the row is at that version). It must
 * forget a task as soon as its entry goes, or a lock would leave out a state
 * the node no longer holds.
 */
describe('EngineCache.peek', () => {
  const released: string[] = [];
  const session = (name: string) => ({ release: () => released.push(name) }) as unknown as EngineSession;

  it('Given kept engines, when peeked by case or by open task, then the kept version is given; once taken, evicted, dropped or replaced, the old tasks find nothing', () => {
    const cache = new EngineCache(2);
    cache.put('case-a', { session: session('a'), version: 3, definitionId: 1, taskIds: ['task-a1', 'task-a2'] });
    cache.put('case-b', { session: session('b'), version: 7, definitionId: 1, taskIds: ['task-b'] });
    expect(cache.peek({ taskId: 'task-a2' })).to.deep.equal({ caseId: 'case-a', version: 3 });
    expect(cache.peek({ caseId: 'case-b' })).to.deep.equal({ caseId: 'case-b', version: 7 });
    expect(cache.peek({ taskId: 'task-x' })).to.equal(undefined);

    // Taken for a command: nothing to peek until it is put back (with the tasks that command left).
    expect(cache.take('case-a', { version: 3, definition_id: 1 })).to.not.equal(undefined);
    expect(cache.peek({ taskId: 'task-a1' })).to.equal(undefined);
    cache.put('case-a', { session: session('a'), version: 4, definitionId: 1, taskIds: ['task-a3'] });
    expect(cache.peek({ taskId: 'task-a1' })).to.equal(undefined);
    expect(cache.peek({ taskId: 'task-a3' })).to.deep.equal({ caseId: 'case-a', version: 4 });

    // A third case evicts the least recently used (b); a drop forgets a as well.
    cache.put('case-c', { session: session('c'), version: 1, definitionId: 1, taskIds: ['task-c'] });
    expect(released).to.include('b');
    expect(cache.peek({ taskId: 'task-b' })).to.equal(undefined);
    cache.drop('case-a');
    expect(cache.peek({ taskId: 'task-a3' })).to.equal(undefined);
    expect(cache.peek({ taskId: 'task-c' })).to.deep.equal({ caseId: 'case-c', version: 1 });
    cache.clear();
    expect(cache.peek({ taskId: 'task-c' })).to.equal(undefined);
  });
});

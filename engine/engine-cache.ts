import type { KeptVersion } from '../db/cases.js';
import type { EngineSession } from './session.js';

/**
 * A per-node, bounded cache of live engines, keyed by case id.
 *
 * Recovering a case's engine from its stored state is most of a command's
 * CPU (issue 20: on the shipped diagram, recover + resume is the larger part
 * of a task completion). A node that ran a case's last command still holds
 * that engine, waiting exactly where the stored state says, so it may use it
 * again — but only when the case row proves it current:
 *
 *   - the entry carries the case row's `version` after the command that
 *     left it; the next command locks the row (SELECT … FOR UPDATE) and uses
 *     the entry only if the row's version and process version are still the
 *     same, i.e. no command on any node has touched the case since;
 *   - an entry is taken out of the cache for the command (two commands of one
 *     node never share an engine) and put back only after the command's
 *     transaction committed; a command that fails or rolls back drops it, so
 *     the engine it mutated is never seen again and the next command recovers
 *     the case as it was stored.
 *
 * Anything else (a miss, another node's write, a migration, a due timer) is a
 * recovery from the stored state, as without the cache. Size 0 turns it off
 * (PAKN_ENGINE_CACHE=0). Least recently used entries go first.
 */
export interface CachedEngine {
  session: EngineSession;
  /** cases.version after the command that left this engine. */
  version: number;
  definitionId: number;
  /** The case's open task rows after that command: a task command finds the entry by its task before it locks the case. */
  taskIds?: readonly string[];
}

export class EngineCache {
  private readonly entries = new Map<string, CachedEngine>();
  /** Task id → case id, for the entries' open tasks. */
  private readonly byTask = new Map<string, string>();
  hits = 0;
  misses = 0;

  constructor(readonly size: number) {}

  get enabled(): boolean {
    return this.size > 0;
  }

  get count(): number {
    return this.entries.size;
  }

  /**
   * Remove and return the case's engine if it is the one for this row (else let go of what was there).
   * Every entry is an engine at rest (only reusable engines are put, after their command committed),
   * so entries are released, not stopped (EngineSession.release).
   */
  take(caseId: string, row: { version: number; definition_id: number }): EngineSession | undefined {
    const entry = this.entries.get(caseId);
    if (!entry) {
      if (this.enabled) this.misses++;
      return undefined;
    }
    this.remove(caseId, entry);
    if (entry.version !== row.version || entry.definitionId !== row.definition_id) {
      entry.session.release();
      this.misses++;
      return undefined;
    }
    this.hits++;
    return entry.session;
  }

  /**
   * The version the node keeps the case at (by its id, or by one of its open tasks), without taking the engine:
   * a hint for the lock (db/cases.ts), which compares it with the row; take() decides.
   */
  peek(target: { caseId: string } | { taskId: string }): KeptVersion | undefined {
    const caseId = 'caseId' in target ? target.caseId : this.byTask.get(target.taskId);
    const entry = caseId === undefined ? undefined : this.entries.get(caseId);
    return entry ? { caseId: caseId!, version: entry.version } : undefined;
  }

  /** Keep an engine after its command committed; evicts the least recently used beyond the size. */
  put(caseId: string, entry: CachedEngine): void {
    if (!this.enabled) {
      entry.session.release();
      return;
    }
    const old = this.entries.get(caseId);
    if (old) {
      this.remove(caseId, old);
      if (old.session !== entry.session) old.session.release();
    }
    this.entries.set(caseId, entry);
    for (const id of entry.taskIds ?? []) this.byTask.set(id, caseId);
    while (this.entries.size > this.size) {
      const [oldest, evicted] = this.entries.entries().next().value as [string, CachedEngine];
      this.remove(oldest, evicted);
      evicted.session.release();
    }
  }

  /** A command on the case that changed its row without its engine (claim, comment): the entry follows the version if it was current. */
  bump(caseId: string, from: number, to: number): void {
    const entry = this.entries.get(caseId);
    if (entry && entry.version === from) entry.version = to;
    else if (entry) this.drop(caseId);
  }

  drop(caseId: string): void {
    const entry = this.entries.get(caseId);
    if (!entry) return;
    this.remove(caseId, entry);
    entry.session.release();
  }

  clear(): void {
    for (const entry of this.entries.values()) entry.session.release();
    this.entries.clear();
    this.byTask.clear();
  }

  private remove(caseId: string, entry: CachedEngine): void {
    this.entries.delete(caseId);
    for (const id of entry.taskIds ?? []) if (this.byTask.get(id) === caseId) this.byTask.delete(id);
  }
}

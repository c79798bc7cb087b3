/**
 * What a node keeps of the active versions — the definition a process key's new cases start on, the
 * decision file a decision id reads — while the database's reference version stays where it was when
 * they were read. Switching an active version bumps that version (a trigger on active_definitions,
 * migration 20261207160000), every API request's key read and every job batch's claim bring it along
 * (db/keys.ts, db/jobs.ts), and `at(version)` drops what was kept when it moved; this node's own
 * deploys and switches drop it at once (`forget`). Until a version has been seen (a CLI run, a test
 * calling the runtime directly) nothing is kept: every lookup reads.
 *
 * Issue 20: the two reads were two of a shipped start's seven statements (0.39 and 0.75 ms from Node,
 * prepared; docs/performance.md).
 */
export class ActiveVersions {
  private version: number | undefined;
  /** Moves with every drop: a read that began before one does not store what it read. */
  private generation = 0;
  private readonly entries = new Map<string, unknown>();
  /** Keys are process keys and decision ids: a deployment has tens. */
  private static readonly MAX = 1000;

  /** The reference version the database is at now (read with the API key or the job batch). */
  at(version: number | undefined): void {
    if (version === undefined || version === this.version) return;
    this.version = version;
    this.forget();
  }

  /** Drop everything kept (this node deployed or switched a version). */
  forget(): void {
    this.entries.clear();
    this.generation++;
  }

  /** The kept value of `key`, else what `read` gives (kept when it is something and nothing was dropped meanwhile). */
  async get<T>(key: string, read: () => Promise<T | undefined>): Promise<T | undefined> {
    if (this.version === undefined) return read();
    if (this.entries.has(key)) return this.entries.get(key) as T;
    const generation = this.generation;
    const value = await read();
    if (value !== undefined && generation === this.generation && this.entries.size < ActiveVersions.MAX) this.entries.set(key, value);
    return value;
  }
}

import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Db } from '../db/connect.js';
import {
  caseHeadsBefore,
  checkpointAsOf,
  checkpointHeads,
  checkpointsWithHead,
  findCheckpoint,
  headsNoLongerInHistory,
  insertCheckpoint,
  listCheckpoints,
  systemHeadBefore,
  type CheckpointHead,
  type CheckpointRow,
} from '../db/checkpoints.js';
import { ensurePeriodicJob, reschedulePeriodicJob, type JobRow } from '../db/jobs.js';
import type { Knex } from 'knex';
import type { Clock } from './clock.js';
import { ConflictError, NotFoundError } from './errors.js';
import { liveStart } from './history.js';
import { vietnamDate, vietnamDayStart } from './vietnam-time.js';

export type { CheckpointHead, CheckpointRow };

/** The statement a checkpoint signs; its canonical JSON (RFC 8785) is what the signature covers. */
export interface CheckpointStatement {
  format: 'pakn-history-checkpoint/1';
  asOf: string;
  createdAt: string;
  reason: string;
  cases: number;
  events: number;
  /** sha256 over "caseId seq hash\n" for every case head, cases in id order. */
  digest: string;
  system: { seq: number; hash: string } | null;
}

/** The Ed25519 key checkpoints are signed with: read from configuration, never written to the database. */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
  /** First 16 hex characters of sha256 over the public key (DER): names the key in checkpoints and reports. */
  id: string;
}

/** Parse a PEM private key; refuses anything but Ed25519, naming what was given. */
export function signingKey(pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`The checkpoint key must be an Ed25519 private key; this one is ${privateKey.asymmetricKeyType ?? 'not an asymmetric key'}.`);
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey, publicKey, publicPem: String(publicKey.export({ type: 'spki', format: 'pem' })), id: createHash('sha256').update(der).digest('hex').slice(0, 16) };
}

/** The digest a statement signs over the case heads (sorted here, so the order they were read in does not matter). */
export function headsDigest(heads: Array<Pick<CheckpointHead, 'case_id' | 'seq' | 'hash'>>): string {
  const h = createHash('sha256');
  for (const head of [...heads].sort((a, b) => (a.case_id < b.case_id ? -1 : a.case_id > b.case_id ? 1 : 0))) h.update(`${head.case_id} ${head.seq} ${head.hash}\n`);
  return h.digest('hex');
}

/** The bytes a checkpoint's signature covers. */
export function statementBytes(statement: CheckpointStatement | Record<string, unknown>): Buffer {
  return Buffer.from(canonicalize(statement) ?? '', 'utf8');
}

/**
 * Events stamped within this margin of a checkpoint's time are left to the
 * next one: a command stamps its events before it commits, so a transaction
 * still running when a checkpoint is read may commit events dated just
 * before it. A command lasts milliseconds; a minute is generous.
 */
export const CHECKPOINT_MARGIN_MS = 60_000;

export interface TrustedCheckpoint {
  row: CheckpointRow;
  heads: Map<string, CheckpointHead>;
}

/** A checkpoint that does not hold, with why (verify reports it and falls back to an older one). */
export interface CheckpointProblem {
  id: string;
  reason: string;
}

/**
 * Signed checkpoints of the history: per case the head hash and the event
 * count, and the system chain's head, as of a time; signed with Ed25519 so
 * that rewriting the history and the checkpoints together needs the key,
 * which the database never sees. Made periodically by a job, on demand by
 * auditors, and at the start of each month (the anchor that lets a month be
 * archived without breaking verify).
 */
export class Checkpoints {
  private readonly checked = new Map<string, string | null>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    readonly key?: SigningKey,
  ) {}

  /** Sign the history as of `asOf` (default: now less the margin). */
  async create(input: { by: string; reason: 'scheduled' | 'on-demand' | 'month-start'; asOf?: Date }): Promise<CheckpointRow> {
    const key = this.key;
    if (!key) throw new ConflictError('No checkpoint signing key is configured (PAKN_CHECKPOINT_KEY_FILE): checkpoints cannot be made on this node.');
    const now = this.clock.now();
    const asOf = input.asOf ?? new Date(now.getTime() - CHECKPOINT_MARGIN_MS);
    // The newest checkpoint that holds: the history signed now must still contain what it signed.
    const { trusted: previous } = await this.latestTrusted();
    // Repeatable read: the heads and the system head are one snapshot.
    return this.db.transaction(
      async (trx) => {
        if (previous) await refuseIfRewritten(trx, previous.row);
        const heads = await caseHeadsBefore(trx, asOf);
        const system = await systemHeadBefore(trx, asOf);
        const statement: CheckpointStatement = {
          format: 'pakn-history-checkpoint/1',
          asOf: asOf.toISOString(),
          createdAt: now.toISOString(),
          reason: input.reason,
          cases: heads.length,
          events: heads.reduce((n, h) => n + h.seq, 0) + (system?.seq ?? 0),
          digest: headsDigest(heads),
          system: system ? { seq: system.seq, hash: system.hash } : null,
        };
        const row: Omit<CheckpointRow, 'id'> = {
          as_of: asOf,
          created_at: now,
          created_by: input.by,
          reason: input.reason,
          cases: statement.cases,
          events: statement.events,
          system_seq: system?.seq ?? null,
          system_hash: system?.hash ?? null,
          system_at: system?.at ?? null,
          digest: statement.digest,
          statement: statement as unknown as Record<string, unknown>,
          key_id: key.id,
          public_key: key.publicPem,
          signature: sign(null, statementBytes(statement), key.privateKey).toString('base64'),
        };
        const id = await insertCheckpoint(trx, row, heads);
        return { id, ...row };
      },
      { isolationLevel: 'repeatable read' },
    );
  }

  /**
   * The periodic job: first the start of the current Vietnam month if it has
   * no checkpoint yet (archiving the months before it then keeps every chain
   * anchored), then one as of now.
   */
  async runScheduled(by: string): Promise<CheckpointRow> {
    const now = this.clock.now();
    const monthStart = vietnamDayStart(`${vietnamDate(now).slice(0, 7)}-01`);
    if (now.getTime() - monthStart.getTime() >= CHECKPOINT_MARGIN_MS && !(await checkpointAsOf(this.db, monthStart))) {
      await this.create({ by, reason: 'month-start', asOf: monthStart });
    }
    return this.create({ by, reason: 'scheduled' });
  }

  list(limit: number, beforeId?: string): Promise<CheckpointRow[]> {
    return listCheckpoints(this.db, { limit, beforeId });
  }

  /** One checkpoint with its case heads and whether it holds: what an auditor exports and keeps outside. */
  async export(id: string): Promise<{ row: CheckpointRow; heads: CheckpointHead[]; problem: string | null }> {
    const row = await findCheckpoint(this.db, id);
    if (!row) throw new NotFoundError(`Checkpoint ${id} does not exist.`);
    const heads = await checkpointHeads(this.db, id);
    return { row, heads, problem: this.problemOf(row, heads) };
  }

  /**
   * Why a checkpoint cannot be trusted, or null: its signature must verify
   * with the configured key (not the public key stored beside it, which
   * whoever forged it would have chosen), and its stored heads must give the
   * digest it signed.
   */
  problemOf(row: CheckpointRow, heads: CheckpointHead[]): string | null {
    if (!this.key) return 'no signing key is configured on this node, so no checkpoint can be checked';
    if (row.key_id !== this.key.id) return `it was signed with key ${row.key_id}, not the configured key ${this.key.id}`;
    let valid: boolean;
    try {
      valid = verify(null, statementBytes(row.statement), this.key.publicKey, Buffer.from(row.signature, 'base64'));
    } catch {
      valid = false;
    }
    if (!valid) return 'its signature does not verify with the configured key: the checkpoint was forged or altered';
    const s = row.statement as unknown as CheckpointStatement;
    if (s.asOf !== new Date(row.as_of).toISOString() || (s.system?.seq ?? null) !== row.system_seq || (s.system?.hash ?? null) !== row.system_hash) {
      return 'its stored columns differ from the statement it signed';
    }
    if (headsDigest(heads) !== s.digest || heads.length !== s.cases) return 'its stored case heads do not give the digest it signed: they were altered';
    return null;
  }

  /**
   * The newest checkpoint that holds (with its heads by case), and the
   * newer ones that do not. Only `caseId`'s head is kept when given (the
   * digest is still checked over all of them).
   */
  async latestTrusted(caseId?: string): Promise<{ trusted: TrustedCheckpoint | null; problems: CheckpointProblem[] }> {
    const problems: CheckpointProblem[] = [];
    // A verify judges the checkpoints as they are now, not as an earlier verify found them.
    this.checked.clear();
    if (!this.key) return { trusted: null, problems };
    for (let beforeId: string | undefined; ; ) {
      const rows = await listCheckpoints(this.db, { limit: 20, beforeId });
      if (!rows.length) return { trusted: null, problems };
      for (const row of rows) {
        const heads = await checkpointHeads(this.db, row.id);
        const problem = this.problemOf(row, heads);
        this.checked.set(row.id, problem);
        if (problem) {
          problems.push({ id: row.id, reason: problem });
          continue;
        }
        const kept = caseId ? heads.filter((h) => h.case_id === caseId) : heads;
        return { trusted: { row, heads: new Map(kept.map((h) => [h.case_id, h])) }, problems };
      }
      beforeId = rows[rows.length - 1].id;
    }
  }

  /**
   * A checkpoint that holds and recorded this head (seq, hash) for the chain:
   * the anchor of a chain whose earlier events were archived. Null if none.
   */
  async anchor(caseId: string | null, seq: number, hash: string | null): Promise<string | null> {
    if (!this.key || hash === null) return null;
    for (const id of await checkpointsWithHead(this.db, caseId, seq, hash)) {
      if (!this.checked.has(id)) {
        const row = await findCheckpoint(this.db, id);
        this.checked.set(id, row ? this.problemOf(row, await checkpointHeads(this.db, id)) : 'gone');
      }
      if (this.checked.get(id) === null) return id;
    }
    return null;
  }
}

/**
 * A checkpoint signs the history as it is: signed over a history whose tail was deleted (or whose chain was
 * rewritten) since the checkpoint before, it would make that one moot — verify compares with the newest
 * checkpoint that holds, and found the deletion until the next hourly checkpoint signed the shorter chain.
 * So every head the previous checkpoint signed must still be there with its hash (archived months apart),
 * else nothing is signed: 409 naming the cases, and the periodic job fails, which makes it an incident.
 */
async function refuseIfRewritten(trx: Knex.Transaction, previous: CheckpointRow): Promise<void> {
  const broken = await headsNoLongerInHistory(trx, previous.id, await liveStart(trx), 20);
  if (!broken.length) return;
  const where = broken
    .slice(0, 5)
    .map((b) => `${b.case_id === null ? 'the system chain' : `case ${b.code ?? b.case_id}`} at seq ${b.seq} (${b.live_hash === null ? 'gone' : 'changed'})`)
    .join('; ');
  throw new ConflictError(
    `The history no longer holds what checkpoint ${previous.id} signed: ${where}${broken.length > 5 ? `, and more` : ''}. Nothing was signed: run GET /v1/history/verify and restore the history before the next checkpoint.`,
  );
}

/** The periodic checkpoint: a row in the jobs table that the executor runs and the handler reschedules. */
export const CHECKPOINT_JOB = 'history.checkpoint';

/** The actor periodic checkpoints are recorded under. */
export const CHECKPOINT_ACTOR = 'system:checkpoint';

/**
 * The job's handler: sign a checkpoint (and the month's start when due),
 * then wait `intervalMs` for the next. A failure is retried with the
 * executor's backoff; after its last attempt the job is an incident and the
 * next start of a node schedules a new one.
 */
export function checkpointJob(db: Db, checkpoints: Checkpoints, clock: Clock, intervalMs: number): (job: JobRow) => Promise<void> {
  return async (job) => {
    await checkpoints.runScheduled(CHECKPOINT_ACTOR);
    const now = clock.now();
    await reschedulePeriodicJob(db, job.id, new Date(now.getTime() + intervalMs), now);
  };
}

/** At start: a node with a key and an interval makes sure the periodic checkpoint is scheduled (due now if it was not). */
export async function scheduleCheckpoints(db: Db, clock: Clock): Promise<void> {
  await ensurePeriodicJob(db, CHECKPOINT_JOB, clock.now());
}

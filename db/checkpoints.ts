import type { Knex } from 'knex';
import type { Db } from './connect.js';

/** A signed checkpoint as stored (engine/checkpoints.ts makes and checks them). */
export interface CheckpointRow {
  id: string;
  as_of: Date;
  created_at: Date;
  created_by: string;
  reason: string;
  cases: number;
  events: number;
  system_seq: number | null;
  system_hash: string | null;
  system_at: Date | null;
  digest: string;
  statement: Record<string, unknown>;
  key_id: string;
  public_key: string;
  signature: string;
}

/** One case's head at a checkpoint. */
export interface CheckpointHead {
  case_id: string;
  seq: number;
  hash: string;
  at: Date;
}

/**
 * Every case's head among the events stamped before `asOf` (the system chain
 * apart), in case order: what a checkpoint signs. Rows are only ever
 * inserted, so reading them in one snapshot (the caller's transaction) is a
 * consistent picture.
 */
export async function caseHeadsBefore(trx: Knex.Transaction, asOf: Date): Promise<CheckpointHead[]> {
  return trx('case_events')
    .whereNotNull('case_id')
    .where('at', '<', asOf)
    .distinctOn('case_id')
    .orderBy([{ column: 'case_id' }, { column: 'seq', order: 'desc' }])
    .select('case_id', 'seq', 'hash', 'at');
}

/** The system chain's head among the events stamped before `asOf`. */
export async function systemHeadBefore(trx: Knex.Transaction, asOf: Date): Promise<{ seq: number; hash: string; at: Date } | undefined> {
  return trx('case_events').whereNull('case_id').where('at', '<', asOf).orderBy('seq', 'desc').first('seq', 'hash', 'at');
}

/** Store a checkpoint and its heads (append-only tables: the database refuses UPDATE, DELETE, TRUNCATE). */
export async function insertCheckpoint(trx: Knex.Transaction, row: Omit<CheckpointRow, 'id'>, heads: CheckpointHead[]): Promise<string> {
  const [{ id }] = await trx('history_checkpoints')
    .insert({ ...row, statement: JSON.stringify(row.statement) })
    .returning('id');
  for (let i = 0; i < heads.length; i += 1000) {
    await trx('history_checkpoint_heads').insert(heads.slice(i, i + 1000).map((h) => ({ checkpoint_id: id, ...h })));
  }
  return String(id);
}

/** Checkpoints, newest (by the time they cover) first, keyset-paged by id. */
export async function listCheckpoints(db: Db, f: { limit: number; beforeId?: string }): Promise<CheckpointRow[]> {
  const q = db('history_checkpoints').orderBy([{ column: 'as_of', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(f.limit);
  if (f.beforeId) q.where('id', '<', f.beforeId);
  return (await q).map(withTextId);
}

export async function findCheckpoint(db: Db, id: string): Promise<CheckpointRow | undefined> {
  const row = await db('history_checkpoints').where({ id }).first();
  return row && withTextId(row);
}

/** Ids are bigints, read back as numbers (db/connect.ts); the API names them as text. */
function withTextId(row: CheckpointRow): CheckpointRow {
  return { ...row, id: String(row.id), events: Number(row.events) };
}

/** A checkpoint's case heads in case order (one query; a checkpoint holds one row per case). */
export async function checkpointHeads(db: Db, id: string, caseId?: string): Promise<CheckpointHead[]> {
  const q = db('history_checkpoint_heads').where({ checkpoint_id: id }).orderBy('case_id').select('case_id', 'seq', 'hash', 'at');
  if (caseId) q.where({ case_id: caseId });
  return q;
}

/** Checkpoints that recorded this head for a chain (null: the system chain): anchors for a chain whose start was archived. */
export async function checkpointsWithHead(db: Db, caseId: string | null, seq: number, hash: string): Promise<string[]> {
  const rows =
    caseId === null
      ? await db('history_checkpoints').where({ system_seq: seq, system_hash: hash }).orderBy('id').select('id')
      : await db('history_checkpoint_heads').where({ case_id: caseId, seq, hash }).orderBy('checkpoint_id').select('checkpoint_id as id');
  return rows.map((r: any) => String(r.id));
}

/** The newest checkpoint covering up to `asOf` exactly (the month-start ones), if any. */
export async function checkpointAsOf(db: Db, asOf: Date): Promise<CheckpointRow | undefined> {
  return db('history_checkpoints').where({ as_of: asOf }).first();
}

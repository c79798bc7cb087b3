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

/** A head a checkpoint signed whose event is no longer in the history as signed (gone, or another hash there). */
export interface BrokenHead {
  case_id: string | null;
  code: string | null;
  seq: number;
  signed_hash: string;
  live_hash: string | null;
}

/**
 * The heads checkpoint `checkpointId` signed (the system chain's included) whose event is gone or changed:
 * the event at the signed (case, seq) must still be there with the signed hash. Heads stamped before
 * `liveStart` (months archived since) are not asked for. One indexed lookup per head, at most `limit` answers.
 */
export async function headsNoLongerInHistory(trx: Knex.Transaction, checkpointId: string, liveStart: Date | null, limit: number): Promise<BrokenHead[]> {
  const { rows } = await trx.raw(
    `select h.case_id, c.code, h.seq, h.hash as signed_hash, e.hash as live_hash
       from history_checkpoint_heads h
       left join case_events e on e.case_id = h.case_id and e.seq = h.seq
       left join cases c on c.id = h.case_id
      where h.checkpoint_id = ? and e.hash is distinct from h.hash and (e.id is not null or ?::timestamptz is null or h.at >= ?::timestamptz)
     union all
     select null, null, k.system_seq, k.system_hash, e.hash
       from history_checkpoints k
       left join case_events e on e.case_id is null and e.seq = k.system_seq
      where k.id = ? and k.system_seq is not null and e.hash is distinct from k.system_hash and (e.id is not null or ?::timestamptz is null or k.system_at >= ?::timestamptz)
      limit ?`,
    [checkpointId, liveStart, liveStart, checkpointId, liveStart, liveStart, limit],
  );
  return rows.map((r: any) => ({ ...r, seq: Number(r.seq) }));
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

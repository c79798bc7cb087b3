import { prepared } from './prepared.js';
import type { Db } from './connect.js';

/** An API key as listed: never its hash. */
export interface KeyRow {
  id: string;
  name: string;
  roles: string[];
  agency: string | null;
  prefix: string;
  created_by: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

const LISTED = ['id', 'name', 'roles', 'agency', 'prefix', 'created_by', 'created_at', 'revoked_at'];

export async function insertKey(db: Db, k: { name: string; roles: string[]; agency: string | null; keyHash: string; prefix: string; createdBy: string | null }): Promise<KeyRow> {
  const [row] = await db('api_keys')
    .insert({ name: k.name, roles: k.roles, agency: k.agency, key_hash: k.keyHash, prefix: k.prefix, created_by: k.createdBy })
    .returning(LISTED);
  return row;
}

export async function listKeys(db: Db): Promise<KeyRow[]> {
  return db('api_keys').select(LISTED).orderBy('created_at');
}

/** Revoke a key not yet revoked; returns whether a row changed. */
export async function revokeKey(db: Db, id: string, at: Date): Promise<boolean> {
  return (await db('api_keys').where({ id }).whereNull('revoked_at').update({ revoked_at: at })) > 0;
}

export async function countKeys(db: Db): Promise<number> {
  const { n } = (await db('api_keys').count('* as n').first()) as { n: number };
  return Number(n);
}

/**
 * The live key with this hash (undefined when unknown or revoked), and the version the stored catalogue
 * and calendar are at (db/catalogue.ts referenceVersion), in one round trip: every authenticated request
 * needs both (issue 20: 0.5 ms a statement from Node on the benchmark machine).
 */
export async function activeKeyByHash(db: Db, keyHash: string): Promise<{ key?: Pick<KeyRow, 'id' | 'name' | 'roles' | 'agency'>; referenceVersion: number }> {
  const query = db('reference_version as rv')
    .leftJoin('api_keys as k', (j) => j.on('k.key_hash', '=', db.raw('?', [keyHash])).andOnNull('k.revoked_at'))
    .where('rv.id', 1)
    .first('rv.version as reference_version', 'k.id', 'k.name', 'k.roles', 'k.agency');
  const row = await prepared(query);
  return { key: row?.id ? { id: row.id, name: row.name, roles: row.roles, agency: row.agency } : undefined, referenceVersion: Number(row?.reference_version ?? 0) };
}

/** The key (revoked or not), or undefined. */
export async function keyById(db: Db, id: string): Promise<KeyRow | undefined> {
  return db('api_keys').where({ id }).first(LISTED);
}

/** Ids of the live admin keys, locked until the transaction ends, so two admins revoking each other cannot both succeed. */
export async function lockLiveAdminKeys(trx: Db): Promise<string[]> {
  const rows = await trx('api_keys').whereNull('revoked_at').whereRaw(`'admin' = any(roles)`).orderBy('id').forUpdate().select('id');
  return rows.map((r: { id: string }) => r.id);
}

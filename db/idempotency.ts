import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Db } from './connect.js';

export type Claim = { kind: 'new' } | { kind: 'replay'; status: number; response: unknown } | { kind: 'conflict'; reason: string };

export function requestHash(route: string, body: unknown): string {
  return createHash('sha256').update(`${route}\n${canonicalize(body ?? {})}`).digest('hex');
}

/**
 * Reserve (principal, key) before doing the work. The primary key makes the
 * reservation atomic: of two concurrent requests with one key, one inserts
 * and the other sees the row (still running, or finished with its answer).
 */
export async function claimKey(db: Db, principalId: string, key: string, route: string, hash: string): Promise<Claim> {
  const inserted = await db('idempotency_keys')
    .insert({ principal_id: principalId, key, route, request_hash: hash })
    .onConflict(['principal_id', 'key'])
    .ignore()
    .returning('key');
  if (inserted.length) return { kind: 'new' };
  const row = await db('idempotency_keys').where({ principal_id: principalId, key }).first();
  if (!row) return { kind: 'new' };
  if (row.route !== route || row.request_hash !== hash) return { kind: 'conflict', reason: 'this Idempotency-Key was already used with another request body' };
  if (row.status === null) return { kind: 'conflict', reason: 'the first request with this Idempotency-Key is still being processed; retry shortly' };
  return { kind: 'replay', status: row.status, response: row.response };
}

export async function storeAnswer(db: Db, principalId: string, key: string, status: number, response: unknown): Promise<void> {
  await db('idempotency_keys').where({ principal_id: principalId, key }).update({ status, response: JSON.stringify(response) });
}

/** The work failed: free the key so a corrected retry can run. */
export async function releaseKey(db: Db, principalId: string, key: string): Promise<void> {
  await db('idempotency_keys').where({ principal_id: principalId, key }).whereNull('status').delete();
}

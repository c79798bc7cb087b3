import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Knex } from 'knex';
import type { Db } from './connect.js';

export type Claim = { kind: 'new' } | { kind: 'replay'; status: number; response: unknown } | { kind: 'conflict'; reason: string };

/** How long a key is remembered: a client retrying later than this starts a new request. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000;

export function requestHash(route: string, body: unknown): string {
  return createHash('sha256').update(`${route}\n${canonicalize(body ?? {})}`).digest('hex');
}

/**
 * Reserve (principal, key) inside the command's transaction, so the
 * reservation, the work and the stored answer commit together or not at all:
 * a node that dies mid-request leaves no reservation behind. Of two
 * concurrent requests with one key, the second one's insert waits for the
 * first transaction (the primary key's uncommitted row), then sees its
 * committed answer (replay) — or, if it rolled back, does the work itself.
 * A key older than the TTL is forgotten first.
 */
export async function reserveKey(trx: Knex.Transaction, r: { principalId: string; key: string; route: string; hash: string; at: Date }): Promise<Claim> {
  await trx('idempotency_keys')
    .where({ principal_id: r.principalId, key: r.key })
    .where('created_at', '<', new Date(r.at.getTime() - IDEMPOTENCY_KEY_TTL_MS))
    .delete();
  const inserted = await trx('idempotency_keys')
    .insert({ principal_id: r.principalId, key: r.key, route: r.route, request_hash: r.hash, created_at: r.at })
    .onConflict(['principal_id', 'key'])
    .ignore()
    .returning('key');
  if (inserted.length) return { kind: 'new' };
  const row = await trx('idempotency_keys').where({ principal_id: r.principalId, key: r.key }).first();
  if (!row) return { kind: 'conflict', reason: 'the first request with this Idempotency-Key is still being processed; retry shortly' };
  // Say which: a key reused on another task or case is not "another body" to the client who sent the same one.
  if (row.route !== r.route) return { kind: 'conflict', reason: `this Idempotency-Key was already used for another request (${row.route}); use a new key for each request` };
  if (row.request_hash !== r.hash) return { kind: 'conflict', reason: 'this Idempotency-Key was already used with another request body' };
  if (row.status === null) return { kind: 'conflict', reason: 'the first request with this Idempotency-Key is still being processed; retry shortly' };
  return { kind: 'replay', status: row.status, response: row.response };
}

/** The answer the first request gave, stored in its transaction. */
export async function storeAnswer(trx: Knex.Transaction, principalId: string, key: string, status: number, response: unknown): Promise<void> {
  await trx('idempotency_keys').where({ principal_id: principalId, key }).update({ status, response: JSON.stringify(response) });
}

/** Forget keys past their TTL (the job executor's housekeeping; a lookup forgets its own key anyway). */
export async function expireKeys(db: Db, now: Date): Promise<number> {
  return db('idempotency_keys').where('created_at', '<', new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS)).delete();
}

import type { Db } from './connect.js';

/** What a providerId's first delivery left: its answer (to give again), or another message that already took the id. */
export type InboundClaim = { kind: 'new' } | { kind: 'received'; response: unknown } | { kind: 'conflict' };

/**
 * Record an inbound SMS by its providerId, with the answer its delivery
 * gives, in the transaction of what the message does (`db` is that
 * transaction) — or alone when it does nothing. Of two deliveries at once,
 * the second one's insert waits for the first transaction (the primary key's
 * uncommitted row), then finds its committed answer; if the first rolled
 * back, the second records its own.
 */
export async function claimInboundSms(db: Db, r: { providerId: string; hash: string; response: unknown; at: Date }): Promise<InboundClaim> {
  const inserted = await db('inbound_sms')
    .insert({ provider_id: r.providerId, request_hash: r.hash, response: JSON.stringify(r.response), received_at: r.at })
    .onConflict('provider_id')
    .ignore()
    .returning('provider_id');
  if (inserted.length) return { kind: 'new' };
  const first = await inboundSmsReceived(db, { providerId: r.providerId, hash: r.hash });
  // The insert gave way to a committed row, which the next statement sees (read committed), and nothing deletes rows.
  if (!first) throw new Error(`inbound_sms row of providerId ${JSON.stringify(r.providerId)} conflicted but cannot be read`);
  return first;
}

/** A providerId already received: its first answer, or a conflict when another sender or text came with it. */
export async function inboundSmsReceived(db: Db, r: { providerId: string; hash: string }): Promise<Exclude<InboundClaim, { kind: 'new' }> | undefined> {
  const row = await db('inbound_sms').where({ provider_id: r.providerId }).first('request_hash', 'response');
  if (!row) return undefined;
  return row.request_hash === r.hash ? { kind: 'received', response: row.response } : { kind: 'conflict' };
}

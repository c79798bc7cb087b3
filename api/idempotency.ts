import type { Knex } from 'knex';
import type { Db } from '../db/connect.js';
import { requestHash, reserveKey, storeAnswer } from '../db/idempotency.js';
import { ConflictError, InputError } from '../engine/errors.js';
import type { CommandResult, Once } from '../engine/runtime.js';
import type { Ctx } from './http.js';

/**
 * The request's Idempotency-Key as a command's `once` (engine/runtime.ts):
 * undefined without the header, 400 naming the header when it is not 1–200
 * visible ASCII characters. The key belongs to the caller; the same key with
 * another body (or on another route) is a conflict.
 */
export function onceFor(
  ctx: Ctx,
  route: string,
  answer: (trx: Knex.Transaction, result: CommandResult) => Promise<{ status: number; body: unknown }>,
  principalId: string = ctx.state.principal!.id,
): Once | undefined {
  // Present but empty ("Idempotency-Key:") is a mistake to name, not a request without the header.
  const header = ctx.headers['idempotency-key'];
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header.join(', ') : header;
  if (!/^[\x21-\x7e]{1,200}$/.test(key)) {
    throw new InputError('Idempotency-Key must be 1–200 visible ASCII characters (a UUID is a good choice).', [{ path: 'header Idempotency-Key', message: 'is not a valid key' }]);
  }
  return { principalId, key, route, hash: requestHash(route, ctx.state.body), answer };
}

/** Answer with what the command (or the first request with the key) answered. */
export function sendAnswered(ctx: Ctx, answered: { status: number; body: unknown; replayed: boolean }): void {
  ctx.status = answered.status;
  if (answered.replayed) ctx.set('Idempotent-Replayed', 'true');
  ctx.body = answered.body;
}

/**
 * A write that is not a case command (a subscription, say), with the
 * request's Idempotency-Key as the runtime's commands have it: reservation,
 * work and stored answer in one transaction, so a retry after a lost answer
 * gets the first answer and nothing is done twice; a concurrent twin waits
 * for the first and replays it. Without the header, the work alone (in a
 * transaction all the same).
 */
export async function writeOnce(
  ctx: Ctx,
  db: Db,
  at: Date,
  route: string,
  work: (trx: Knex.Transaction) => Promise<{ status: number; body: unknown }>,
): Promise<{ status: number; body: unknown; replayed: boolean }> {
  const once = onceFor(ctx, route, async () => ({ status: 0, body: null }));
  return db.transaction(async (trx) => {
    if (once) {
      const claim = await reserveKey(trx, { principalId: once.principalId, key: once.key, route, hash: once.hash, at });
      if (claim.kind === 'conflict') throw new ConflictError(`Idempotency-Key "${once.key}": ${claim.reason}.`);
      if (claim.kind === 'replay') return { status: claim.status, body: claim.response, replayed: true };
    }
    const answer = await work(trx);
    if (once) await storeAnswer(trx, once.principalId, once.key, answer.status, answer.body);
    return { ...answer, replayed: false };
  });
}

import type { Knex } from 'knex';
import { requestHash } from '../db/idempotency.js';
import { InputError } from '../engine/errors.js';
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
  const key = ctx.get('Idempotency-Key');
  if (!key) return undefined;
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

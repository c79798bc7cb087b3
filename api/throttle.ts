import type { Db } from '../db/connect.js';
import { hit, peek, reset } from '../db/rate-limits.js';
import type { Clock } from '../engine/clock.js';

/**
 * Request limits kept in the database (db/rate-limits.ts), so they hold
 * across nodes: two nodes with a limit in memory each would allow twice it.
 * A refusal is a 429 with Retry-After (the error middleware answers it).
 */
function tooMany(message: string, retryAfterSeconds: number): Error {
  return Object.assign(new Error(message), { status: 429, expose: true, headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) } });
}

/** At most `max` requests per `windowMs` in `bucket`; says what is left of the window (for X-RateLimit-* headers). */
export async function limit(db: Db, clock: Clock, bucket: string, max: number, windowMs: number, message: string): Promise<{ limit: number; remaining: number; resetAt: Date }> {
  const now = clock.now();
  const c = await hit(db, bucket, windowMs, now);
  const resetAt = new Date(c.windowStart.getTime() + windowMs);
  if (c.hits > max) {
    const err = tooMany(message, (resetAt.getTime() - now.getTime()) / 1000) as Error & { headers: Record<string, string> };
    Object.assign(err.headers, { 'X-RateLimit-Limit': String(max), 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(resetAt.getTime() / 1000) });
    throw err;
  }
  return { limit: max, remaining: max - c.hits, resetAt };
}

/**
 * Growing delays after failed guesses (wrong phone digits for a case code):
 * the first FREE failures in an hour cost nothing, then each further attempt
 * waits 2, 4, 8 … seconds after the last failure, never more than MAX_DELAY.
 * A stranger guessing slows only the guessing; the citizen who knows the
 * digits waits at most MAX_DELAY, never an hour (a hard lock after N
 * failures let anyone lock a citizen out of their own case).
 */
export const GUESSES = { free: 5, windowMs: 3_600_000, maxDelaySeconds: 60 };

export function guessDelaySeconds(failures: number): number {
  return failures < GUESSES.free ? 0 : Math.min(2 ** (failures - GUESSES.free + 1), GUESSES.maxDelaySeconds);
}

export async function checkGuessDelay(db: Db, clock: Clock, bucket: string, message: string): Promise<void> {
  const now = clock.now();
  const c = await peek(db, bucket, GUESSES.windowMs, now);
  if (!c) return;
  const wait = c.lastAt.getTime() + guessDelaySeconds(c.hits) * 1000 - now.getTime();
  if (wait > 0) throw tooMany(message, wait / 1000);
}

export async function recordFailedGuess(db: Db, clock: Clock, bucket: string): Promise<void> {
  await hit(db, bucket, GUESSES.windowMs, clock.now());
}

export async function forgetGuesses(db: Db, bucket: string): Promise<void> {
  await reset(db, bucket);
}

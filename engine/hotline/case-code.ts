import { randomInt } from 'node:crypto';
import { vietnamWall } from '../vietnam-time.js';

// No 0/O, 1/I/L, 5/S or 8/B: a code read out over a phone line must not be
// misheard or mistyped. 27 symbols ^ 5 ≈ 14.3 million codes per month prefix.
const ALPHABET = '234679ACDEFGHJKMNPQRTUVWXYZ';

/** A citizen-facing case code such as PA2611-7K3QX: prefix, yymm in Asia/Ho_Chi_Minh, five symbols. */
export function newCaseCode(now: Date): string {
  const local = vietnamWall(now);
  const yymm = `${String(local.getUTCFullYear() % 100).padStart(2, '0')}${String(local.getUTCMonth() + 1).padStart(2, '0')}`;
  let tail = '';
  for (let i = 0; i < 5; i++) tail += ALPHABET[randomInt(ALPHABET.length)];
  return `PA${yymm}-${tail}`;
}

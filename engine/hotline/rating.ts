import type { Db } from '../../db/connect.js';
import { runningCasesWithTimerForPhone } from '../../db/cases.js';
import type { Actor } from '../actor.js';
import type { Runtime } from '../runtime.js';
import { RATING_MESSAGE, RATING_WAIT_ELEMENT } from './contract.js';
import { CITIZEN_PHONE, normalizePhone } from './public-status.js';

/**
 * The citizen's rating of an answer, from the public page or an SMS reply:
 * which case waits for it, and delivering it as the diagram's rating message.
 */

function citizen(channel: 'web' | 'sms', requestId?: string): Actor {
  return { id: `citizen:${channel}`, name: 'Công dân', roles: ['citizen'], agency: null, requestId };
}

/** "1" (or "hài lòng") satisfied, "2" (or "chưa/không hài lòng") not: the answer SMS tells the citizen so. */
export function ratingOf(text: string): boolean | null {
  const t = text.trim().toLowerCase().normalize('NFC');
  if (/^1\b/.test(t) || /^(có\s+)?hài lòng/.test(t)) return true;
  if (/^2\b/.test(t) || /^(chưa|không)\s+hài lòng/.test(t)) return false;
  return null;
}

/** A rating from the public page for a case the citizen has found; 409 when it is not waiting for one. */
export async function rateOnWeb(runtime: Runtime, r: { code: string; satisfied: boolean; comment?: string; requestId?: string }): Promise<void> {
  const payload = { satisfied: r.satisfied, ...(r.comment ? { ratingComment: r.comment } : {}), ratingChannel: 'web' };
  await runtime.correlateMessage({ code: r.code, name: RATING_MESSAGE, payload, actor: citizen('web', r.requestId) });
}

export type SmsRating = { matched: true; code: string } | { matched: false; reason: string };

/**
 * An SMS reply rates the most recent case of that phone number that waits
 * for a rating (its rating timer is armed); a case that stopped waiting in
 * the meantime (409) passes the reply to the next one.
 */
export async function rateBySms(db: Db, runtime: Runtime, r: { from: string; text: string; requestId?: string }): Promise<SmsRating> {
  const satisfied = ratingOf(r.text);
  if (satisfied === null) return { matched: false, reason: 'not a rating reply' };
  const phone = normalizePhone(r.from);
  const codes = await runningCasesWithTimerForPhone(db, { timerElement: RATING_WAIT_ELEMENT, phoneVariable: CITIZEN_PHONE, phones: [phone, `84${phone.slice(1)}`] });
  for (const code of codes) {
    try {
      await runtime.correlateMessage({ code, name: RATING_MESSAGE, payload: { satisfied, ratingChannel: 'sms' }, actor: citizen('sms', r.requestId) });
      return { matched: true, code };
    } catch (err: any) {
      if (err?.status !== 409) throw err;
    }
  }
  return { matched: false, reason: 'no case of this phone waits for a rating' };
}

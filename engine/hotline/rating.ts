import type { Db } from '../../db/connect.js';
import { runningCasesForPhone, runningCasesWithTimerForPhone } from '../../db/cases.js';
import type { Actor } from '../actor.js';
import type { Runtime } from '../runtime.js';
import { INFO_MESSAGE, INFO_WAIT_ELEMENT, RATING_MESSAGE, RATING_WAIT_ELEMENT } from './contract.js';
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

export type SmsRating = { matched: true; code: string; as?: 'rating' | 'information' | 'message' } | { matched: false; reason: string };

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

/**
 * Any SMS from a citizen: a rating reply rates the case that waits for one;
 * otherwise the text is information — delivered as the diagram's information
 * message to a case of that phone that waits for it (the "more information"
 * wait resumes), else attached to the phone's most recently active running
 * case as an sms.received history event (the handling agency reads it there;
 * the text is masked like personal data for roles that do not see it).
 */
export async function receiveSms(db: Db, runtime: Runtime, r: { from: string; text: string; requestId?: string }): Promise<SmsRating> {
  const rated = await rateBySms(db, runtime, r);
  if (rated.matched) return { ...rated, as: 'rating' };
  const phone = normalizePhone(r.from);
  const phones = [phone, `84${phone.slice(1)}`];
  const text = r.text.normalize('NFC').trim();
  if (!text) return { matched: false, reason: 'empty message' };
  for (const code of await runningCasesWithTimerForPhone(db, { timerElement: INFO_WAIT_ELEMENT, phoneVariable: CITIZEN_PHONE, phones })) {
    try {
      await runtime.correlateMessage({ code, name: INFO_MESSAGE.name, payload: { [INFO_MESSAGE.field]: text.slice(0, 4000) }, actor: citizen('sms', r.requestId) });
      return { matched: true, code, as: 'information' };
    } catch (err: any) {
      if (err?.status !== 409) throw err;
    }
  }
  const [latest] = await runningCasesForPhone(db, { phoneVariable: CITIZEN_PHONE, phones });
  if (!latest) return { matched: false, reason: 'no running case of this phone' };
  await runtime.recordCaseEvent({ caseId: latest.id, type: 'sms.received', actor: citizen('sms', r.requestId), payload: { citizenMessage: text } });
  return { matched: true, code: latest.code, as: 'message' };
}

import { createHash } from 'node:crypto';
import type { Db } from '../../db/connect.js';
import { runningCasesForPhone, runningCasesWithTimerForPhone } from '../../db/cases.js';
import { claimInboundSms, inboundSmsReceived, type InboundClaim } from '../../db/inbound-sms.js';
import type { Actor } from '../actor.js';
import { ConflictError } from '../errors.js';
import type { CommandClaim, Runtime } from '../runtime.js';
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

/** How the outcome of an SMS is recorded with it: given the answer it will give, what its command claims in its transaction. */
type ClaimAs = (answer: SmsRating) => CommandClaim | undefined;

/**
 * An SMS reply rates the most recent case of that phone number that waits
 * for a rating (its rating timer is armed); a case that stopped waiting in
 * the meantime (409) passes the reply to the next one.
 */
export async function rateBySms(db: Db, runtime: Runtime, r: { from: string; text: string; requestId?: string }, claimAs: ClaimAs = () => undefined): Promise<SmsRating> {
  const satisfied = ratingOf(r.text);
  if (satisfied === null) return { matched: false, reason: 'not a rating reply' };
  const phone = normalizePhone(r.from);
  const codes = await runningCasesWithTimerForPhone(db, { timerElement: RATING_WAIT_ELEMENT, phoneVariable: CITIZEN_PHONE, phones: [phone, `84${phone.slice(1)}`] });
  for (const code of codes) {
    const answer = { matched: true as const, code, as: 'rating' as const };
    try {
      await runtime.correlateMessage({ code, name: RATING_MESSAGE, payload: { satisfied, ratingChannel: 'sms' }, actor: citizen('sms', r.requestId), claim: claimAs(answer) });
      return answer;
    } catch (err: any) {
      if (err?.status !== 409) throw err;
    }
  }
  return { matched: false, reason: 'no case of this phone waits for a rating' };
}

/** Thrown in a command's transaction when its providerId was already received (by another node, meanwhile): the command rolls back. */
class AlreadyReceived extends Error {
  constructor(readonly first: Exclude<InboundClaim, { kind: 'new' }>) {
    super('inbound SMS already received');
  }
}

/** A providerId's second delivery: the first one's answer, or 409 when another sender or text came with that id. */
function receivedAgain(providerId: string, first: Exclude<InboundClaim, { kind: 'new' }>): SmsRating {
  if (first.kind === 'conflict') throw new ConflictError(`providerId "${providerId}" was already received from another number or with another text; a retry must repeat the first delivery.`);
  return first.response as SmsRating;
}

/**
 * Any SMS from a citizen: a rating reply rates the case that waits for one;
 * otherwise the text is information — delivered as the diagram's information
 * message to a case of that phone that waits for it (the "more information"
 * wait resumes), else attached to the phone's most recently active running
 * case as an sms.received history event (the handling agency reads it there;
 * the text is masked like personal data for roles that do not see it).
 *
 * Providers retry a delivery they are not sure of, with the same providerId:
 * the outcome is recorded under it (db/inbound-sms.ts) in the transaction of
 * what the message does, so a retry, on any node, answers as the first
 * delivery did and does nothing (a repeated "1" used to rate one case, then
 * go to another one as a message). Without a providerId nothing can tell a
 * retry from a new message.
 */
export async function receiveSms(db: Db, runtime: Runtime, r: { from: string; text: string; providerId?: string; requestId?: string }): Promise<SmsRating> {
  // An empty providerId names no message: every delivery without one is new.
  if (!r.providerId) return deliverSms(db, runtime, r);
  const once = { providerId: r.providerId, hash: inboundHash(r.from, r.text) };
  const first = await inboundSmsReceived(db, once);
  if (first) return receivedAgain(r.providerId, first);
  const record = async (claimer: Db, answer: SmsRating) => {
    const claim = await claimInboundSms(claimer, { ...once, response: answer, at: runtime.clock.now() });
    if (claim.kind !== 'new') throw new AlreadyReceived(claim);
  };
  try {
    return await deliverSms(db, runtime, r, {
      claimAs: (answer) => (trx) => record(trx, answer),
      // An SMS that went to no case changes nothing but its own record: a statement of its own.
      settle: async (answer) => {
        await record(db, answer);
        return answer;
      },
    });
  } catch (err) {
    if (err instanceof AlreadyReceived) return receivedAgain(r.providerId, err.first);
    throw err;
  }
}

/** The sender (as digits, national form) and the text as received: what a retry of the same providerId repeats. */
function inboundHash(from: string, text: string): string {
  return createHash('sha256').update(`${normalizePhone(from)}\n${text.normalize('NFC').trim()}`).digest('hex');
}

async function deliverSms(
  db: Db,
  runtime: Runtime,
  r: { from: string; text: string; requestId?: string },
  once: { claimAs: ClaimAs; settle: (answer: SmsRating) => Promise<SmsRating> } = { claimAs: () => undefined, settle: async (answer) => answer },
): Promise<SmsRating> {
  const rated = await rateBySms(db, runtime, r, once.claimAs);
  if (rated.matched) return rated;
  const phone = normalizePhone(r.from);
  const phones = [phone, `84${phone.slice(1)}`];
  const text = r.text.normalize('NFC').trim();
  if (!text) return once.settle({ matched: false, reason: 'empty message' });
  for (const code of await runningCasesWithTimerForPhone(db, { timerElement: INFO_WAIT_ELEMENT, phoneVariable: CITIZEN_PHONE, phones })) {
    const answer = { matched: true as const, code, as: 'information' as const };
    try {
      await runtime.correlateMessage({ code, name: INFO_MESSAGE.name, payload: { [INFO_MESSAGE.field]: text.slice(0, 4000) }, actor: citizen('sms', r.requestId), claim: once.claimAs(answer) });
      return answer;
    } catch (err: any) {
      if (err?.status !== 409) throw err;
    }
  }
  const [latest] = await runningCasesForPhone(db, { phoneVariable: CITIZEN_PHONE, phones });
  if (!latest) return once.settle({ matched: false, reason: 'no running case of this phone' });
  const answer = { matched: true as const, code: latest.code, as: 'message' as const };
  await runtime.recordCaseEvent({ caseId: latest.id, type: 'sms.received', actor: citizen('sms', r.requestId), payload: { citizenMessage: text }, claim: once.claimAs(answer) });
  return answer;
}

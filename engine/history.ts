import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Knex } from 'knex';
import type { Db } from '../db/connect.js';
import { caseCodeById } from '../db/cases.js';
import { chainBatch, chainHead, insertEvents, lockSystemChain, systemChain, type ChainedRow, type StoredEvent } from '../db/history.js';
import { systemClock, type Clock } from './clock.js';
import type { PendingEvent } from './session.js';

/** The fields an event's hash covers, in the form they are stored and read back. */
export type ChainedEvent = StoredEvent;

/** sha256(prev_hash + canonical JSON of the event): each link covers everything before it. */
export function eventHash(prevHash: string | null, e: ChainedEvent): string {
  const canonical = canonicalize({
    caseId: e.case_id,
    seq: e.seq,
    type: e.type,
    elementId: e.element_id,
    elementName: e.element_name,
    elementType: e.element_type,
    actorId: e.actor_id,
    actorRoles: e.actor_roles,
    actorAgency: e.actor_agency,
    requestId: e.request_id,
    payload: e.payload ?? {},
    at: new Date(e.at).toISOString(),
  });
  return createHash('sha256').update(`${prevHash ?? ''}\n${canonical}`).digest('hex');
}

function toRow(caseId: string | null, seq: number, e: PendingEvent, at: Date): ChainedEvent {
  return {
    case_id: caseId,
    seq,
    type: e.type,
    element_id: e.elementId ?? null,
    element_name: e.elementName ?? null,
    element_type: e.elementType ?? null,
    actor_id: e.actor.id,
    actor_roles: e.actor.roles,
    actor_agency: e.actor.agency,
    request_id: e.actor.requestId ?? null,
    payload: JSON.parse(JSON.stringify(e.payload ?? {})),
    at,
  };
}

/** A chained event linked to `prev`, with its own hash. */
function linked(row: ChainedEvent, prev: string | null): ChainedRow {
  return { ...row, prev_hash: prev, hash: eventHash(prev, row) };
}

/**
 * Append events to a case's history, chained to its last event. Call only
 * inside the command's transaction with the case row locked, so no other
 * writer can take the same seq or fork the chain.
 */
export async function appendEvents(trx: Knex.Transaction, caseId: string, events: PendingEvent[], clock: Clock = systemClock): Promise<void> {
  if (!events.length) return;
  const last = await chainHead(trx, caseId);
  let seq: number = last?.seq ?? 0;
  let prev: string | null = last?.hash ?? null;
  // Milliseconds: the precision a JS Date carries back from the database, so the hash recomputes.
  const at = clock.now();
  const rows = events.map((e) => {
    const row = linked(toRow(caseId, ++seq, e, at), prev);
    prev = row.hash;
    return row;
  });
  await insertEvents(trx, rows);
}

/**
 * Append an event that belongs to no case (a deployment) to the system chain.
 * An advisory lock stands in for the case row lock.
 */
export async function appendSystemEvent(trx: Knex.Transaction, event: PendingEvent, clock: Clock = systemClock): Promise<void> {
  await lockSystemChain(trx);
  const last = await chainHead(trx, null);
  await insertEvents(trx, [linked(toRow(null, (last?.seq ?? 0) + 1, event, clock.now()), last?.hash ?? null)]);
}

export interface VerifyReport {
  ok: boolean;
  casesChecked: number;
  eventsChecked: number;
  firstBroken: null | { caseId: string | null; caseCode: string | null; seq: number; reason: string };
}

/**
 * Recompute every chain (or one case's), reading in keyset batches so a
 * year of history never sits in memory. Reports the first broken link.
 */
export async function verifyChains(db: Db, options: { caseId?: string; batch?: number } = {}): Promise<VerifyReport> {
  const batch = options.batch ?? 2000;
  const system = options.caseId ? null : await verifySystemChain(db);
  if (system && !system.ok) return system;
  let after: { caseId: string; seq: number } | null = null;
  let currentCase: string | null = null;
  let prev: string | null = null;
  let expectedSeq = 1;
  let events = 0;
  let cases = 0;
  for (;;) {
    const rows = await chainBatch(db, { caseId: options.caseId, after, batch });
    if (!rows.length) break;
    for (const r of rows) {
      if (r.case_id !== currentCase) {
        currentCase = r.case_id;
        prev = null;
        expectedSeq = 1;
        cases++;
      }
      events++;
      const broken = (reason: string) => ({ caseId: r.case_id, seq: r.seq, reason });
      let problem: ReturnType<typeof broken> | null = null;
      if (r.seq !== expectedSeq) problem = broken(`event ${expectedSeq} is missing (next stored is ${r.seq})`);
      else if ((r.prev_hash ?? null) !== prev) problem = broken('its link to the previous event does not match: an event before it was changed or removed');
      else if (r.hash !== eventHash(prev, r)) problem = broken('its content does not match its hash: the event was changed after it was written');
      if (problem) {
        return { ok: false, casesChecked: cases, eventsChecked: events, firstBroken: { ...problem, caseCode: (await caseCodeById(db, r.case_id!)) ?? null } };
      }
      prev = r.hash;
      expectedSeq++;
    }
    const last = rows[rows.length - 1];
    after = { caseId: last.case_id!, seq: last.seq };
  }
  return { ok: true, casesChecked: cases, eventsChecked: events + (system?.eventsChecked ?? 0), firstBroken: null };
}

/** The system chain (deployments) is short: one pass, same rules as a case chain. */
async function verifySystemChain(db: Db): Promise<VerifyReport> {
  const rows = await systemChain(db);
  let prev: string | null = null;
  for (const [i, r] of rows.entries()) {
    const reason =
      r.seq !== i + 1 ? `system event ${i + 1} is missing` : (r.prev_hash ?? null) !== prev ? 'its link to the previous system event does not match' : r.hash !== eventHash(prev, r) ? 'its content does not match its hash' : null;
    if (reason) return { ok: false, casesChecked: 0, eventsChecked: i + 1, firstBroken: { caseId: null, caseCode: null, seq: r.seq, reason: `${r.type}: ${reason}` } };
    prev = r.hash;
  }
  return { ok: true, casesChecked: 0, eventsChecked: rows.length, firstBroken: null };
}

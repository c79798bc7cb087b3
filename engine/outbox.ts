import type { Knex } from 'knex';
import { insertOutboxJobs } from '../db/jobs.js';
import type { EngineSession, OutboxMessage } from './session.js';

/**
 * What a message carries besides the engine's payload (e.g. the SMS text),
 * rendered when it is queued, in the case's transaction: the text is the one
 * the case's data gave at that moment. Supplied by the hotline.
 */
export type RenderMessage = (message: OutboxMessage, kase: { code: string; variables: Record<string, unknown> }) => Record<string, unknown>;

/**
 * Transactional outbox: the messages a command queued become job rows in
 * the command's transaction, so they exist exactly when the state change
 * that caused them commits. The job executor delivers them later.
 */
export async function writeOutbox(trx: Knex.Transaction, kase: { id: string; code: string }, session: EngineSession, now: Date, render?: RenderMessage): Promise<void> {
  if (!session.outbox.length) return;
  const variables = session.variables();
  const ids = await insertOutboxJobs(
    trx,
    session.outbox.map((m) => ({
      type: m.type,
      case_id: kase.id,
      element_id: m.elementId,
      due_at: now,
      payload: { ...m.payload, caseCode: kase.code, ...(render?.(m, { code: kase.code, variables }) ?? {}) },
    })),
  );
  session.outbox.forEach((m, i) => session.record({ type: `${m.type}.queued`, elementId: m.elementId, payload: { jobId: ids[i], template: m.payload.template } }));
}

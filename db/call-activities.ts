import type { Db } from './connect.js';

/**
 * The called processes' saved states of a case (engine/call-activity.ts keeps
 * them in engine_state under callActivities), or null when none runs.
 */
export async function calledStates(db: Db, caseId: string): Promise<unknown> {
  const row = await db('cases').where({ id: caseId }).first(db.raw(`engine_state->'callActivities' as called`));
  const called = row?.called;
  return typeof called === 'string' ? JSON.parse(called) : (called ?? null);
}

import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Writes } from '../db/deferred.js';
import { deleteTasks, insertTask, tasksOfCase, type TaskRow } from '../db/tasks.js';
import { openIncident, resolveIncidents, type IncidentRow } from '../db/incidents.js';
import { FeelError, taskAssignment, type FeelFunctions } from './feel.js';
import { UnprocessableError } from './errors.js';
import type { EngineSession } from './session.js';
import { variablesOf } from './call-activity.js';

export const USER_TASK = 'bpmn:UserTask';

/**
 * The task rows (the inbox) follow the engine's waiting user tasks: a task
 * that no longer waits is deleted, a new one inserted with its candidate
 * groups, assignee and due date evaluated once, now — re-evaluating later
 * would move a deadline as `now()` moves. Records task.created.
 *
 * `incidents` are the case's open incidents, read once by the caller for this
 * and projectTimers; `existing`, when given, the case's task rows as the
 * command read them with the case row's lock ([] for a case inserted in this
 * transaction). Returns the case's task rows after the projection, oldest
 * first, as tasksOfCase would read them. `writes`, when given, holds the row
 * deletes and inserts for the command's history statement (db/deferred.ts):
 * a new row's id is made here for that. `beforeDirectWrite` runs before a
 * write that goes at once (an incident): a new case's held row goes first.
 */
export async function projectTasks(
  trx: Knex.Transaction,
  caseId: string,
  session: EngineSession,
  variables: Record<string, unknown>,
  now: Date,
  functions: FeelFunctions,
  known: { incidents: IncidentRow[]; existing?: TaskRow[]; writes?: Writes; beforeDirectWrite?: () => Promise<void> },
): Promise<TaskRow[]> {
  const writes = known.writes ?? trx;
  const waitingTasks = session.waiting().filter((w) => w.type === USER_TASK);
  const existing = known.existing ?? (await tasksOfCase(trx, caseId));
  const waitingIds = new Set(waitingTasks.map((w) => w.executionId));
  await deleteTasks(writes, existing.filter((t) => !waitingIds.has(t.execution_id)).map((t) => t.id));
  const rows = existing.filter((t) => waitingIds.has(t.execution_id));
  const kept = new Set(existing.map((t) => t.execution_id));
  const held = known.incidents.filter((i) => i.kind === 'task');
  // A held task that no longer waits (a boundary timer ended it, the case moved) holds nothing any more.
  for (const i of await resolveIncidents(trx, held.filter((i) => !waitingIds.has(i.execution_id)).map((i) => i.id), { at: now, by: 'system', resolution: 'the task no longer waits (its step ended or the case moved)' })) {
    session.record({ type: 'incident.resolved', elementId: i.element_id, payload: { kind: 'task', resolution: i.resolution } });
  }
  for (const w of waitingTasks) {
    if (kept.has(w.executionId)) continue;
    let assignment: ReturnType<typeof taskAssignment>;
    try {
      // A called process's task reads the called process's variables (engine/call-activity.ts).
      assignment = taskAssignment(w.behaviour, variablesOf(w, variables), now, functions);
    } catch (err) {
      if (err instanceof FeelError) throw new UnprocessableError(`The process could not create its next task: ${err.message}`);
      throw err;
    }
    const { candidateGroups, assignee, due } = assignment;
    const heldHere = held.find((i) => i.execution_id === w.executionId);
    if (!candidateGroups.length && !assignee) {
      // The runtime guard: a task for nobody would sit in no inbox. It is not created; an incident says why,
      // and every later command on the case tries again (setting the variable resumes it).
      const expression = String(w.behaviour.candidateGroups ?? '');
      const message = `Task "${w.name ?? w.id}" would have no candidate group: ${expression ? `${expression} gave nothing` : 'none is set'}. The task is not created until this is fixed.`;
      if (!heldHere) await known.beforeDirectWrite?.();
      if (!heldHere && (await openIncident(trx, caseId, { kind: 'task', elementId: w.id, executionId: w.executionId, expression, yielded: null, message }, now))) {
        session.record({ type: 'incident.opened', elementId: w.id, elementName: w.name, elementType: USER_TASK, payload: { kind: 'task', expression, yielded: null, message } });
      }
      continue;
    }
    if (heldHere) {
      await resolveIncidents(trx, [heldHere.id], { at: now, by: 'system', resolution: 'the task has candidate groups now' });
      session.record({ type: 'incident.resolved', elementId: w.id, elementName: w.name, elementType: USER_TASK, payload: { kind: 'task', resolution: 'the task has candidate groups now', candidateGroups } });
    }
    const formKey = w.behaviour.formKey ?? null;
    const taskId = randomUUID();
    const task: TaskRow = {
      id: taskId,
      case_id: caseId,
      element_id: w.id,
      execution_id: w.executionId,
      name: w.name,
      candidate_groups: candidateGroups,
      assignee,
      due_at: due,
      form_key: formKey,
      created_at: now,
    };
    await insertTask(writes, task);
    rows.push(task);
    session.record({
      type: 'task.created',
      elementId: w.id,
      elementName: w.name,
      elementType: USER_TASK,
      payload: { taskId, candidateGroups, assignee, due: due?.toISOString() ?? null, formKey },
    });
  }
  return rows;
}

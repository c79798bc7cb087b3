import type { Knex } from 'knex';
import { deleteTasks, insertTask, tasksOfCase } from '../db/tasks.js';
import { FeelError, taskAssignment, type FeelFunctions } from './feel.js';
import { UnprocessableError } from './errors.js';
import type { EngineSession } from './session.js';

export const USER_TASK = 'bpmn:UserTask';

/**
 * The task rows (the inbox) follow the engine's waiting user tasks: a task
 * that no longer waits is deleted, a new one inserted with its candidate
 * groups, assignee and due date evaluated once, now — re-evaluating later
 * would move a deadline as `now()` moves. Records task.created.
 */
export async function projectTasks(trx: Knex.Transaction, caseId: string, session: EngineSession, variables: Record<string, unknown>, now: Date, functions: FeelFunctions): Promise<void> {
  const waitingTasks = session.waiting().filter((w) => w.type === USER_TASK);
  const existing = await tasksOfCase(trx, caseId);
  const waitingIds = new Set(waitingTasks.map((w) => w.executionId));
  await deleteTasks(trx, existing.filter((t) => !waitingIds.has(t.execution_id)).map((t) => t.id));
  const known = new Set(existing.map((t) => t.execution_id));
  for (const w of waitingTasks) {
    if (known.has(w.executionId)) continue;
    let assignment: ReturnType<typeof taskAssignment>;
    try {
      assignment = taskAssignment(w.behaviour, variables, now, functions);
    } catch (err) {
      if (err instanceof FeelError) throw new UnprocessableError(`The process could not create its next task: ${err.message}`);
      throw err;
    }
    const { candidateGroups, assignee, due } = assignment;
    const formKey = w.behaviour.formKey ?? null;
    const taskId = await insertTask(trx, {
      case_id: caseId,
      element_id: w.id,
      execution_id: w.executionId,
      name: w.name,
      candidate_groups: candidateGroups,
      assignee,
      due_at: due,
      form_key: formKey,
      created_at: now,
    });
    session.record({
      type: 'task.created',
      elementId: w.id,
      elementName: w.name,
      elementType: USER_TASK,
      payload: { taskId, candidateGroups, assignee, due: due?.toISOString() ?? null, formKey },
    });
  }
}

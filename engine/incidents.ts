import { lockCase } from '../db/cases.js';
import { incidentById, resolveIncidents, type IncidentRow } from '../db/incidents.js';
import type { Actor } from './actor.js';
import { timerValueProblem, type TimerKind } from './bpmn.js';
import { ConflictError, NotFoundError, UnprocessableError } from './errors.js';
import { evaluateFeel, resolveDueDate, taskAssignment } from './feel.js';
import type { CommandResult, Runtime } from './runtime.js';

export type { IncidentRow };

/**
 * Resolve a runtime incident (engine/bpmn.ts holds a timer whose expression
 * gave no time; engine/projection.ts holds a task that would have no
 * candidate group): set the variables it lacked and let the case go on, as
 * one command in one transaction. The expression is evaluated again with the
 * new variables first: if it still gives nothing, the command is refused
 * (422) and the case is exactly as it was. A held timer is re-armed at the
 * time it now gives (counted from when it was armed, for a duration), and
 * fires at once if that time has passed; a held task is created.
 */
export async function resolveIncident(runtime: Runtime, input: { id: string; variables: Record<string, unknown>; comment?: string; actor: Actor }): Promise<CommandResult & { incident: IncidentRow }> {
  return runtime.timed('resolveIncident', () =>
    runtime.db.transaction(async (trx) => {
      const found = await incidentById(trx, input.id);
      if (!found) throw new NotFoundError(`Incident ${input.id} does not exist.`);
      const row = await lockCase(trx, found.case_id);
      const incident = await incidentById(trx, input.id);
      if (!row || !incident) throw new NotFoundError(`Incident ${input.id} does not exist.`);
      if (incident.status !== 'open') throw new ConflictError(`Incident ${input.id} is already resolved (${incident.resolution ?? ''}).`);
      if (row.status !== 'running') throw new ConflictError(`Case ${row.code} is ${row.status}; it accepts no more commands.`);
      const state = structuredClone(row.engine_state) as any;
      assignVariables(state, input.variables);
      const context = await runtime.definitions.context(row.definition_id, trx);
      const session = runtime.session(trx, row.id, context);
      try {
        const variables = { ...(row.variables ?? {}), ...input.variables };
        if (incident.kind === 'timer') {
          const kind = timerKindIn(state, incident);
          const value = evaluateFeel(incident.expression, variables, session.functions);
          const problem = timerValueProblem(kind, value);
          if (problem) throw new UnprocessableError(`The timer still cannot be armed: ${incident.expression} ${problem}. Set the variables it reads.`, [{ path: '/variables', message: `${incident.expression} ${problem}` }]);
          rearmTimer(state, incident, kind, String(value), session.now());
        }
        await session.recover(state);
        session.actAs(input.actor);
        if (incident.kind === 'task') {
          const task = session.waiting().find((w) => w.executionId === incident.execution_id);
          const groups = task ? taskAssignment(task.behaviour, session.variables(), session.now(), session.functions) : null;
          if (groups && !groups.candidateGroups.length && !groups.assignee) {
            throw new UnprocessableError(`Task "${task?.name ?? incident.element_id}" would still have no candidate group: ${incident.expression} gives nothing. Set the variables it reads.`, [{ path: '/variables', message: `${incident.expression} gives nothing` }]);
          }
        }
        const resolution = `variables set: ${Object.keys(input.variables).join(', ') || 'none'}${input.comment ? ` (${input.comment})` : ''}`;
        const resolvedAt = session.now();
        await resolveIncidents(trx, [incident.id], { at: resolvedAt, by: input.actor.id, resolution });
        session.record({ type: 'incident.resolved', elementId: incident.element_id, payload: { kind: incident.kind, incidentId: incident.id, variables: Object.keys(input.variables), comment: input.comment ?? null } });
        const result = await runtime.save(trx, { ...row, engine_state: state }, session);
        // The answer says when, as a later read of the incident does (it said resolvedAt null).
        return { ...result, incident: { ...incident, status: 'resolved' as const, resolution, resolved_by: input.actor.id, resolved_at: resolvedAt } };
      } finally {
        session.dispose();
      }
    }),
  );
}

/** The engine state keeps the variables in each definition's and process's environment. */
function assignVariables(state: any, variables: Record<string, unknown>): void {
  const visit = (node: any, depth: number) => {
    if (!node || typeof node !== 'object') return;
    if (depth > 0 && node.environment?.variables && typeof node.environment.variables === 'object') Object.assign(node.environment.variables, variables);
    for (const [key, child] of Object.entries(node)) if (key !== 'environment' && child && typeof child === 'object') visit(child, depth + 1);
  };
  visit(state, 0);
}

/** Every copy of the held timer's content in the state (the activity's and its queued messages). */
function heldTimerContents(state: any, incident: IncidentRow): any[] {
  const out: any[] = [];
  const visit = (node: any) => {
    if (!node || typeof node !== 'object') return;
    if (node.type === 'bpmn:TimerEventDefinition' && node.id === incident.element_id && node.executionId === incident.execution_id && 'expireAt' in node) out.push(node);
    for (const child of Object.values(node)) if (child && typeof child === 'object') visit(child);
  };
  visit(state);
  return out;
}

function timerKindIn(state: any, incident: IncidentRow): TimerKind {
  const kind = heldTimerContents(state, incident).find((c) => c.timerType)?.timerType;
  if (!kind) throw new ConflictError(`The timer of incident ${incident.id} is no longer armed; the incident resolves with the case's next step.`);
  return kind;
}

/** Arm the held timer at the time its expression now gives: bpmn-elements fires a recovered timer at its saved expireAt. */
function rearmTimer(state: any, incident: IncidentRow, kind: TimerKind, value: string, now: Date): void {
  for (const content of heldTimerContents(state, incident)) {
    const from = content.startedAt ? new Date(content.startedAt) : now;
    const at = kind === 'timeCycle' ? resolveDueDate(value.replace(/^R\d*\//, ''), {}, from) : resolveDueDate(value, {}, from);
    content[kind] = value;
    content.expireAt = at!.toISOString();
    content.timeout = at!.getTime() - now.getTime();
  }
}

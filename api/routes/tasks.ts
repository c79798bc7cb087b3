import { caseComments, caseSummary, pastTask, recentEvents } from '../../db/cases.js';
import { listInbox } from '../../db/inbox.js';
import { findTask, type TaskRow } from '../../db/tasks.js';
import { ConflictError, ForbiddenError, InputError, NotFoundError, UnprocessableError } from '../../engine/errors.js';
import { OUTCOME_FIELDS, TRANSFER } from '../../engine/hotline/contract.js';
import { inboxGroups, maskVariables, mayActNow, rolesFor, taskAccess, type Caller } from '../../engine/hotline/policy.js';
import { actorOf } from '../auth.js';
import { onceFor, sendAnswered } from '../idempotency.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';
import { CommentBody, CommentSchema, CompleteTaskBody, CompletionSchema, TaskDetailSchema, TaskListQuery, TaskPageSchema, TransferBody, PathParam, pathParams } from '../schemas.js';
import { taskView } from './cases.js';

function encodeCursor(row: { due_at: Date | null; id: string }): string {
  return Buffer.from(JSON.stringify({ d: row.due_at ? new Date(row.due_at).toISOString() : null, i: row.id })).toString('base64url');
}

function decodeCursor(cursor: string): { due: string | null; id: string } {
  try {
    const { d, i } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if ((d === null || (typeof d === 'string' && !Number.isNaN(Date.parse(d)))) && typeof i === 'string' && /^[0-9a-f-]{36}$/.test(i)) return { due: d, id: i };
  } catch {
    /* fall through */
  }
  throw new InputError('The cursor is not one this API returned.', [{ path: '/cursor', message: 'use nextCursor from the previous page' }]);
}

function allowedOutcomes(form: Record<string, any> | undefined): string[] {
  for (const f of OUTCOME_FIELDS) {
    const values = form?.properties?.[f]?.enum;
    if (Array.isArray(values)) return values;
  }
  return [];
}

export function taskRoutes(deps: AppDeps): RouteSpec[] {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  /** The task if the caller may see it; otherwise 404 (never reveal that it exists), or 409 if it was closed. */
  const loadVisible = async (id: string, p: Caller): Promise<TaskRow> => {
    const valid = UUID.test(id);
    const task = valid ? await findTask(deps.db, id) : undefined;
    if (task && taskAccess(p, task) !== 'none') return task;
    if (!task && valid) {
      const past = await pastTask(deps.db, id);
      if (past && taskAccess(p, past) !== 'none') throw new ConflictError(`Task ${id} is no longer open: it was completed or cancelled.`);
    }
    throw new NotFoundError(`Task ${id} does not exist.`);
  };

  /**
   * Run a task command without reading the task first: the command locks the task's case, finds the task
   * under the lock and asks the policy (one round trip fewer on the way that succeeds). When it refuses
   * (403 or 409), say it as the caller's view of the task allows: 404 for a task the caller may not see,
   * whatever the command found, so that a refusal never reveals that a task exists.
   */
  const asVisible = async <T>(id: string, p: Caller, command: () => Promise<T>): Promise<T> => {
    try {
      return await command();
    } catch (err) {
      if (err instanceof ForbiddenError || err instanceof ConflictError) await loadVisible(id, p);
      throw err;
    }
  };

  /** The command checks the caller, the form and the hotline's rules on the locked task; the route only translates HTTP. */
  const complete = async (ctx: any, taskId: string, data: Record<string, unknown>) => {
    const p = ctx.state.principal!;
    const result = await asVisible(taskId, p, () => deps.runtime.completeTask({ taskId, output: data, actor: actorOf(p, ctx.state.requestId) }));
    // Say where the case went: e.g. a transfer past the limit lands with the coordinator, not with toAgency
    // (the rows the command itself left: no read after the commit).
    ctx.body = {
      caseCode: result.code,
      caseStatus: result.status,
      caseVersion: result.version,
      nextTasks: result.tasks.map((n) => ({ name: n.name, elementId: n.element_id, candidateGroups: n.candidate_groups, due: n.due_at ? new Date(n.due_at).toISOString() : null })),
    };
  };

  const taskAction = (action: 'claim' | 'unclaim'): RouteSpec => ({
    method: 'post',
    path: `/v1/tasks/:id/${action}`,
    params: pathParams({ id: PathParam.uuid }),
    summary: action === 'claim' ? 'Claim a task: it becomes yours until you complete or release it' : 'Release a claimed task back to its group',
    description: action === 'claim' ? '409 when someone else claimed it first.' : 'Only the claimant (or the coordinator) may release it; 409 otherwise.',
    tags: ['Tasks'],
    access: rolesFor('tasks'),
    responses: { 200: { description: 'The task after the change', schema: { $ref: '#/components/schemas/Task' } } },
    handler: async (ctx) => {
      const p = ctx.state.principal!;
      const id = ctx.params.id;
      const result = await asVisible(id, p, () => deps.runtime.taskAction({ taskId: id, action, actor: actorOf(p, ctx.state.requestId) }));
      ctx.body = taskView(result.task, deps.clock.now(), result.code);
    },
  });

  return [
    {
      method: 'get',
      path: '/v1/tasks',
      summary: 'Inbox: open tasks the caller may act on',
      description: 'Sorted by due date (no due date last); keyset pagination with limit (≤ 200) and cursor (nextCursor of the previous page).',
      tags: ['Tasks'],
      access: rolesFor('tasks'),
      query: TaskListQuery,
      responses: { 200: { description: 'A page of tasks', schema: TaskPageSchema } },
      handler: async (ctx) => {
        const p = ctx.state.principal!;
        const q = ctx.state.query as { limit?: number; cursor?: string; dueBefore?: string; overdue?: boolean; q?: string; state?: 'open' | 'claimed'; field?: string; unit?: string };
        const limit = q.limit ?? 50;
        const rows = await listInbox(deps.db, {
          groups: inboxGroups(p),
          assignee: p.id,
          dueBefore: q.dueBefore ? new Date(q.dueBefore) : undefined,
          overdue: q.overdue,
          now: deps.clock.now(),
          q: q.q,
          state: q.state,
          field: q.field,
          unit: q.unit,
          limit: limit + 1,
          cursor: q.cursor ? decodeCursor(q.cursor) : undefined,
        });
        const page = rows.slice(0, limit);
        ctx.body = {
          items: page.map((r) => taskView(r, deps.clock.now(), r.code, r.variables)),
          nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]) : null,
        };
      },
    },
    {
      method: 'get',
      path: '/v1/tasks/:id',
      params: pathParams({ id: PathParam.uuid }),
      summary: 'A task with its form schema, allowed outcomes, case summary, comments and recent history',
      description: "The citizen's personal data is masked unless the caller's role needs it.",
      tags: ['Tasks'],
      access: rolesFor('tasks'),
      responses: { 200: { description: 'The task', schema: TaskDetailSchema }, 409: { description: 'The task is no longer open' } },
      handler: async (ctx) => {
        const p = ctx.state.principal!;
        const task = await loadVisible(ctx.params.id, p);
        const kase = await caseSummary(deps.db, task.case_id);
        // The form of the version the task's case runs on: the one completing is checked against.
        // A called process's task: the form of the called version (engine/call-activity.ts).
        const form = await deps.forms.forCase(task.case_id, task.form_key, undefined, task.execution_id);
        ctx.body = {
          ...taskView(task, deps.clock.now(), kase.code, kase.variables),
          mayAct: mayActNow(p, task),
          form: form ?? null,
          allowedOutcomes: allowedOutcomes(form),
          case: { code: kase.code, status: kase.status, variables: maskVariables(kase.variables ?? {}, p, { holdsNow: taskAccess(p, task) === 'act' }) },
          comments: (await caseComments(deps.db, task.case_id)).map((c) => ({
            author: c.actor_id,
            agency: c.actor_agency,
            text: c.payload.text,
            attachments: c.payload.attachments ?? [],
            at: new Date(c.at).toISOString(),
          })),
          history: (await recentEvents(deps.db, task.case_id)).map((e) => ({
            seq: e.seq,
            type: e.type,
            elementId: e.element_id,
            elementName: e.element_name,
            actor: e.actor_id,
            agency: e.actor_agency,
            at: new Date(e.at).toISOString(),
          })),
        };
      },
    },
    taskAction('claim'),
    taskAction('unclaim'),
    {
      method: 'post',
      path: '/v1/tasks/:id/complete',
      params: pathParams({ id: PathParam.uuid }),
      summary: 'Complete a task with its form data',
      description:
        '404 for a task the caller may not see, 403 for one it may see but not act on, 409 when it is no longer open or is claimed by someone else, 422 when the form data fails the form schema (errors name the field).',
      tags: ['Tasks'],
      access: rolesFor('tasks'),
      body: CompleteTaskBody,
      responses: { 200: { description: 'Completed; where the case went', schema: CompletionSchema } },
      handler: async (ctx) => {
        await complete(ctx, ctx.params.id, ctx.state.body);
      },
    },
    {
      method: 'post',
      path: '/v1/tasks/:id/transfer',
      params: pathParams({ id: PathParam.uuid }),
      summary: 'Transfer the case to another agency, with a reason',
      description: 'Completes the step with outcome "transfer"; counts toward the transfer limit, past which the case escalates to the coordinator. 422 when the step cannot be transferred.',
      tags: ['Tasks'],
      access: rolesFor('tasks'),
      body: TransferBody,
      responses: { 200: { description: 'Transferred; where the case went', schema: CompletionSchema } },
      handler: async (ctx) => {
        const p = ctx.state.principal!;
        const task = await loadVisible(ctx.params.id, p);
        if (!allowedOutcomes(await deps.forms.forCase(task.case_id, task.form_key, undefined, task.execution_id)).includes(TRANSFER.outcome)) {
          throw new UnprocessableError(`Step "${task.name ?? task.element_id}" cannot be transferred; only handling steps can.`);
        }
        await complete(ctx, task.id, { outcome: TRANSFER.outcome, [TRANSFER.toAgency]: ctx.state.body.toAgency, [TRANSFER.reason]: ctx.state.body.reason });
      },
    },
    {
      method: 'post',
      path: '/v1/tasks/:id/comments',
      params: pathParams({ id: PathParam.uuid }),
      summary: 'Comment on a task (with attachment metadata)',
      description: 'Anyone who may act on the task may comment; the comment is part of the case history. With an Idempotency-Key header a retry records nothing more and answers the first response (header Idempotent-Replayed: true); the same key with another body is 409.',
      tags: ['Tasks'],
      access: rolesFor('tasks'),
      body: CommentBody,
      responses: { 201: { description: 'Comment recorded', schema: CommentSchema } },
      handler: async (ctx) => {
        const p = ctx.state.principal!;
        const task = await loadVisible(ctx.params.id, p);
        const { text, attachments = [] } = ctx.state.body;
        const comment = { taskId: task.id, author: p.id, text, attachments };
        // With an Idempotency-Key a retried comment is recorded once and answered the same.
        const once = onceFor(ctx, `POST /v1/tasks/${task.id}/comments`, async () => ({ status: 201, body: comment }));
        const done = await deps.runtime.taskAction({ taskId: task.id, action: 'comment', actor: actorOf(p, ctx.state.requestId), payload: { text, attachments }, once });
        if (done.answered) return sendAnswered(ctx, done.answered);
        ctx.status = 201;
        ctx.body = comment;
      },
    },
  ];
}

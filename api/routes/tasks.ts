import { listInbox } from '../../db/inbox.js';
import { pastTask, recentEvents } from '../../db/cases.js';
import { ConflictError, ForbiddenError, InputError, NotFoundError } from '../../engine/errors.js';
import type { TaskRow } from '../../engine/runtime.js';
import { actorOf, groupsOf, type Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';
import { maskVariables } from '../pii.js';
import { CompleteTaskBody, TaskListQuery } from '../schemas.js';
import { taskView } from './cases.js';

/** Roles that oversee every inbox (read only, unless they are also a candidate). */
const SEES_ALL_TASKS = ['coordinator', 'auditor'];

function mayAct(p: Principal, t: Pick<TaskRow, 'candidate_groups' | 'assignee'>): boolean {
  if (t.assignee) return t.assignee === p.id;
  const groups = groupsOf(p);
  return t.candidate_groups.some((g) => groups.includes(g));
}

function maySee(p: Principal, t: Pick<TaskRow, 'candidate_groups' | 'assignee'>): boolean {
  return mayAct(p, t) || p.roles.some((r) => SEES_ALL_TASKS.includes(r)) || t.candidate_groups.some((g) => groupsOf(p).includes(g));
}

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

export function taskRoutes(deps: AppDeps): RouteSpec[] {
  const anyone = ['operator', 'agency', 'coordinator', 'reviewer', 'auditor', 'analyst', 'admin'] as const;
  const loadVisible = async (id: string, p: Principal): Promise<TaskRow> => {
    const valid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
    const task = valid ? await deps.db('tasks').where({ id }).first() : undefined;
    // A task the caller may not see answers exactly like one that does not exist.
    if (task && maySee(p, task)) return task;
    if (!task && valid) {
      const past = await pastTask(deps.db, id);
      if (past && maySee(p, past)) throw new ConflictError(`Task ${id} is no longer open: it was completed or cancelled.`);
    }
    throw new NotFoundError(`Task ${id} does not exist.`);
  };
  return [
    {
      method: 'get',
      path: '/v1/tasks',
      summary: 'Inbox: open tasks the caller may act on',
      description: 'Sorted by due date (no due date last); keyset pagination with limit and cursor.',
      tags: ['Tasks'],
      access: [...anyone],
      query: TaskListQuery,
      responses: {
        200: {
          description: 'A page of tasks',
          schema: { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Task' } }, nextCursor: { type: ['string', 'null'] } } },
        },
      },
      handler: async (ctx) => {
        const p = ctx.state.principal!;
        const q = ctx.state.query as { limit?: number; cursor?: string; dueBefore?: string; overdue?: boolean; q?: string };
        const limit = q.limit ?? 50;
        const rows = await listInbox(deps.db, {
          groups: p.roles.some((r) => SEES_ALL_TASKS.includes(r)) ? null : groupsOf(p),
          assignee: p.id,
          dueBefore: q.dueBefore ? new Date(q.dueBefore) : undefined,
          overdue: q.overdue,
          q: q.q,
          limit: limit + 1,
          cursor: q.cursor ? decodeCursor(q.cursor) : undefined,
        });
        const page = rows.slice(0, limit);
        ctx.body = {
          items: page.map((r) => taskView(r, r.code, r.variables)),
          nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]) : null,
        };
      },
    },
    {
      method: 'get',
      path: '/v1/tasks/:id',
      summary: 'A task with its form schema and case summary',
      tags: ['Tasks'],
      access: [...anyone],
      responses: { 200: { description: 'The task', schema: { $ref: '#/components/schemas/Task' } } },
      handler: async (ctx) => {
        const p = ctx.state.principal!;
        const task = await loadVisible(ctx.params.id, p);
        const kase = await deps.db('cases').where({ id: task.case_id }).first('code', 'status', 'variables');
        ctx.body = {
          ...taskView(task, kase.code, kase.variables),
          mayAct: mayAct(p, task),
          form: task.form_key ? (deps.forms.schema(task.form_key) ?? null) : null,
          case: { code: kase.code, status: kase.status, variables: maskVariables(kase.variables ?? {}, p) },
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
    {
      method: 'post',
      path: '/v1/tasks/:id/complete',
      summary: 'Complete a task with its form data',
      description: '404 for a task the caller may not see, 403 for one it may see but not act on, 409 when it is no longer open, 422 when the form data fails the form schema.',
      tags: ['Tasks'],
      access: [...anyone],
      body: CompleteTaskBody,
      responses: { 200: { description: 'Completed; the case after it', schema: { $ref: '#/components/schemas/Case' } } },
      handler: async (ctx) => {
        const p = ctx.state.principal!;
        const task = await loadVisible(ctx.params.id, p);
        const authorize = (current: TaskRow) => {
          if (!mayAct(p, current)) throw new ForbiddenError(`You may see task "${current.name ?? current.element_id}" but not complete it: it is for ${current.assignee ?? current.candidate_groups.join(', ')}.`);
          deps.forms.check(current.form_key, ctx.state.body);
          deps.catalogue.checkCodes(ctx.state.body, deps.clock());
        };
        authorize(task);
        const result = await deps.runtime.completeTask({ taskId: task.id, output: ctx.state.body, actor: actorOf(p, ctx.state.requestId), authorize });
        ctx.body = { caseCode: result.code, caseStatus: result.status, caseVersion: result.version };
      },
    },
  ];
}

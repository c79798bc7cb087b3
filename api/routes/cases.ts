import type { Knex } from 'knex';
import type { Db } from '../../db/connect.js';
import { caseForView, caseHeldBy, searchCases, type CaseForView, type CaseSearchRow } from '../../db/cases.js';
import { isStarted, type StartedCase } from '../../engine/runtime.js';
import { tasksOfCase } from '../../db/tasks.js';
import { ForbiddenError, InputError, NotFoundError } from '../../engine/errors.js';
import { actorOf, type Principal } from '../auth.js';
import { onceFor, sendAnswered } from '../idempotency.js';
import { caseSearchScope, holdsCase, isExceptionalPiiRead, maskVariables, maySeeCase, maySeePii, rolesFor, type CaseFacts } from '../../engine/hotline/policy.js';
import { vietnamDayStart } from '../../engine/vietnam-time.js';
import type { AppDeps } from '../deps.js';
import type { JsonSchema, RouteSpec } from '../http.js';
import { CHANNELS, MessageBody, MigrateCaseBody, PhoneSchema, StartCaseBody, PathParam, pathParams } from '../schemas.js';

export function taskView(t: any, now: Date, code?: string, variables?: Record<string, unknown>) {
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    id: t.id,
    name: t.name,
    elementId: t.element_id,
    ...(code ? { caseCode: code } : {}),
    ...(variables
      ? {
          title: text(variables.title),
          field: text(variables.field),
          unit: text(variables.unit),
          transferCount: typeof variables.transferCount === 'number' ? variables.transferCount : 0,
        }
      : {}),
    candidateGroups: t.candidate_groups,
    assignee: t.assignee,
    claimedBy: t.assignee,
    due: t.due_at ? new Date(t.due_at).toISOString() : null,
    overdue: t.due_at ? new Date(t.due_at).getTime() < now.getTime() : false,
    formKey: t.form_key,
    createdAt: new Date(t.created_at).toISOString(),
  };
}

/**
 * A case as a caller may see it: 404 (not 403) when the caller may not, so codes cannot be probed. An exceptional
 * read of personal data is recorded with the request's id and path, as the history read records it, so an auditor
 * can match it to the request log.
 */
export async function loadCaseView(deps: AppDeps, code: string, principal: Principal, request: { requestId: string; path: string }, known?: CaseForView) {
  const view = await caseView(deps.db, code, principal, deps.clock.now(), known);
  if (isExceptionalPiiRead(principal)) {
    await deps.runtime.recordCaseEvent({ caseId: view.id, type: 'pii.read', actor: actorOf(principal, request.requestId), payload: { what: 'case', path: request.path } });
  }
  return view;
}

/**
 * The view itself, read through `db` (a command's transaction when it is the answer an Idempotency-Key stores),
 * or of `known`: the case as the command that started it wrote it (no read).
 */
async function caseView(db: Db | Knex.Transaction, code: string, principal: Principal, now: Date, known?: CaseForView) {
  // The row, its open tasks and its flags in one round trip (db/cases.ts caseForView).
  const row = known ?? (await caseForView(db, code, CASE_FLAGS));
  if (!row) throw new NotFoundError(`Case ${code} does not exist.`);
  if (!(await maySeeCase(principal, (agency) => caseHeldBy(db, row.id, agency)))) throw new NotFoundError(`Case ${code} does not exist.`);
  const { tasks, flags } = row;
  return {
    id: row.id,
    code: row.code,
    status: row.status,
    process: { key: row.process_key, version: row.process_version },
    variables: maskVariables(row.variables ?? {}, principal, { holdsNow: holdsCase(principal, tasks) }),
    tasks: tasks.map((t) => taskView(t, now)),
    version: row.version,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    endedAt: row.ended_at ? new Date(row.ended_at).toISOString() : null,
    flags: flags.sort(),
  };
}

/**
 * History events that mark a case for a person to look at, shown on the case
 * as `flags`: calendar.fallback — a deadline was counted Monday to Friday
 * because its year had no holiday data (an analyst enters the year, then
 * checks these cases' deadlines).
 */
const CASE_FLAGS = ['calendar.fallback'];

/**
 * A case just opened, as its start wrote it: its whole history is the start's events. Issue 20: the
 * intake's answer was read back after the commit (1.9 ms of a 35 ms shipped start on the benchmark machine).
 */
function startedCase(result: StartedCase): CaseForView {
  return { ...result.case, flags: CASE_FLAGS.filter((f) => result.eventTypes.includes(f)) };
}

const dateOrTime = { type: 'string', maxLength: 40, format: 'day-or-instant', description: 'YYYY-MM-DD (a day in Vietnam time) or an ISO 8601 time with its zone' };

const CaseSearchQuery: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    phone: { ...PhoneSchema, description: "The citizen's phone number, in any usual writing (0912 000 111, +84912000111); not for agency keys" },
    q: { type: 'string', minLength: 1, maxLength: 200, description: 'Words of the title or description, with or without diacritics (den duong finds Đèn đường); every word must appear' },
    status: { enum: ['running', 'completed'] },
    agency: { type: 'string', pattern: '^[A-Z0-9][A-Z0-9-]*$', maxLength: 64, description: 'Cases this agency holds or held' },
    field: { type: 'string', maxLength: 64 },
    unit: { type: 'string', maxLength: 64 },
    channel: { enum: CHANNELS },
    from: { ...dateOrTime, description: 'Received at or after (YYYY-MM-DD: from the start of that day, Vietnam time)' },
    to: { ...dateOrTime, description: 'Received before (YYYY-MM-DD: up to the end of that day, Vietnam time)' },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    cursor: { type: 'string', maxLength: 500 },
  },
};

const nullableText = { type: ['string', 'null'] };
const CaseHit: JsonSchema = {
  type: 'object',
  properties: {
    code: { type: 'string' },
    status: { enum: ['running', 'completed', 'failed'] },
    title: nullableText,
    channel: nullableText,
    field: nullableText,
    unit: nullableText,
    agency: { type: ['string', 'null'], description: 'the agency holding the case now' },
    citizenName: { type: ['string', 'null'], description: 'masked for roles that do not need it' },
    citizenPhone: { type: ['string', 'null'], description: 'masked for roles that do not need it' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    endedAt: { type: ['string', 'null'], format: 'date-time' },
  },
};

function searchTime(value: string | undefined, end: boolean, path: string): Date | undefined {
  if (!value) return undefined;
  const at = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(vietnamDayStart(value).getTime() + (end ? 86_400_000 : 0)) : new Date(value);
  if (Number.isNaN(at.getTime())) throw new InputError(`${path} is not a date.`, [{ path: `/${path}`, message: 'must be YYYY-MM-DD or an ISO 8601 time' }]);
  return at;
}

function decodeSearchCursor(cursor: string): { at: string; id: string } {
  try {
    const { a, i } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof a === 'string' && !Number.isNaN(Date.parse(a)) && typeof i === 'string' && /^[0-9a-f-]{36}$/.test(i)) return { at: a, id: i };
  } catch {
    /* fall through */
  }
  throw new InputError('The cursor is not one this API returned.', [{ path: '/cursor', message: 'use nextCursor from the previous page' }]);
}

/** A search hit: what identifies the case on the phone, the citizen's contact as the caller's role may see it. */
function caseHit(row: CaseSearchRow, caller: Parameters<typeof maskVariables>[1], facts: CaseFacts) {
  const v = row.variables ?? {};
  const text = (x: unknown) => (typeof x === 'string' ? x : null);
  const citizen = maskVariables({ citizenName: v.citizenName ?? null, citizenPhone: v.citizenPhone ?? null }, caller, facts);
  return {
    code: row.code,
    status: row.status,
    title: text(v.title),
    channel: text(v.channel),
    field: text(v.field),
    unit: text(v.unit),
    agency: text(v.agency),
    citizenName: citizen.citizenName,
    citizenPhone: citizen.citizenPhone,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    endedAt: row.ended_at ? new Date(row.ended_at).toISOString() : null,
  };
}

export function caseRoutes(deps: AppDeps): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/v1/cases',
      summary: 'Find cases: by phone number, words of the complaint, status, agency, field, unit, channel, dates',
      description:
        "Newest first, keyset-paginated (limit ≤ 200, cursor = nextCursor). `q` matches every word in the title or description, with or without diacritics. Agency keys find only the cases their agency holds or held, and may not search by phone. The citizen's name and phone are masked for roles that do not need them (auditors without the pii grant).",
      tags: ['Cases'],
      access: rolesFor('searchCases'),
      query: CaseSearchQuery,
      responses: {
        200: { description: 'A page of cases', schema: { type: 'object', properties: { items: { type: 'array', items: CaseHit }, nextCursor: { type: ['string', 'null'] } } } },
      },
      handler: async (ctx) => {
        const principal = ctx.state.principal!;
        const q = ctx.state.query as { phone?: string; q?: string; status?: string; agency?: string; field?: string; unit?: string; channel?: string; from?: string; to?: string; limit?: number; cursor?: string };
        const scope = caseSearchScope(principal);
        if (q.phone && !scope.byPhone) throw new ForbiddenError('Agency keys cannot search by phone number (query parameter phone): ask the hotline operators.');
        const phone = q.phone?.replace(/\D/g, '').replace(/^84/, '0');
        if (q.phone && (phone?.length ?? 0) < 6) throw new InputError('phone has too few digits.', [{ path: '/phone', message: 'must have at least 6 digits' }]);
        const words = q.q?.split(/\s+/).filter(Boolean).slice(0, 10);
        const limit = q.limit ?? 50;
        const rows = await searchCases(deps.db, {
          phone,
          words,
          status: q.status,
          heldBy: [...(scope.heldBy !== null ? [scope.heldBy] : []), ...(q.agency ? [q.agency] : [])],
          field: q.field,
          unit: q.unit,
          channel: q.channel,
          from: searchTime(q.from, false, 'from'),
          to: searchTime(q.to, true, 'to'),
          limit: limit + 1,
          cursor: q.cursor ? decodeSearchCursor(q.cursor) : undefined,
        });
        const page = rows.slice(0, limit);
        if (isExceptionalPiiRead(principal)) {
          for (const row of page) await deps.runtime.recordCaseEvent({ caseId: row.id, type: 'pii.read', actor: actorOf(principal, ctx.state.requestId), payload: { what: 'search', path: ctx.path } });
        }
        const last = page[page.length - 1];
        ctx.body = {
          // An agency sees the citizen's contact only on the cases it holds now (as on the case page).
          items: await Promise.all(page.map(async (r) => caseHit(r, principal, maySeePii(principal) ? {} : { holdsNow: holdsCase(principal, await tasksOfCase(deps.db, r.id)) }))),
          nextCursor: rows.length > limit ? Buffer.from(JSON.stringify({ a: new Date(last.created_at).toISOString(), i: last.id })).toString('base64url') : null,
        };
      },
    },
    {
      method: 'post',
      path: '/v1/cases',
      summary: 'Open a case (intake)',
      description: 'Starts the process (default: the active complaint-handling process) and runs it to its first wait states. With an Idempotency-Key header, a repeated request with the same body answers the first response (header Idempotent-Replayed: true) and creates nothing; the same key with another body is 409.',
      tags: ['Cases'],
      access: rolesFor('startCase'),
      body: StartCaseBody,
      responses: { 201: { description: 'Case opened', schema: { $ref: '#/components/schemas/Case' } }, 404: { description: 'No deployed process with the key in `process`' } },
      handler: async (ctx) => {
        const principal = ctx.state.principal!;
        const input = { processKey: ctx.state.body.process ?? deps.defaultProcess, variables: ctx.state.body.variables ?? {}, actor: actorOf(principal, ctx.state.requestId) };
        if (ctx.state.body.process !== undefined) {
          // A process the caller named that is not deployed: 404 naming the field and what there is (a decision key is no process).
          await deps.definitions.latest(input.processKey).catch(async (err: unknown) => {
            if (!(err instanceof NotFoundError)) throw err;
            const processes = [...new Set((await deps.definitions.list()).filter((d) => d.kind === 'bpmn').map((d) => `"${d.key}"`))];
            throw new NotFoundError(`No process "${input.processKey}" is deployed; the processes are ${processes.join(', ')}.`, [{ path: '/process', message: 'is not a deployed process' }]);
          });
        }
        // With an Idempotency-Key the key, the case and this answer commit in one transaction.
        const once = onceFor(ctx, 'POST /v1/cases', async (trx, result) => ({ status: 201, body: await caseView(trx, result.code, principal, deps.clock.now(), isStarted(result) ? startedCase(result) : undefined) }));
        if (once) {
          const answered = await deps.runtime.startCaseOnce({ ...input, once });
          sendAnswered(ctx, answered);
          if (answered.status === 201) ctx.set('Location', `/v1/cases/${(answered.body as { code: string }).code}`);
          return;
        }
        const result = await deps.runtime.startCase(input);
        ctx.status = 201;
        ctx.set('Location', `/v1/cases/${result.code}`);
        ctx.body = await loadCaseView(deps, result.code, principal, { requestId: ctx.state.requestId, path: ctx.path }, startedCase(result));
      },
    },
    {
      method: 'get',
      path: '/v1/cases/:code',
      params: pathParams({ code: PathParam.caseCode }),
      summary: 'A case with its open tasks',
      description: 'Agencies see only cases they hold or held; personal data is masked for roles that do not need it.',
      tags: ['Cases'],
      access: rolesFor('readCase'),
      responses: { 200: { description: 'The case', schema: { $ref: '#/components/schemas/Case' } } },
      handler: async (ctx) => {
        ctx.body = await loadCaseView(deps, ctx.params.code, ctx.state.principal!, { requestId: ctx.state.requestId, path: ctx.path });
      },
    },
    {
      method: 'post',
      path: '/v1/cases/:code/messages/:name',
      params: pathParams({ code: PathParam.caseCode, name: PathParam.messageName }),
      summary: 'Correlate a BPMN message to a case',
      description: 'E.g. the citizen supplied more information, or rated the answer. 409 when the case is not waiting for that message.',
      tags: ['Cases'],
      access: rolesFor('deliverMessage'),
      body: MessageBody,
      responses: { 200: { description: 'Delivered; the case after it', schema: { $ref: '#/components/schemas/Case' } } },
      handler: async (ctx) => {
        const principal = ctx.state.principal!;
        await deps.runtime.correlateMessage({ code: ctx.params.code, name: ctx.params.name, payload: ctx.state.body, actor: actorOf(principal, ctx.state.requestId) });
        ctx.body = await loadCaseView(deps, ctx.params.code, principal, { requestId: ctx.state.requestId, path: ctx.path });
      },
    },
    {
      method: 'post',
      path: '/v1/cases/:code/migrate',
      params: pathParams({ code: PathParam.caseCode }),
      summary: 'Move a running case to another version of its process',
      description:
        'Every element the case waits at must exist in the target version under the same id, or be mapped (`mapping`: old id → new id). Otherwise 422 lists one problem per element (rule migration-mapping) and nothing changes. Open tasks keep their agency, assignee and deadline; history records case.migrated. 409 when the case is not running.',
      tags: ['Cases'],
      access: rolesFor('migrateCase'),
      body: MigrateCaseBody,
      responses: { 200: { description: 'Migrated (or already on that version: outcome unchanged)', schema: { $ref: '#/components/schemas/Migration' } } },
      handler: async (ctx) => {
        const b = ctx.state.body;
        const result = await deps.runtime.migrateCase({ code: ctx.params.code, toVersion: b.toVersion, mapping: b.mapping, comment: b.comment, actor: actorOf(ctx.state.principal!, ctx.state.requestId) });
        ctx.body = { code: result.code, fromVersion: result.fromVersion, toVersion: result.toVersion, outcome: result.outcome, moves: result.moves };
      },
    },
  ];
}

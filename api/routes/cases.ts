import { caseHeldBy, findCaseByCode } from '../../db/cases.js';
import { tasksOfCase } from '../../db/tasks.js';
import { ConflictError, InputError, NotFoundError } from '../../engine/errors.js';
import { claimKey, releaseKey, requestHash, storeAnswer } from '../../db/idempotency.js';
import { actorOf, type Principal } from '../auth.js';
import { isExceptionalPiiRead, maskVariables, maySeeCase, rolesFor } from '../../engine/hotline/policy.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';
import { MessageBody, MigrateCaseBody, StartCaseBody } from '../schemas.js';

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

/** A case as a caller may see it: 404 (not 403) when the caller may not, so codes cannot be probed. */
export async function loadCaseView(deps: AppDeps, code: string, principal: Principal) {
  const row = await findCaseByCode(deps.db, code);
  if (!row) throw new NotFoundError(`Case ${code} does not exist.`);
  if (!(await maySeeCase(principal, (agency) => caseHeldBy(deps.db, row.id, agency)))) throw new NotFoundError(`Case ${code} does not exist.`);
  const tasks = await tasksOfCase(deps.db, row.id);
  if (isExceptionalPiiRead(principal)) {
    await deps.runtime.recordCaseEvent({ caseId: row.id, type: 'pii.read', actor: actorOf(principal), payload: { what: 'case' } });
  }
  return {
    id: row.id,
    code: row.code,
    status: row.status,
    process: { key: row.process_key, version: row.process_version },
    variables: maskVariables(row.variables ?? {}, principal),
    tasks: tasks.map((t) => taskView(t, deps.clock.now())),
    version: row.version,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    endedAt: row.ended_at ? new Date(row.ended_at).toISOString() : null,
  };
}

export function caseRoutes(deps: AppDeps): RouteSpec[] {
  return [
    {
      method: 'post',
      path: '/v1/cases',
      summary: 'Open a case (intake)',
      description: 'Starts the process (default: the active complaint-handling process) and runs it to its first wait states. With an Idempotency-Key header, a repeated request with the same body answers the first response (header Idempotent-Replayed: true) and creates nothing; the same key with another body is 409.',
      tags: ['Cases'],
      access: rolesFor('startCase'),
      body: StartCaseBody,
      responses: { 201: { description: 'Case opened', schema: { $ref: '#/components/schemas/Case' } } },
      handler: async (ctx) => {
        const principal = ctx.state.principal!;
        const key = ctx.get('Idempotency-Key');
        if (key && !/^[\x21-\x7e]{1,200}$/.test(key)) throw new InputError('Idempotency-Key must be 1–200 visible ASCII characters (a UUID is a good choice).', [{ path: 'header Idempotency-Key', message: 'is not a valid key' }]);
        if (key) {
          const claim = await claimKey(deps.db, principal.id, key, 'POST /v1/cases', requestHash('POST /v1/cases', ctx.state.body));
          if (claim.kind === 'conflict') throw new ConflictError(`Idempotency-Key "${key}": ${claim.reason}.`);
          if (claim.kind === 'replay') {
            ctx.status = claim.status;
            ctx.set('Idempotent-Replayed', 'true');
            ctx.body = claim.response;
            return;
          }
        }
        try {
          deps.catalogue.checkCodes(ctx.state.body.variables ?? {}, deps.clock.now());
          const result = await deps.runtime.startCase({
            processKey: ctx.state.body.process ?? deps.defaultProcess,
            variables: ctx.state.body.variables ?? {},
            actor: actorOf(principal, ctx.state.requestId),
          });
          ctx.status = 201;
          ctx.set('Location', `/v1/cases/${result.code}`);
          ctx.body = await loadCaseView(deps, result.code, principal);
          if (key) await storeAnswer(deps.db, principal.id, key, 201, ctx.body);
        } catch (err) {
          if (key) await releaseKey(deps.db, principal.id, key);
          throw err;
        }
      },
    },
    {
      method: 'get',
      path: '/v1/cases/:code',
      summary: 'A case with its open tasks',
      description: 'Agencies see only cases they hold or held; personal data is masked for roles that do not need it.',
      tags: ['Cases'],
      access: rolesFor('readCase'),
      responses: { 200: { description: 'The case', schema: { $ref: '#/components/schemas/Case' } } },
      handler: async (ctx) => {
        ctx.body = await loadCaseView(deps, ctx.params.code, ctx.state.principal!);
      },
    },
    {
      method: 'post',
      path: '/v1/cases/:code/messages/:name',
      summary: 'Correlate a BPMN message to a case',
      description: 'E.g. the citizen supplied more information, or rated the answer. 409 when the case is not waiting for that message.',
      tags: ['Cases'],
      access: rolesFor('deliverMessage'),
      body: MessageBody,
      responses: { 200: { description: 'Delivered; the case after it', schema: { $ref: '#/components/schemas/Case' } } },
      handler: async (ctx) => {
        const principal = ctx.state.principal!;
        await deps.runtime.correlateMessage({ code: ctx.params.code, name: ctx.params.name, payload: ctx.state.body, actor: actorOf(principal, ctx.state.requestId) });
        ctx.body = await loadCaseView(deps, ctx.params.code, principal);
      },
    },
    {
      method: 'post',
      path: '/v1/cases/:code/migrate',
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

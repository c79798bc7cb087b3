import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { caseHeldBy, findCaseByCode } from '../../db/cases.js';
import { activityCounts, calledActivityCounts, caseHistory, streamEvents, type EventRow } from '../../db/history.js';
import { statementBytes, type CheckpointRow } from '../../engine/checkpoints.js';
import { ConflictError, NotFoundError } from '../../engine/errors.js';
import { verifyChains } from '../../engine/history.js';
import { CALLED_PATHS_SCHEMA, calledPaths } from '../../engine/call-activity.js';
import { actorOf, type Principal } from '../auth.js';
import { holdsCase, isExceptionalPiiRead, maskDeep, maySeeCase, rolesFor, type CaseFacts } from '../../engine/hotline/policy.js';
import { tasksOfCase } from '../../db/tasks.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';
import { CaseDiagramSchema, CaseHistorySchema, PathParam, pathParams } from '../schemas.js';

function eventView(e: EventRow, p: Principal, facts: CaseFacts = {}) {
  return {
    caseCode: e.code,
    seq: e.seq,
    type: e.type,
    elementId: e.element_id,
    elementName: e.element_name,
    elementType: e.element_type,
    actor: { id: e.actor_id, roles: e.actor_roles, agency: e.actor_agency },
    requestId: e.request_id,
    at: new Date(e.at).toISOString(),
    payload: maskDeep(e.payload, p, facts),
    hash: e.hash,
  };
}

/** A checkpoint as the API shows and exports it: what was signed, the signature, the key to check it with. */
function checkpointView(c: CheckpointRow) {
  return {
    id: c.id,
    asOf: new Date(c.as_of).toISOString(),
    createdAt: new Date(c.created_at).toISOString(),
    createdBy: c.created_by,
    reason: c.reason,
    cases: c.cases,
    events: Number(c.events),
    statement: c.statement,
    // The exact bytes signed (RFC 8785), so an auditor checks the signature with openssl alone.
    signedText: statementBytes(c.statement).toString('utf8'),
    signature: c.signature,
    keyId: c.key_id,
    publicKey: c.public_key,
  };
}

const CHECKPOINT_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    asOf: { type: 'string', format: 'date-time' },
    createdAt: { type: 'string', format: 'date-time' },
    createdBy: { type: 'string' },
    reason: { enum: ['scheduled', 'on-demand', 'month-start'] },
    cases: { type: 'integer' },
    events: { type: 'integer' },
    statement: { type: 'object', description: 'what was signed' },
    signedText: { type: 'string', description: 'the statement’s RFC 8785 canonical JSON: exactly the bytes the signature covers' },
    signature: { type: 'string', description: 'Ed25519, base64' },
    keyId: { type: 'string' },
    publicKey: { type: 'string', description: 'PEM (SPKI); pin the key you trust out of band' },
    holds: { type: 'boolean' },
    problem: { type: ['string', 'null'] },
    heads: { type: 'array', items: { type: 'object', properties: { caseId: { type: 'string' }, seq: { type: 'integer' }, hash: { type: 'string' }, at: { type: 'string' } } } },
  },
} as const;

const CSV_COLUMNS = ['caseCode', 'seq', 'at', 'type', 'elementId', 'elementName', 'actorId', 'actorAgency', 'actorRoles', 'requestId', 'payload', 'hash'];

export function historyRoutes(deps: AppDeps): RouteSpec[] {
  /** The case if the caller may read its history; 404 otherwise, so codes cannot be probed. */
  const visibleCase = async (code: string, p: Principal) => {
    const kase = await findCaseByCode(deps.db, code);
    if (!kase || !(await maySeeCase(p, (agency) => caseHeldBy(deps.db, kase.id, agency), 'history'))) throw new NotFoundError(`Case ${code} does not exist.`);
    return kase;
  };

  return [
    {
      method: 'get',
      path: '/v1/cases/:code/history',
      params: pathParams({ code: PathParam.caseCode }),
      summary: 'A case’s whole history: who did what, when, on which element, with what data',
      description: 'Agencies only for cases they hold or held. Personal data masked unless the role needs it; an auditor holding the pii grant sees it, and that read is itself recorded in the history.',
      tags: ['History'],
      access: rolesFor('readCaseHistory'),
      responses: { 200: { description: 'The timeline', schema: CaseHistorySchema } },
      handler: async (ctx) => {
        const p = ctx.state.principal!;
        const kase = await visibleCase(ctx.params.code, p);
        const events = await caseHistory(deps.db, kase.id);
        const facts = { holdsNow: holdsCase(p, await tasksOfCase(deps.db, kase.id)) };
        if (isExceptionalPiiRead(p)) {
          await deps.runtime.recordCaseEvent({ caseId: kase.id, type: 'pii.read', actor: actorOf(p, ctx.state.requestId), payload: { what: 'case history', path: ctx.path } });
        }
        ctx.body = { code: kase.code, status: kase.status, process: { key: kase.process_key, version: kase.process_version }, events: events.map((e) => eventView(e, p, facts)) };
      },
    },
    {
      method: 'get',
      path: '/v1/cases/:code/diagram',
      params: pathParams({ code: PathParam.caseCode }),
      summary: 'The case’s diagram version with the path taken: visits per element, current waits, flows taken',
      description: 'For the case page: BPMN XML of the exact version the case runs on, element visit counts (loops show as more than 1), elements waiting now.',
      tags: ['History'],
      access: rolesFor('readCaseHistory'),
      // calls: the called processes' diagrams and paths (engine/call-activity.ts).
      responses: { 200: { description: 'Diagram and path', schema: { ...CaseDiagramSchema, properties: { ...(CaseDiagramSchema as any).properties, calls: CALLED_PATHS_SCHEMA } } } },
      handler: async (ctx) => {
        const p = ctx.state.principal!;
        const kase = await visibleCase(ctx.params.code, p);
        const [definition, counts] = await Promise.all([deps.definitions.version(kase.process_key, kase.process_version), activityCounts(deps.db, kase.id)]);
        const visits: Record<string, number> = {};
        const ended: Record<string, number> = {};
        for (const c of counts) {
          if (c.type === 'activity.started') visits[c.element_id] = c.n;
          else ended[c.element_id] = (ended[c.element_id] ?? 0) + c.n;
        }
        const active = kase.status === 'running' ? Object.keys(visits).filter((id) => visits[id] > (ended[id] ?? 0)) : [];
        // A flow counts as taken when both its ends were visited (flows themselves are not recorded).
        const context: any = await deps.definitions.context(definition.id);
        const taken = (context.elements?.sequenceFlows ?? []).filter((f: any) => visits[f.sourceId] && visits[f.targetId]).map((f: any) => f.id);
        const calls = await calledPaths(await calledActivityCounts(deps.db, kase.id), kase.status === 'running', async (key, version) => {
          const called = await deps.definitions.version(key, version);
          return { xml: called.xml, context: await deps.definitions.context(called.id) };
        });
        ctx.body = { code: kase.code, status: kase.status, process: { key: kase.process_key, version: kase.process_version }, xml: definition.xml, visits, active, taken, calls };
      },
    },
    {
      method: 'get',
      path: '/v1/history/verify',
      summary: 'Recompute the hash chains, compare them with the newest signed checkpoint and the open task rows; report every problem',
      description:
        'Every event’s hash covers the previous hash and the event’s canonical JSON; the database refuses UPDATE, DELETE and TRUNCATE on events. ' +
        'Each chain is read to its end and every problem is reported with its case and position, by kind: inserted, changed, deleted (the tail too: against the checkpoint), ' +
        'missing-case (a case the checkpoint counted has no events), checkpoint (a checkpoint whose signature or heads do not hold), task-row (an open task row that disagrees with its history). ' +
        'A chain whose first months were archived is verified from the signed checkpoint that recorded the event before its first live one. ?case=CODE checks one case.',
      tags: ['History'],
      access: rolesFor('verifyHistory'),
      query: { type: 'object', additionalProperties: false, properties: { case: { type: 'string', maxLength: 64 } } },
      responses: {
        200: {
          description: 'The verification report',
          schema: {
            type: 'object',
            properties: {
              ok: { type: 'boolean' },
              casesChecked: { type: 'integer' },
              eventsChecked: { type: 'integer' },
              tasksChecked: { type: 'integer' },
              checkpoint: { type: ['object', 'null'], description: 'the checkpoint compared with: id, asOf, keyId, reason, createdAt' },
              checkpointNote: { type: ['string', 'null'] },
              archived: { type: 'object', properties: { chains: { type: 'integer' }, missingCases: { type: 'integer' }, liveFrom: { type: ['string', 'null'] } } },
              counts: { type: 'object', additionalProperties: { type: 'integer' } },
              problems: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    kind: { enum: ['inserted', 'changed', 'deleted', 'missing-case', 'checkpoint', 'task-row'] },
                    caseCode: { type: ['string', 'null'] },
                    caseId: { type: ['string', 'null'] },
                    seq: { type: ['integer', 'null'] },
                    reason: { type: 'string' },
                    checkpointId: { type: 'string' },
                    taskId: { type: 'string' },
                  },
                },
              },
              firstBroken: {
                type: ['object', 'null'],
                description: 'the first of problems, as earlier versions reported it',
                properties: { caseId: { type: ['string', 'null'] }, caseCode: { type: ['string', 'null'] }, seq: { type: ['integer', 'null'] }, reason: { type: 'string' } },
              },
            },
          },
        },
        404: { description: 'No case with the code given in ?case' },
      },
      handler: async (ctx) => {
        let caseId: string | undefined;
        if (ctx.state.query?.case) {
          const kase = await findCaseByCode(deps.db, ctx.state.query.case);
          if (!kase) throw new NotFoundError(`Case ${ctx.state.query.case} does not exist.`);
          caseId = kase.id;
        }
        ctx.body = await verifyChains(deps.db, { caseId, checkpoints: deps.checkpoints });
      },
    },
    {
      method: 'get',
      path: '/v1/history/checkpoints',
      summary: 'Signed checkpoints of the history, newest first',
      description: 'Each states, as of a time, every case’s head hash and event count and the system chain’s head, signed with the node’s Ed25519 key (never stored in the database). ?before=ID pages.',
      tags: ['History'],
      access: rolesFor('verifyHistory'),
      query: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 200 }, before: { type: 'string', pattern: '^[0-9]{1,18}$' } } },
      responses: { 200: { description: 'Checkpoints (without their case heads)', schema: { type: 'object', properties: { checkpoints: { type: 'array', items: CHECKPOINT_SCHEMA } } } } },
      handler: async (ctx) => {
        const q = ctx.state.query ?? {};
        const rows = deps.checkpoints ? await deps.checkpoints.list(q.limit ?? 50, q.before) : [];
        ctx.body = { checkpoints: rows.map(checkpointView) };
      },
    },
    {
      method: 'post',
      path: '/v1/history/checkpoints',
      summary: 'Sign a checkpoint now (on demand)',
      description: 'Covers every event stamped more than a minute ago (a command still committing is left to the next). 409 when the node has no signing key (PAKN_CHECKPOINT_KEY_FILE).',
      tags: ['History'],
      access: rolesFor('verifyHistory'),
      body: { type: 'object', additionalProperties: false, properties: {} },
      responses: { 201: { description: 'The new checkpoint', schema: CHECKPOINT_SCHEMA }, 409: { description: 'No signing key is configured on this node' } },
      handler: async (ctx) => {
        if (!deps.checkpoints) throw new ConflictError('No checkpoint signing key is configured (PAKN_CHECKPOINT_KEY_FILE): checkpoints cannot be made on this node.');
        const row = await deps.checkpoints.create({ by: actorOf(ctx.state.principal!, ctx.state.requestId).id, reason: 'on-demand' });
        ctx.status = 201;
        ctx.body = checkpointView(row);
      },
    },
    {
      method: 'get',
      path: '/v1/history/checkpoints/:id',
      params: pathParams({ id: PathParam.int64 }),
      summary: 'One checkpoint, exported whole: statement, signature, public key and every case head',
      description:
        'Keep it outside the system: anyone can check it with the public key (the statement’s canonical JSON is what the Ed25519 signature covers; the digest is sha256 over "caseId seq hash\\n" per case in id order). ' +
        '`holds` says whether it verifies with this node’s configured key and its stored heads give the signed digest.',
      tags: ['History'],
      access: rolesFor('verifyHistory'),
      responses: { 200: { description: 'The checkpoint and its case heads', schema: CHECKPOINT_SCHEMA } },
      handler: async (ctx) => {
        if (!/^[0-9]{1,18}$/.test(ctx.params.id) || !deps.checkpoints) throw new NotFoundError(`Checkpoint ${ctx.params.id} does not exist.`);
        const { row, heads, problem } = await deps.checkpoints.export(ctx.params.id);
        ctx.body = {
          ...checkpointView(row),
          holds: problem === null,
          problem,
          heads: heads.map((h) => ({ caseId: h.case_id, seq: h.seq, hash: h.hash, at: new Date(h.at).toISOString() })),
        };
      },
    },
    {
      method: 'get',
      path: '/v1/history/events',
      summary: 'Export events by period, agency, actor and type, as JSON lines or CSV, streamed',
      description: 'format=jsonl (default) or format=csv (or Accept: text/csv); CSV is UTF-8 with a BOM so Excel shows Vietnamese. Rows are fetched in batches: a year of events never sits in memory.',
      tags: ['History'],
      access: rolesFor('exportHistory'),
      query: {
        type: 'object',
        additionalProperties: false,
        properties: {
          from: { type: 'string', format: 'date-time', maxLength: 40 },
          to: { type: 'string', format: 'date-time', maxLength: 40 },
          agency: { type: 'string', maxLength: 64 },
          actor: { type: 'string', maxLength: 200 },
          type: { type: 'string', maxLength: 100 },
          format: { enum: ['jsonl', 'csv'] },
        },
      },
      responses: {
        200: {
          description: 'One event per line (application/x-ndjson, each line an Event) or CSV rows with a BOM (text/csv)',
          content: { 'application/x-ndjson': { $ref: '#/components/schemas/Event' }, 'text/csv': { type: 'string' } },
        },
      },
      handler: async (ctx) => {
        const p = ctx.state.principal!;
        const q = ctx.state.query ?? {};
        if (isExceptionalPiiRead(p)) {
          // An unmasked export spans many cases: it is recorded once, on the system chain.
          await deps.runtime.recordSystemEvent({ type: 'pii.exported', payload: { filter: q }, actor: actorOf(p, ctx.state.requestId) });
        }
        const csv = q.format === 'csv' || (!q.format && ctx.accepts('application/x-ndjson', 'text/csv') === 'text/csv');
        const events = streamEvents(deps.db, { from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined, agency: q.agency, actor: q.actor, type: q.type });
        // The first batch is read before anything is sent, so a query that fails (the database away) is still an
        // answer with its status; one failing later can only cut the stream (the server's log says why).
        const first = await events.next();
        const rows = (async function* () {
          if (first.done) return;
          yield first.value;
          yield* events;
        })();
        const stamp = deps.clock.now().toISOString().slice(0, 10);
        if (csv) {
          ctx.type = 'text/csv; charset=utf-8';
          ctx.attachment(`pakn-events-${stamp}.csv`);
          const out = stringify({ header: true, columns: CSV_COLUMNS, bom: true });
          (async () => {
            try {
              for await (const r of rows) {
                const v = eventView(r, p);
                const ok = out.write({ ...v, actorId: v.actor.id, actorAgency: v.actor.agency ?? '', actorRoles: v.actor.roles.join(' '), payload: JSON.stringify(v.payload) });
                if (!ok) await new Promise((resolve) => out.once('drain', resolve));
              }
              out.end();
            } catch (err) {
              out.destroy(err as Error);
            }
          })();
          ctx.body = out;
        } else {
          ctx.type = 'application/x-ndjson; charset=utf-8';
          ctx.body = Readable.from(
            (async function* () {
              for await (const r of rows) yield `${JSON.stringify(eventView(r, p))}\n`;
            })(),
          );
        }
      },
    },
  ];
}

import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { caseHeldBy, findCaseByCode } from '../../db/cases.js';
import { activityCounts, caseHistory, streamEvents, type EventRow } from '../../db/history.js';
import { NotFoundError } from '../../engine/errors.js';
import { verifyChains } from '../../engine/history.js';
import { actorOf, type Principal } from '../auth.js';
import { isExceptionalPiiRead, maskDeep, maySeeCase, rolesFor } from '../../engine/hotline/policy.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';

function eventView(e: EventRow, p: Principal) {
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
    payload: maskDeep(e.payload, p),
    hash: e.hash,
  };
}

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
      summary: 'A case’s whole history: who did what, when, on which element, with what data',
      description: 'Agencies only for cases they hold or held. Personal data masked unless the role needs it; an auditor holding the pii grant sees it, and that read is itself recorded in the history.',
      tags: ['History'],
      access: rolesFor('readCaseHistory'),
      responses: { 200: { description: 'The timeline', schema: { type: 'object', properties: { code: { type: 'string' }, events: { type: 'array', items: { type: 'object' } } } } } },
      handler: async (ctx) => {
        const p = ctx.state.principal!;
        const kase = await visibleCase(ctx.params.code, p);
        const events = await caseHistory(deps.db, kase.id);
        if (isExceptionalPiiRead(p)) {
          await deps.runtime.recordCaseEvent({ caseId: kase.id, type: 'pii.read', actor: actorOf(p, ctx.state.requestId), payload: { what: 'case history', path: ctx.path } });
        }
        ctx.body = { code: kase.code, status: kase.status, process: { key: kase.process_key, version: kase.process_version }, events: events.map((e) => eventView(e, p)) };
      },
    },
    {
      method: 'get',
      path: '/v1/cases/:code/diagram',
      summary: 'The case’s diagram version with the path taken: visits per element, current waits, flows taken',
      description: 'For the case page: BPMN XML of the exact version the case runs on, element visit counts (loops show as more than 1), elements waiting now.',
      tags: ['History'],
      access: rolesFor('readCaseHistory'),
      responses: { 200: { description: 'Diagram and path', schema: { type: 'object', properties: { xml: { type: 'string' }, visits: { type: 'object' }, active: { type: 'array' }, taken: { type: 'array' } } } } },
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
        ctx.body = { code: kase.code, status: kase.status, process: { key: kase.process_key, version: kase.process_version }, xml: definition.xml, visits, active, taken };
      },
    },
    {
      method: 'get',
      path: '/v1/history/verify',
      summary: 'Recompute the hash chains; report the first broken link',
      description: 'Every event’s hash covers the previous hash and the event’s canonical JSON; the database refuses UPDATE and DELETE on events. ?case=CODE checks one case.',
      tags: ['History'],
      access: rolesFor('verifyHistory'),
      query: { type: 'object', additionalProperties: false, properties: { case: { type: 'string', maxLength: 64 } } },
      responses: { 200: { description: 'The verification report', schema: { type: 'object', properties: { ok: { type: 'boolean' }, casesChecked: { type: 'integer' }, eventsChecked: { type: 'integer' }, firstBroken: { type: ['object', 'null'] } } } } },
      handler: async (ctx) => {
        let caseId: string | undefined;
        if (ctx.state.query?.case) {
          const kase = await findCaseByCode(deps.db, ctx.state.query.case);
          if (!kase) throw new NotFoundError(`Case ${ctx.state.query.case} does not exist.`);
          caseId = kase.id;
        }
        ctx.body = await verifyChains(deps.db, { caseId });
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
          from: { type: 'string', format: 'date-time' },
          to: { type: 'string', format: 'date-time' },
          agency: { type: 'string', maxLength: 64 },
          actor: { type: 'string', maxLength: 200 },
          type: { type: 'string', maxLength: 100 },
          format: { enum: ['jsonl', 'csv'] },
        },
      },
      responses: {
        200: { description: 'One event per line (application/x-ndjson) or CSV rows (text/csv)', contentType: 'application/x-ndjson', schema: { type: 'string' } },
      },
      handler: async (ctx) => {
        const p = ctx.state.principal!;
        const q = ctx.state.query ?? {};
        if (isExceptionalPiiRead(p)) {
          // An unmasked export spans many cases: it is recorded once, on the system chain.
          await deps.runtime.recordSystemEvent({ type: 'pii.exported', payload: { filter: q }, actor: actorOf(p, ctx.state.requestId) });
        }
        const csv = q.format === 'csv' || (!q.format && ctx.accepts('application/x-ndjson', 'text/csv') === 'text/csv');
        const rows = streamEvents(deps.db, { from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined, agency: q.agency, actor: q.actor, type: q.type });
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

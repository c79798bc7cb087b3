import { InputError, NotFoundError } from '../../engine/errors.js';
import { actorOf } from '../auth.js';
import { activateWithImpact, deployWithImpact } from '../../engine/dry-run.js';
import { rolesFor } from '../../engine/hotline/policy.js';
import type { AppDeps } from '../deps.js';
import { cleanString, type Ctx, type RouteSpec } from '../http.js';
import { DeployFormsProperty } from './forms.js';
import { ActivateBody, DefinitionListItemSchema, DefinitionVersionSchema, DeployJsonBody, DryRunBody, MigrateBatchBody, ValidationReportSchema, PathParam, pathParams } from '../schemas.js';

const XML_TYPES = ['application/xml', 'text/xml', 'application/bpmn+xml'];

/** The diagram arrives either as the raw XML body or as JSON `{xml, comment}`. */
function diagramOf(ctx: Ctx): { xml: string; comment?: string; activate?: boolean; confirm?: boolean; reason?: string; forms?: Record<string, Record<string, unknown>> } {
  if (typeof ctx.state.body === 'string') {
    // A risky activation confirmed with an XML body: ?confirm=true and the reason in X-Impact-Reason (percent-encoded, as X-Deploy-Comment).
    const q = ctx.state.query ?? {};
    return { xml: ctx.state.body, comment: headerComment(ctx), activate: q.activate === 'false' ? false : undefined, confirm: q.confirm === 'true' || undefined, reason: headerComment(ctx, 'X-Impact-Reason') };
  }
  if (ctx.state.body && typeof ctx.state.body.xml === 'string') {
    // ?activate=false stages a JSON deploy too; the body's own field wins when both are given.
    return { ...ctx.state.body, activate: ctx.state.body.activate ?? (ctx.state.query?.activate === 'false' ? false : undefined) };
  }
  throw new InputError('Send the BPMN XML with Content-Type: application/xml, or JSON {"xml": "..."}.', [{ path: '/xml', message: 'is required' }]);
}

/**
 * A comment in a header. HTTP headers are Latin-1, so a Vietnamese comment travels percent-encoded
 * (encodeURIComponent); curl and most clients send typed text as raw UTF-8 bytes instead, which Node hands
 * over one character per byte ("Nâng" arrives as "NÃ¢ng") and which was stored so, for good, in the
 * hash-chained history. A header with bytes above 0x7F is therefore read as UTF-8 (and refused when it is
 * not UTF-8); one of ASCII only is percent-decoded.
 */
function headerComment(ctx: Ctx, header = 'X-Deploy-Comment'): string | undefined {
  const raw = ctx.get(header);
  if (!raw) return undefined;
  const path = `header ${header}`;
  let text: string;
  if (/[^\x20-\x7e\t]/.test(raw)) {
    const bytes = Buffer.from(raw, 'latin1');
    text = bytes.toString('utf8');
    if (text.includes('\ufffd') || !Buffer.from(text, 'utf8').equals(bytes)) {
      throw new InputError(`${header} is neither UTF-8 nor percent-encoded UTF-8 (encodeURIComponent).`, [{ path, message: 'is not UTF-8 text' }]);
    }
  } else {
    try {
      text = decodeURIComponent(raw);
    } catch {
      throw new InputError(`${header} must be percent-encoded UTF-8 (encodeURIComponent).`, [{ path, message: 'is not valid percent-encoding' }]);
    }
  }
  return cleanString(text, 'header', path).slice(0, 2000);
}

/** What confirms an activation the impact preview found risky; recorded with the analyst in the history. */
const CONFIRM_PROPERTIES = {
  confirm: { type: 'boolean', description: 'Activate even though open cases would fire a timer at once or land on a task with no candidate group (needs reason)' },
  reason: { type: 'string', minLength: 1, maxLength: 2000, description: 'Why the risky activation is accepted; recorded in the history with the analyst' },
};

const ImpactReportSchema = {
  type: 'object',
  description: 'The open cases of the version being replaced, replayed against the candidate: how many would wait where they are, move, fire a timer at once, land on a task with no candidate group, or fail',
  properties: {
    key: { type: 'string' },
    replacesVersion: { type: ['integer', 'null'] },
    openCases: { type: 'integer' },
    replayed: { type: 'integer' },
    wait: { type: 'integer' },
    move: { type: 'integer' },
    timerAtOnce: { type: 'integer' },
    noCandidateGroup: { type: 'integer' },
    failed: { type: 'integer' },
    risky: { type: 'boolean' },
    cases: {
      type: 'array',
      items: {
        type: 'object',
        required: ['code', 'outcome', 'waitingAt', 'candidateWaitingAt', 'timersAtOnce', 'tasksWithoutGroup'],
        properties: {
          code: { type: 'string' },
          outcome: { enum: ['wait', 'move', 'failed'] },
          waitingAt: { type: 'array', items: { type: 'string' }, description: 'where the case waits now' },
          candidateWaitingAt: { type: 'array', items: { type: 'string' }, description: 'where it would wait under the candidate' },
          timersAtOnce: { type: 'array', items: { type: 'string' } },
          tasksWithoutGroup: { type: 'array', items: { type: 'string' } },
          message: { type: 'string' },
        },
      },
    },
    problems: { type: 'array', items: { $ref: '#/components/schemas/DiagramProblem' } },
  },
};

export function definitionRoutes(deps: AppDeps): RouteSpec[] {
  return [
    {
      method: 'post',
      path: '/v1/definitions',
      summary: 'Deploy a BPMN diagram',
      description:
        'Validates, then stores a new version and makes it the one new cases start on. activate=false (JSON field, or ?activate=false with an XML body) stages it instead. Identical XML returns the existing version (200, created=false) and, unless staged, switches back to it: a rollback. 422 lists every problem by element. Before a version becomes active its impact on the open cases of the version it replaces is previewed (`impact` in the answer); when any would fire a timer at once or land on a task with no candidate group, 422 lists them by element unless confirm and reason are given (JSON fields, or ?confirm=true and X-Impact-Reason with an XML body), and the reason is recorded in the history with the analyst.',
      tags: ['Definitions'],
      access: rolesFor('deployDefinition'),
      body: { ...DeployJsonBody, properties: { ...(DeployJsonBody.properties as object), ...CONFIRM_PROPERTIES, forms: DeployFormsProperty } },
      // Exactly true or false: ?activate=no activated before (anything but "false" did), a routing table untested.
      query: {
        type: 'object',
        additionalProperties: false,
        properties: {
          activate: { enum: ['true', 'false'], description: 'false stages the version (an XML body; a JSON body may say it in its own field, which wins)' },
          confirm: { enum: ['true', 'false'], description: 'true confirms a risky activation (an XML body; the reason in X-Impact-Reason, percent-encoded)' },
        },
      },
      rawBody: XML_TYPES,
      responses: {
        201: { description: 'New version deployed', schema: { $ref: '#/components/schemas/Definition' } },
        200: { description: 'Identical diagram already deployed', schema: { $ref: '#/components/schemas/Definition' } },
      },
      handler: async (ctx) => {
        const { xml, comment, activate, confirm, reason, forms } = diagramOf(ctx);
        const result = await deployWithImpact(deps.definitions, deps.dryRun, xml, { deployedBy: ctx.state.principal!.id, comment, activate, confirm, reason, forms, actor: actorOf(ctx.state.principal!, ctx.state.requestId) });
        ctx.status = result.created ? 201 : 200;
        ctx.body = result;
      },
    },
    {
      method: 'post',
      path: '/v1/definitions/validate',
      summary: 'Validate a BPMN diagram without deploying it',
      tags: ['Definitions'],
      access: rolesFor('validateDefinition'),
      body: { ...DeployJsonBody, properties: { ...(DeployJsonBody.properties as object), forms: DeployFormsProperty } },
      rawBody: XML_TYPES,
      responses: { 200: { description: 'Every problem found (empty when the diagram is deployable)', schema: ValidationReportSchema } },
      handler: async (ctx) => {
        const { xml, forms } = diagramOf(ctx);
        const { problems } = await deps.definitions.validate(xml, forms);
        ctx.body = { valid: !problems.some((p) => p.severity === 'error'), problems };
      },
    },
    {
      method: 'get',
      path: '/v1/definitions',
      summary: 'Deployed definitions, every version',
      tags: ['Definitions'],
      access: rolesFor('readDefinitions'),
      responses: { 200: { description: 'Definitions', schema: { type: 'array', items: DefinitionListItemSchema } } },
      handler: async (ctx) => {
        ctx.body = (await deps.definitions.list()).map((d) => ({
          id: d.id,
          key: d.key,
          version: d.version,
          name: d.name,
          kind: d.kind,
          active: Boolean(d.active),
          runningCases: d.kind === 'bpmn' ? Number(d.running_cases) : null,
          sha256: d.sha256,
          deployedBy: d.deployed_by,
          deployedAt: new Date(d.deployed_at).toISOString(),
          comment: d.comment,
        }));
      },
    },
    {
      method: 'post',
      path: '/v1/definitions/:key/active',
      params: pathParams({ key: PathParam.definitionKey }),
      summary: 'Switch the version new cases start on (switch on a staged deploy, or roll back)',
      description: 'Running cases keep the version they started on. For a DMN file, routing done from now on uses the chosen version.',
      tags: ['Definitions'],
      access: rolesFor('activateDefinition'),
      body: { ...ActivateBody, properties: { ...(ActivateBody.properties as object), ...CONFIRM_PROPERTIES } },
      responses: { 200: { description: 'Now active', schema: { $ref: '#/components/schemas/Definition' } } },
      handler: async (ctx) => {
        const b = ctx.state.body;
        const { row, impact } = await activateWithImpact(deps.definitions, deps.dryRun, ctx.params.key, b.version, actorOf(ctx.state.principal!, ctx.state.requestId), { confirm: b.confirm, reason: b.reason });
        ctx.body = { id: row.id, kind: row.kind, key: row.key, version: row.version, name: row.name, active: true, ...(impact ? { impact } : {}) };
      },
    },
    {
      method: 'post',
      path: '/v1/definitions/:key/dry-run',
      params: pathParams({ key: PathParam.definitionKey }),
      summary: 'Replay recorded cases against a candidate diagram or decision file',
      description:
        'The candidate (BPMN of process {key}, or a DMN file whose key is {key}) is validated, then the recorded history of the last `last` finished cases (or of `cases`) is replayed against it in memory: the same start data, task outcomes, messages and timers in the same order. Each case is reported as same, diverged (with the first step where the path or the assigned agency differs) or failed. Nothing is written. Expressions reading the clock are evaluated at replay time.',
      tags: ['Definitions'],
      access: rolesFor('dryRun'),
      body: DryRunBody,
      responses: { 200: { description: 'One entry per replayed case', schema: { $ref: '#/components/schemas/DryRunReport' } } },
      handler: async (ctx) => {
        const b = ctx.state.body;
        ctx.body = await deps.dryRun.run({ key: ctx.params.key, xml: b.xml, codes: b.cases, last: b.last });
      },
    },
    {
      method: 'post',
      path: '/v1/definitions/:key/impact',
      params: pathParams({ key: PathParam.definitionKey }),
      summary: 'Preview what activating a candidate diagram would do to the open cases of the active version',
      description:
        'Each open case of the active version of {key} (oldest 200) is replayed in memory against the candidate and against its own version: it would wait where it is, move, fire a timer at once, land on a task with no candidate group, or fail. Nothing is written. Deploy and switch run the same preview and refuse a risky version unless confirmed with a reason.',
      tags: ['Definitions'],
      access: rolesFor('dryRun'),
      body: { type: 'object', additionalProperties: false, required: ['xml'], properties: { xml: { type: 'string', minLength: 1, maxLength: 5_000_000, description: 'The candidate BPMN diagram of process {key}' } } },
      responses: { 200: { description: 'The impact on open cases', schema: ImpactReportSchema } },
      handler: async (ctx) => {
        ctx.body = await deps.dryRun.impact({ key: ctx.params.key, xml: ctx.state.body.xml });
      },
    },
    {
      method: 'post',
      path: '/v1/definitions/:key/migrate',
      params: pathParams({ key: PathParam.definitionKey }),
      summary: 'Move running cases of a process to another version (batch)',
      description:
        'Each case moves in its own transaction with the same activity mapping, oldest first, up to `limit` per call (`remaining` says how many are left). A case whose waiting elements have no counterpart is refused with its problems and left as it was; the others move. `check: true` only reports.',
      tags: ['Definitions'],
      access: rolesFor('migrateCases'),
      body: MigrateBatchBody,
      responses: { 200: { description: 'What happened to each case', schema: { $ref: '#/components/schemas/BatchMigration' } } },
      handler: async (ctx) => {
        const b = ctx.state.body;
        ctx.body = await deps.runtime.migrateCases({
          key: ctx.params.key,
          toVersion: b.toVersion,
          fromVersion: b.fromVersion,
          codes: b.cases,
          mapping: b.mapping,
          comment: b.comment,
          check: b.check,
          limit: b.limit,
          actor: actorOf(ctx.state.principal!, ctx.state.requestId),
        });
      },
    },
    {
      method: 'get',
      path: '/v1/definitions/:key/versions/:version',
      summary: 'One version of a definition; append .xml for the diagram itself',
      tags: ['Definitions'],
      access: rolesFor('readDefinitions'),
      // Versions are PostgreSQL integers: a longer number is refused (400) before it reaches the database.
      params: pathParams({ key: PathParam.definitionKey, version: { type: 'string', maxLength: 13, pattern: '^[1-9][0-9]{0,8}(\\.xml)?$', description: 'the version number (at most 9 digits), with .xml for the XML itself' } }),
      responses: {
        200: { description: 'The version (JSON), or its BPMN or DMN XML when the path ends in .xml', content: { 'application/json': DefinitionVersionSchema, 'application/xml': { type: 'string' } } },
      },
      handler: async (ctx) => {
        const match = /^(\d+)(\.xml)?$/.exec(ctx.params.version);
        if (!match) throw new NotFoundError(`Version ${ctx.params.version} does not exist.`);
        const row = await deps.definitions.version(ctx.params.key, Number(match[1]));
        if (match[2]) {
          ctx.type = 'application/xml; charset=utf-8';
          ctx.body = row.xml;
          return;
        }
        ctx.body = { id: row.id, key: row.key, version: row.version, name: row.name, sha256: row.sha256, deployedBy: row.deployed_by, deployedAt: new Date(row.deployed_at).toISOString(), comment: row.comment };
      },
    },
  ];
}

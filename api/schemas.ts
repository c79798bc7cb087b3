import { INTAKE_REQUIRED } from '../engine/hotline/contract.js';
import { ROLES } from '../engine/hotline/policy.js';
import { HTTP_URL_PATTERN, PHONE_PATTERN } from '../engine/json-schema.js';
import type { JsonSchema } from './http.js';

/** Schemas shared by ajv (requests, and responses in tests) and the OpenAPI document. */

/** Versions are PostgreSQL integers: a larger number is refused here (400) rather than by the database. */
const INT32_MAX = 2_147_483_647;
/**
 * Path parameters, checked by ajv like bodies (api/http.ts): a value of the
 * wrong shape, an integer beyond its column's range, or an over-long string
 * answers 400 naming the parameter before any query runs.
 */
export const PathParam = {
  /** A case code (PA2611-7K3QX), read out on the phone: any letter case. */
  caseCode: { type: 'string', minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9][A-Za-z0-9-]*$', description: 'case code, e.g. PA2611-7K3QX (any letter case)' },
  /** Rows keyed by a UUID (tasks, subscriptions, API keys). */
  uuid: { type: 'string', format: 'uuid', maxLength: 36 },
  /** Rows keyed by a bigint (jobs, incidents, checkpoints): digits, read as text so no precision is lost. */
  int64: { type: 'string', pattern: '^[1-9][0-9]{0,17}$', maxLength: 18, description: 'a positive integer of at most 18 digits' },
  /** A process or decision key (an XML NCName). */
  definitionKey: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z_][A-Za-z0-9_.-]*$' },
  /** A BPMN message name. */
  messageName: { type: 'string', minLength: 1, maxLength: 200 },
} as const;

/** The object schema of a route's path parameters, each required. */
export function pathParams(properties: Record<string, JsonSchema>): JsonSchema {
  return { type: 'object', required: Object.keys(properties), properties };
}

export const ProblemSchema: JsonSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } } },
    problems: { type: 'array', items: { $ref: '#/components/schemas/DiagramProblem' } },
  },
};

export const DiagramProblemSchema: JsonSchema = {
  type: 'object',
  required: ['elementId', 'rule', 'severity', 'message'],
  properties: {
    elementId: { type: ['string', 'null'] },
    rule: { type: 'string' },
    severity: { enum: ['error', 'warning'] },
    message: { type: 'string' },
    line: { type: 'integer', description: 'for XML that does not parse: the line (1-based)' },
    column: { type: 'integer', description: 'for XML that does not parse: the column (1-based)' },
  },
};

const variableName = '^(?!(fields|content|properties)$)[A-Za-z_][A-Za-z0-9_]{0,63}$';

export const VariablesSchema: JsonSchema = {
  type: 'object',
  description: 'Case variables, visible to FEEL expressions in the diagram. Names fields, content and properties are reserved by the engine.',
  propertyNames: { pattern: variableName },
  maxProperties: 200,
};

export const CHANNELS = ['call', 'sms', 'web', 'app', 'email', 'zalo'];

/**
 * A citizen's phone, wherever one comes in (intake, Open311, an inbound SMS's sender): SMS are sent to it and
 * its last 4 digits open the public lookup, so it must hold a phone's digits (engine/json-schema.ts PHONE_PATTERN).
 */
export const PhoneSchema: JsonSchema = {
  type: 'string',
  maxLength: 30,
  pattern: PHONE_PATTERN,
  description: '9 to 15 digits, optionally after one leading +, spaces, dots, dashes and parentheses allowed between (0912 000 111, +84 912 000 111, 84912000111)',
  'x-pii': true,
};

export const StartCaseBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['variables'],
  properties: {
    process: { type: 'string', minLength: 1, maxLength: 200, description: 'Definition key; default: complaint-handling' },
    variables: {
      ...VariablesSchema,
      description: `${VariablesSchema.description} ${INTAKE_REQUIRED.join(', ')} are required.`,
      required: [...INTAKE_REQUIRED],
      properties: {
        channel: { enum: CHANNELS, description: 'How the complaint came in: call (via an operator), sms, web, app, email, zalo' },
        title: { type: 'string', minLength: 1, maxLength: 300, pattern: '\\S', description: 'The subject in a line (not only spaces)' },
        description: { type: 'string', minLength: 1, maxLength: 20000, pattern: '\\S', description: "The citizen's complaint as told (not only spaces)" },
        citizenName: { type: 'string', maxLength: 200, 'x-pii': true },
        citizenPhone: PhoneSchema,
        citizenEmail: { type: 'string', format: 'email', maxLength: 200, 'x-pii': true },
        citizenAddress: { type: 'string', maxLength: 500, 'x-pii': true },
      },
    },
  },
};

export const CompleteTaskBody: JsonSchema = {
  type: 'object',
  description: "The task's form data; validated against the task's form schema (formKey).",
  propertyNames: { pattern: variableName },
  maxProperties: 200,
};

export const MessageBody: JsonSchema = {
  type: 'object',
  description: 'Message payload; its fields become case variables.',
  propertyNames: { pattern: variableName },
  maxProperties: 200,
};

export const DeployJsonBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['xml'],
  properties: {
    xml: { type: 'string', minLength: 1, maxLength: 5_000_000, description: 'BPMN 2.0 XML' },
    comment: { type: 'string', maxLength: 2000 },
    activate: { type: 'boolean', description: 'default true; false (or ?activate=false) stages the version: stored, but new cases keep the active one until POST /v1/definitions/{key}/active' },
  },
};

export const ActivateBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: { version: { type: 'integer', minimum: 1, maximum: INT32_MAX } },
};

const elementId = { type: 'string', pattern: '^[A-Za-z_][\\w.-]{0,199}$' };
const caseCode = { type: 'string', minLength: 1, maxLength: 32 };

/** Old element id → new element id, for the elements a case waits at. */
const ActivityMappingSchema: JsonSchema = {
  type: 'object',
  description: 'Waiting element id in the current version → element id in the target version; elements kept under the same id need no entry',
  propertyNames: elementId,
  additionalProperties: elementId,
  maxProperties: 200,
};

const MovesSchema: JsonSchema = {
  type: 'array',
  description: 'Waiting elements whose id changed',
  items: { type: 'object', required: ['from', 'to'], properties: { from: { type: 'string' }, to: { type: 'string' } } },
};

export const MigrationSchema: JsonSchema = {
  type: 'object',
  required: ['code', 'fromVersion', 'toVersion', 'outcome', 'moves'],
  properties: {
    code: { type: 'string' },
    fromVersion: { type: 'integer' },
    toVersion: { type: 'integer' },
    outcome: { enum: ['migrated', 'unchanged'] },
    moves: MovesSchema,
  },
};

export const BatchMigrationSchema: JsonSchema = {
  type: 'object',
  required: ['toVersion', 'migrated', 'refused', 'unchanged', 'remaining', 'results'],
  properties: {
    toVersion: { type: 'integer' },
    migrated: { type: 'integer' },
    refused: { type: 'integer' },
    unchanged: { type: 'integer' },
    remaining: { type: 'integer', description: 'Matching cases this call did not reach; call again to go on' },
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['code', 'fromVersion', 'outcome'],
        properties: {
          code: { type: 'string' },
          fromVersion: { type: ['integer', 'null'] },
          outcome: { enum: ['migrated', 'refused', 'unchanged'] },
          moves: MovesSchema,
          problems: { type: 'array', items: { $ref: '#/components/schemas/DiagramProblem' } },
        },
      },
    },
  },
};

const StepSchema: JsonSchema = {
  type: ['object', 'null'],
  properties: { elementId: { type: 'string' }, name: { type: ['string', 'null'] }, candidateGroups: { type: 'array', items: { type: 'string' } } },
};

export const DryRunReportSchema: JsonSchema = {
  type: 'object',
  required: ['key', 'candidate', 'replayed', 'same', 'diverged', 'failed', 'cases', 'skipped'],
  properties: {
    key: { type: 'string' },
    candidate: { type: 'object', properties: { kind: { enum: ['bpmn', 'dmn'] }, key: { type: 'string' }, name: { type: ['string', 'null'] } } },
    replayed: { type: 'integer' },
    same: { type: 'integer' },
    diverged: { type: 'integer' },
    failed: { type: 'integer' },
    skipped: {
      type: 'array',
      description: 'Chosen cases that were not replayed, and why',
      items: { type: 'object', required: ['code', 'reason'], properties: { code: { type: 'string' }, reason: { type: 'string' } } },
    },
    cases: {
      type: 'array',
      items: {
        type: 'object',
        required: ['code', 'version', 'outcome', 'recordedPath', 'replayedPath'],
        properties: {
          code: { type: 'string' },
          version: { type: 'integer', description: 'The version the case ran on' },
          outcome: { enum: ['same', 'diverged', 'failed'] },
          recordedPath: { type: 'array', items: { type: 'string' }, description: 'Element ids in the order the case reached them' },
          replayedPath: { type: 'array', items: { type: 'string' } },
          divergence: {
            type: 'object',
            properties: { step: { type: 'integer' }, recorded: StepSchema, replayed: StepSchema, message: { type: 'string' } },
          },
        },
      },
    },
  },
};

export const MigrateCaseBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['toVersion'],
  properties: {
    toVersion: { type: 'integer', minimum: 1, maximum: INT32_MAX },
    mapping: ActivityMappingSchema,
    comment: { type: 'string', maxLength: 2000 },
  },
};

export const MigrateBatchBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['toVersion'],
  properties: {
    toVersion: { type: 'integer', minimum: 1, maximum: INT32_MAX },
    fromVersion: { type: 'integer', minimum: 1, maximum: INT32_MAX, description: 'Only cases running on this version' },
    cases: { type: 'array', items: caseCode, minItems: 1, maxItems: 1000, uniqueItems: true, description: 'Only these cases' },
    mapping: ActivityMappingSchema,
    comment: { type: 'string', maxLength: 2000 },
    check: { type: 'boolean', description: 'Only report what would happen; nothing is changed' },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200, description: 'Cases handled by this call; the answer says how many remain' },
  },
};

export const DryRunBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['xml'],
  properties: {
    xml: { type: 'string', minLength: 1, maxLength: 5_000_000, description: 'The candidate: a BPMN diagram of process {key}, or a DMN decision file whose key is {key}' },
    cases: { type: 'array', items: caseCode, minItems: 1, maxItems: 200, uniqueItems: true, description: 'Replay these finished cases (default: the last ones)' },
    last: { type: 'integer', minimum: 1, maximum: 200, default: 20, description: 'How many of the most recently finished cases to replay' },
  },
};

export const CreateKeyBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'roles'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    roles: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...ROLES] } },
    agency: { type: 'string', pattern: '^[A-Z0-9][A-Z0-9-]{0,63}$' },
  },
};

export const TaskSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'elementId', 'candidateGroups', 'assignee', 'claimedBy', 'due', 'overdue', 'formKey', 'createdAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: ['string', 'null'] },
    elementId: { type: 'string' },
    caseCode: { type: 'string' },
    title: { type: ['string', 'null'] },
    candidateGroups: { type: 'array', items: { type: 'string' } },
    assignee: { type: ['string', 'null'] },
    due: { type: ['string', 'null'], format: 'date-time' },
    overdue: { type: 'boolean' },
    formKey: { type: ['string', 'null'] },
    claimedBy: { type: ['string', 'null'] },
    field: { type: ['string', 'null'] },
    unit: { type: ['string', 'null'] },
    transferCount: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
  },
};

export const CaseSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'code', 'status', 'process', 'variables', 'tasks', 'version', 'createdAt', 'updatedAt', 'endedAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    code: { type: 'string', example: 'PA2611-7K3QX' },
    status: { enum: ['running', 'completed', 'failed'] },
    process: { type: 'object', properties: { key: { type: 'string' }, version: { type: 'integer' } } },
    variables: { type: 'object' },
    tasks: { type: 'array', items: { $ref: '#/components/schemas/Task' } },
    version: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    endedAt: { type: ['string', 'null'], format: 'date-time' },
    flags: {
      type: 'array',
      items: { enum: ['calendar.fallback'] },
      description: 'Marks for a person to look at, each the type of a history event the case holds. calendar.fallback: a deadline was counted Monday to Friday because its year had no holiday data.',
    },
  },
};

export const DefinitionSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'kind', 'key', 'version', 'name', 'active'],
  properties: {
    id: { type: 'integer' },
    kind: { enum: ['bpmn', 'dmn'] },
    key: { type: 'string' },
    version: { type: 'integer' },
    name: { type: ['string', 'null'] },
    created: { type: 'boolean', description: 'false when identical XML was already deployed' },
    active: { type: 'boolean', description: 'whether new cases start on this version' },
    runningCases: { type: ['integer', 'null'], description: 'in the list: cases still running on this version (null for decision files)' },
    warnings: { type: 'array', items: { $ref: '#/components/schemas/DiagramProblem' } },
  },
};

export const TransferBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['toAgency', 'reason'],
  properties: {
    toAgency: { type: 'string', pattern: '^[A-Z0-9][A-Z0-9-]{0,63}$', description: 'Catalogue code of the agency that should handle the case' },
    reason: { type: 'string', minLength: 5, maxLength: 2000 },
  },
};

export const CommentBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['text'],
  properties: {
    text: { type: 'string', minLength: 1, maxLength: 4000 },
    attachments: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'url'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 255 },
          // http(s) only: a javascript: or data: URL is a valid URI, and an agency's system that shows it as a link runs it.
          url: { type: 'string', format: 'uri', maxLength: 2000, pattern: HTTP_URL_PATTERN, description: 'http(s) address of the file' },
          mediaType: { type: 'string', maxLength: 100 },
          size: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
        },
      },
    },
  },
};

export const TaskListQuery: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { enum: ['open', 'claimed'], description: 'open: nobody claimed it; claimed: somebody did' },
    field: { type: 'string', maxLength: 64 },
    unit: { type: 'string', maxLength: 64 },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    cursor: { type: 'string', maxLength: 500 },
    dueBefore: { type: 'string', format: 'date-time', maxLength: 40 },
    overdue: { type: 'boolean' },
    q: { type: 'string', maxLength: 200 },
  },
};

// ---- Responses: every body a route answers, so clients can generate types and tests can check them.

const str = { type: 'string' };
const strOrNull = { type: ['string', 'null'] };
const int = { type: 'integer' };
const dateTime = { type: 'string', format: 'date-time' };
const dateTimeOrNull = { type: ['string', 'null'], format: 'date-time' };
const codeName = { type: ['object', 'null'], required: ['code', 'name'], properties: { code: str, name: str } };

export const KeySchema: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'roles', 'agency', 'prefix', 'createdAt', 'revokedAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: str,
    roles: { type: 'array', items: { enum: [...ROLES] } },
    agency: strOrNull,
    prefix: { type: 'string', description: 'The first characters of the key, to recognise it' },
    createdAt: dateTime,
    revokedAt: dateTimeOrNull,
  },
};

export const CreatedKeySchema: JsonSchema = {
  type: 'object',
  required: [...(KeySchema.required as string[]), 'key'],
  properties: { ...(KeySchema.properties as object), key: { type: 'string', pattern: '^pakn_', description: 'The secret: shown this once' } },
};

export const MeSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'roles', 'agency'],
  properties: { id: str, name: str, roles: { type: 'array', items: { enum: [...ROLES] } }, agency: strOrNull },
};

const NextTaskSchema = { type: 'object', required: ['name', 'elementId', 'candidateGroups', 'due'], properties: { name: strOrNull, elementId: str, candidateGroups: { type: 'array', items: str }, due: dateTimeOrNull } };

export const CompletionSchema: JsonSchema = {
  type: 'object',
  required: ['caseCode', 'caseStatus', 'caseVersion', 'nextTasks'],
  properties: { caseCode: str, caseStatus: { enum: ['running', 'completed', 'failed'] }, caseVersion: int, nextTasks: { type: 'array', items: NextTaskSchema, description: 'Where the case went: its open tasks now' } },
};

const AttachmentSchema = { type: 'object', required: ['name', 'url'], properties: { name: str, url: str, mediaType: str, size: int } };

export const CommentSchema: JsonSchema = {
  type: 'object',
  required: ['taskId', 'author', 'text', 'attachments'],
  properties: { taskId: { type: 'string', format: 'uuid' }, author: str, text: str, attachments: { type: 'array', items: AttachmentSchema } },
};

export const TaskDetailSchema: JsonSchema = {
  allOf: [{ $ref: '#/components/schemas/Task' }],
  type: 'object',
  required: ['id', 'mayAct', 'form', 'allowedOutcomes', 'case', 'comments', 'history'],
  properties: {
    mayAct: { type: 'boolean' },
    form: { type: ['object', 'null'], description: 'The JSON Schema of the task form' },
    allowedOutcomes: { type: 'array', items: str },
    case: { type: 'object', required: ['code', 'status', 'variables'], properties: { code: str, status: str, variables: { type: 'object' } } },
    comments: {
      type: 'array',
      items: { type: 'object', required: ['author', 'agency', 'text', 'attachments', 'at'], properties: { author: strOrNull, agency: strOrNull, text: str, attachments: { type: 'array', items: AttachmentSchema }, at: dateTime } },
    },
    history: {
      type: 'array',
      items: { type: 'object', required: ['seq', 'type', 'at'], properties: { seq: int, type: str, elementId: strOrNull, elementName: strOrNull, actor: strOrNull, agency: strOrNull, at: dateTime } },
    },
  },
};

export const TaskPageSchema: JsonSchema = {
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Task' } }, nextCursor: { type: ['string', 'null'], description: 'Pass as cursor for the next page; null on the last' } },
};

/** additionalProperties false: the public views list their fields explicitly; an answer with any other field fails the response check in tests. */
export const CitizenCaseSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'status', 'statusLabel', 'receivedAt', 'agency', 'due', 'closedAt', 'answer'],
  properties: { code: str, status: str, statusLabel: { type: 'string', description: 'Vietnamese label of status' }, receivedAt: dateTime, agency: codeName, due: dateTimeOrNull, closedAt: dateTimeOrNull, answer: strOrNull },
};

export const PublishedAnswerSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'title', 'field', 'fieldName', 'unit', 'agency', 'answer', 'receivedAt', 'answeredAt'],
  properties: { code: str, title: strOrNull, field: strOrNull, fieldName: strOrNull, unit: strOrNull, agency: codeName, answer: strOrNull, receivedAt: dateTime, answeredAt: dateTimeOrNull },
};

export const RatingRecordedSchema: JsonSchema = { type: 'object', required: ['code', 'recorded'], properties: { code: str, recorded: { const: true } } };

export const EventSchema: JsonSchema = {
  type: 'object',
  required: ['caseCode', 'seq', 'type', 'at', 'actor', 'payload', 'hash'],
  properties: {
    caseCode: strOrNull,
    seq: int,
    type: str,
    elementId: strOrNull,
    elementName: strOrNull,
    elementType: strOrNull,
    actor: { type: 'object', required: ['id', 'roles', 'agency'], properties: { id: strOrNull, roles: { type: 'array', items: str }, agency: strOrNull } },
    requestId: strOrNull,
    at: dateTime,
    payload: { description: 'The event data, personal data masked unless the role needs it' },
    hash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  },
};

const processRef = { type: 'object', required: ['key', 'version'], properties: { key: str, version: int } };

export const CaseHistorySchema: JsonSchema = {
  type: 'object',
  required: ['code', 'status', 'process', 'events'],
  properties: { code: str, status: str, process: processRef, events: { type: 'array', items: { $ref: '#/components/schemas/Event' } } },
};

export const CaseDiagramSchema: JsonSchema = {
  type: 'object',
  required: ['code', 'status', 'process', 'xml', 'visits', 'active', 'taken'],
  properties: {
    code: str,
    status: str,
    process: processRef,
    xml: { type: 'string', description: 'BPMN XML of the version the case runs on' },
    visits: { type: 'object', additionalProperties: int, description: 'element id → times entered' },
    active: { type: 'array', items: str, description: 'elements the case waits at' },
    taken: { type: 'array', items: str, description: 'sequence flows taken' },
  },
};

const countsProps = Object.fromEntries(
  ['received', 'answered', 'answeredOnTime', 'answeredLate', 'stillOpen', 'stillOpenOverdue', 'escalated', 'transferred', 'transferredPastLimit', 'reopened', 'sentBack', 'findings'].map((k) => [k, int]),
);
const CountsSchema = { type: 'object', required: Object.keys(countsProps), properties: countsProps };
const topSchema = {
  type: 'array',
  items: { type: 'object', required: ['code', 'name', 'count', 'trend'], properties: { code: str, name: str, count: int, trend: { type: 'array', items: { type: 'object', required: ['week', 'count'], properties: { week: str, count: int } } } } },
};

export const WeeklyReportSchema: JsonSchema = {
  type: 'object',
  required: ['week', 'from', 'to', 'totals', 'agencies', 'reconciliation', 'overdueAndEscalated', 'topFields', 'topProcedures'],
  properties: {
    week: { type: 'string', pattern: '^\\d{4}-W\\d{2}$' },
    from: dateTime,
    to: dateTime,
    totals: CountsSchema,
    agencies: { type: 'array', items: { ...CountsSchema, required: ['agency', 'agencyName', ...Object.keys(countsProps)], properties: { agency: str, agencyName: str, ...countsProps } } },
    reconciliation: { type: 'object', required: ['ok', 'identity'], properties: { ok: { type: 'boolean' }, identity: str } },
    overdueAndEscalated: {
      type: 'array',
      items: { type: 'object', required: ['code', 'due', 'overdue', 'escalated'], properties: { code: str, title: strOrNull, holder: { type: 'array', items: str }, agency: strOrNull, due: dateTimeOrNull, overdue: { type: 'boolean' }, escalated: { type: 'boolean' } } },
    },
    topFields: topSchema,
    topProcedures: topSchema,
  },
};

const rate = { type: ['number', 'null'], minimum: 0, maximum: 1 };

export const ScorecardSchema: JsonSchema = {
  type: 'object',
  required: ['from', 'to', 'agencies'],
  properties: {
    from: dateTime,
    to: dateTime,
    agencies: {
      type: 'array',
      items: {
        type: 'object',
        required: ['agency', 'agencyName', 'received', 'answered', 'answeredOnTime', 'openOverdue', 'onTimeRate', 'handlingWorkingDays', 'transfersPerCase', 'findings', 'satisfactionRate', 'rated'],
        properties: {
          agency: str,
          agencyName: str,
          received: int,
          answered: int,
          answeredOnTime: int,
          openOverdue: int,
          onTimeRate: rate,
          handlingWorkingDays: { type: 'object', required: ['median', 'p90'], properties: { median: { type: ['number', 'null'] }, p90: { type: ['number', 'null'] } } },
          transfersPerCase: { type: 'number', minimum: 0 },
          findings: { type: 'object', additionalProperties: int, description: 'finding kind → count' },
          satisfactionRate: rate,
          rated: int,
        },
      },
    },
  },
};

export const StatsRowSchema: JsonSchema = {
  type: 'object',
  required: ['periodStart', 'received', 'closed', 'late', 'escalated'],
  description: 'One period and group; the group is under the groupBy name (agency, field, unit or channel), "(none)" when the case has none',
  properties: { periodStart: { type: 'string', format: 'date' }, agency: str, field: str, unit: str, channel: str, received: int, closed: int, late: int, escalated: int },
  minProperties: 6,
  maxProperties: 6,
};

export const CatalogueEntrySchema: JsonSchema = {
  type: 'object',
  required: ['code', 'name', 'validFrom', 'validTo'],
  properties: { code: str, name: str, nameEn: str, validFrom: { type: 'string', format: 'date' }, validTo: { type: ['string', 'null'], format: 'date' }, successor: str, formerUnits: { type: 'array', items: str } },
};

export const DefinitionListItemSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'key', 'version', 'name', 'kind', 'active', 'runningCases', 'sha256', 'deployedBy', 'deployedAt', 'comment'],
  properties: {
    id: int,
    key: str,
    version: int,
    name: strOrNull,
    kind: { enum: ['bpmn', 'dmn'] },
    active: { type: 'boolean' },
    runningCases: { type: ['integer', 'null'], description: 'cases still running on this version (null for decision files)' },
    sha256: str,
    deployedBy: strOrNull,
    deployedAt: dateTime,
    comment: strOrNull,
  },
};

export const DefinitionVersionSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'key', 'version', 'name', 'sha256', 'deployedBy', 'deployedAt', 'comment'],
  properties: { id: int, key: str, version: int, name: strOrNull, sha256: str, deployedBy: strOrNull, deployedAt: dateTime, comment: strOrNull },
};

export const ValidationReportSchema: JsonSchema = {
  type: 'object',
  required: ['valid', 'problems'],
  properties: { valid: { type: 'boolean' }, problems: { type: 'array', items: { $ref: '#/components/schemas/DiagramProblem' } } },
};

export const SmsInboundResultSchema: JsonSchema = {
  type: 'object',
  required: ['matched'],
  properties: {
    matched: { type: 'boolean' },
    code: { type: 'string', description: 'the case the SMS went to, when matched' },
    as: { enum: ['rating', 'information', 'message'], description: 'rating: it rated the case; information: it resumed the wait for the information asked for; message: it was attached to the case (sms.received)' },
    reason: { type: 'string', description: 'why it went to no case, when not matched' },
  },
};

export const SmsStatusResultSchema: JsonSchema = {
  type: 'object',
  required: ['reference', 'recorded'],
  properties: { reference: str, recorded: { type: 'object', required: ['status', 'providerId', 'detail', 'at'], properties: { status: str, providerId: strOrNull, detail: strOrNull, at: dateTime } } },
};

export const OpenApiDocumentSchema: JsonSchema = {
  type: 'object',
  required: ['openapi', 'info', 'paths', 'components'],
  properties: {
    openapi: { const: '3.1.0' },
    info: { type: 'object', required: ['title', 'version'], properties: { title: str, version: str, description: str } },
    paths: { type: 'object', additionalProperties: { type: 'object', description: 'operations by method' } },
    components: { type: 'object', additionalProperties: { type: 'object', description: 'schemas, parameters, security schemes by name' } },
  },
};

// ---- Open311 GeoReport v2: field names as the spec has them.

/** The pseudo-service of a case no field was chosen for yet (GeoReport needs a service_code on every request). */
export const UNCLASSIFIED_SERVICE = { code: 'CHUA-PHAN-LOAI', name: 'Chưa phân loại' } as const;

/** One line of text: no control character (XML 1.0 cannot carry most of them; none belongs in a name or an address). */
const LINE = '^[^\\u0000-\\u001F\\u007F\\uFFFE\\uFFFF]*$';
/** Text that may span lines: tab, line feed and carriage return allowed, no other control character. */
const TEXT = '^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F\\uFFFE\\uFFFF]*$';
const line = (maxLength: number, extra: Record<string, unknown> = {}) => ({ type: 'string', maxLength, pattern: LINE, ...extra });
const DECIMAL = '^[+-]?[0-9]{1,3}(\\.[0-9]{1,15})?$';
const serviceCode = { type: 'string', pattern: '^[A-Z0-9][A-Z0-9-]{0,63}$' };

export const GeoReportPostBody: JsonSchema = {
  type: 'object',
  required: ['service_code'],
  description: 'GeoReport v2 POST fields; other fields (attribute[…], device_id …) are accepted and ignored',
  properties: {
    api_key: line(200, { description: 'An operator key; may come in the query instead' }),
    jurisdiction_id: line(100, { description: 'ignored: one jurisdiction' }),
    service_code: serviceCode,
    lat: { type: 'string', pattern: DECIMAL, description: 'WGS84 latitude in decimal degrees; with long' },
    long: { type: 'string', pattern: DECIMAL, description: 'WGS84 longitude in decimal degrees; with lat' },
    address_string: line(500),
    address_id: line(100),
    email: { type: 'string', format: 'email', maxLength: 200, 'x-pii': true },
    device_id: line(200),
    account_id: line(200),
    first_name: line(100, { 'x-pii': true }),
    last_name: line(100, { 'x-pii': true }),
    phone: PhoneSchema,
    description: { type: 'string', maxLength: 4000, pattern: TEXT },
    media_url: { type: 'string', format: 'uri', maxLength: 2000, pattern: HTTP_URL_PATTERN, description: 'http(s) address of a photo' },
    media: { type: 'string', format: 'binary', description: 'multipart file: refused for now (400); send media_url' },
  },
};

const codeList = (item: JsonSchema, description: string) => ({ type: 'array', items: item, minItems: 1, maxItems: 100, description });
const W3C_DATE_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$';

export const GeoReportRequestsQuery: JsonSchema = {
  type: 'object',
  properties: {
    service_request_id: codeList({ type: 'string', minLength: 1, maxLength: 32, pattern: LINE }, 'comma-separated or repeated; overrides every other filter'),
    service_code: codeList(serviceCode, 'comma-separated or repeated'),
    status: codeList({ enum: ['open', 'closed'] }, 'comma-separated or repeated'),
    start_date: { type: 'string', maxLength: 40, pattern: W3C_DATE_TIME, description: 'W3C date-time with time zone, e.g. 2026-11-01T00:00:00+07:00' },
    end_date: { type: 'string', maxLength: 40, pattern: W3C_DATE_TIME, description: 'W3C date-time with time zone; at most 90 days after start_date' },
    jurisdiction_id: line(100, { description: 'ignored: one jurisdiction' }),
    api_key: line(200, { description: 'a staff key lists every request; without one only published requests are listed' }),
  },
};

export const GeoReportErrorsSchema: JsonSchema = {
  type: 'array',
  minItems: 1,
  items: { type: 'object', required: ['code', 'description'], additionalProperties: false, properties: { code: { type: 'integer' }, description: str } },
};

export const GeoReportDiscoverySchema: JsonSchema = {
  type: 'object',
  required: ['changeset', 'contact', 'key_service', 'endpoints'],
  properties: {
    changeset: dateTime,
    contact: str,
    key_service: str,
    endpoints: {
      type: 'array',
      items: {
        type: 'object',
        required: ['specification', 'url', 'changeset', 'type', 'formats'],
        properties: { specification: str, url: str, changeset: dateTime, type: { enum: ['production', 'test'] }, formats: { type: 'array', items: str } },
      },
    },
  },
};

export const GeoReportServiceSchema: JsonSchema = {
  type: 'object',
  required: ['service_code', 'service_name', 'description', 'metadata', 'type', 'keywords', 'group'],
  properties: { service_code: str, service_name: str, description: str, metadata: { type: 'boolean' }, type: { enum: ['realtime', 'batch', 'blackbox'] }, keywords: str, group: str },
};

export const GeoReportServiceDefinitionSchema: JsonSchema = {
  type: 'object',
  required: ['service_code', 'attributes'],
  properties: {
    service_code: str,
    attributes: {
      type: 'array',
      maxItems: 0,
      description: 'none: a request needs no field beyond the spec’s own',
      items: { type: 'object', required: ['variable', 'code', 'datatype', 'required', 'order', 'description'], properties: { variable: { type: 'boolean' }, code: str, datatype: str, required: { type: 'boolean' }, datatype_description: strOrNull, order: int, description: str } },
    },
  },
};

export const GeoReportSubmittedSchema: JsonSchema = {
  type: 'object',
  required: ['service_request_id', 'service_notice', 'account_id'],
  properties: { service_request_id: str, service_notice: strOrNull, account_id: strOrNull },
};

export const GeoReportTokenSchema: JsonSchema = { type: 'object', required: ['service_request_id', 'token'], properties: { service_request_id: str, token: str } };

export const GeoReportServiceRequestSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['service_request_id', 'status', 'service_code', 'service_name', 'requested_datetime', 'updated_datetime'],
  properties: {
    service_request_id: str,
    status: { enum: ['open', 'closed'] },
    status_notes: strOrNull,
    service_name: str,
    service_code: str,
    description: strOrNull,
    agency_responsible: strOrNull,
    service_notice: strOrNull,
    requested_datetime: dateTime,
    updated_datetime: dateTime,
    expected_datetime: dateTimeOrNull,
    address: strOrNull,
    address_id: strOrNull,
    zipcode: strOrNull,
    lat: { type: ['number', 'null'] },
    long: { type: ['number', 'null'] },
    media_url: strOrNull,
  },
};

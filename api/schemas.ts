import { ROLES } from '../engine/hotline/policy.js';
import type { JsonSchema } from './http.js';

/** Schemas shared by ajv (requests) and the OpenAPI document. */
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

export const StartCaseBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    process: { type: 'string', minLength: 1, maxLength: 200, description: 'Definition key; default: complaint-handling' },
    variables: {
      ...VariablesSchema,
      properties: {
        channel: { enum: CHANNELS, description: 'How the complaint came in: call (via an operator), sms, web, app, email, zalo' },
        title: { type: 'string', minLength: 1, maxLength: 300 },
        description: { type: 'string', maxLength: 20000 },
        citizenName: { type: 'string', maxLength: 200, 'x-pii': true },
        citizenPhone: { type: 'string', pattern: '^[+0-9 ().-]{6,20}$', 'x-pii': true },
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
  properties: { version: { type: 'integer', minimum: 1 } },
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
    toVersion: { type: 'integer', minimum: 1 },
    mapping: ActivityMappingSchema,
    comment: { type: 'string', maxLength: 2000 },
  },
};

export const MigrateBatchBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['toVersion'],
  properties: {
    toVersion: { type: 'integer', minimum: 1 },
    fromVersion: { type: 'integer', minimum: 1, description: 'Only cases running on this version' },
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
  },
};

export const DefinitionSchema: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
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
          url: { type: 'string', format: 'uri', maxLength: 2000 },
          mediaType: { type: 'string', maxLength: 100 },
          size: { type: 'integer', minimum: 0 },
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
    dueBefore: { type: 'string', format: 'date-time' },
    overdue: { type: 'boolean' },
    q: { type: 'string', maxLength: 200 },
  },
};

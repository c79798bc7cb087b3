import { NotFoundError } from '../../engine/errors.js';
import { rolesFor } from '../../engine/hotline/policy.js';
import type { AppDeps } from '../deps.js';
import type { RouteSpec } from '../http.js';

/** The form keys a deploy may carry: the camunda:formKey of user tasks. */
export const FORM_KEY_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$';

/**
 * `forms` of a JSON deploy (POST /v1/definitions, /validate): the forms the
 * diagram's user tasks are completed with, by form key, each a JSON Schema of
 * an object. A referenced key not given keeps the newest version's form of
 * the same process, else the installed one (processes/forms).
 */
export const DeployFormsProperty = {
  type: 'object',
  maxProperties: 100,
  propertyNames: { pattern: FORM_KEY_PATTERN },
  additionalProperties: { type: 'object', description: 'A JSON Schema (draft 2020-12) with "type": "object"' },
  description:
    'Forms deployed with the diagram, by camunda:formKey: each a JSON Schema (draft 2020-12) of the data its tasks are completed with. A form key the diagram uses but this omits keeps the form of the newest version of the same process, else the installed one (processes/forms); a key found nowhere is refused (rule form-missing).',
};

const FormSchema = {
  type: 'object',
  required: ['formKey', 'sha256', 'schema'],
  properties: {
    formKey: { type: 'string' },
    sha256: { type: 'string', description: 'SHA-256 of the schema as JSON without spacing (field order counts: it is the order fields are shown): equal across versions when the form did not change' },
    schema: { type: 'object', description: 'The JSON Schema the task data must satisfy' },
  },
};

const VersionFormsSchema = {
  type: 'object',
  required: ['key', 'version', 'recorded', 'forms'],
  properties: {
    key: { type: 'string' },
    version: { type: 'integer' },
    recorded: { type: 'boolean', description: 'false for a version deployed before forms were versioned: its tasks use the installed forms (listed here)' },
    forms: { type: 'array', items: FormSchema },
  },
};

const VERSION_PARAMS = {
  type: 'object',
  properties: {
    version: { type: 'string', pattern: '^[1-9][0-9]{0,8}$', description: 'the version number' },
    formKey: { type: 'string', pattern: FORM_KEY_PATTERN, description: 'the camunda:formKey' },
  },
};

export function formRoutes(deps: AppDeps): RouteSpec[] {
  /** A version's forms, as its tasks are completed with them. */
  const formsOf = async (key: string, version: string) => {
    const row = await deps.definitions.version(key, Number(version));
    if (row.kind !== 'bpmn') throw new NotFoundError(`${key} is a decision file; it has no forms.`);
    return deps.forms.listOfVersion(row.id);
  };
  return [
    {
      method: 'get',
      path: '/v1/definitions/:key/versions/:version/forms',
      summary: 'The forms deployed with one version of a diagram',
      description: 'Each form its user tasks are completed with (camunda:formKey → JSON Schema). A case keeps the forms of the version it runs on; a new version (POST /v1/definitions with `forms`) is how a form changes.',
      tags: ['Definitions'],
      access: rolesFor('readDefinitions'),
      params: VERSION_PARAMS,
      responses: { 200: { description: 'The forms of the version', schema: VersionFormsSchema } },
      handler: async (ctx) => {
        const { recorded, forms } = await formsOf(ctx.params.key, ctx.params.version);
        ctx.body = { key: ctx.params.key, version: Number(ctx.params.version), recorded, forms: forms.map((f) => ({ formKey: f.form_key, sha256: f.sha256, schema: f.schema })) };
      },
    },
    {
      method: 'get',
      path: '/v1/definitions/:key/versions/:version/forms/:formKey',
      summary: 'One form of one version of a diagram',
      tags: ['Definitions'],
      access: rolesFor('readDefinitions'),
      params: VERSION_PARAMS,
      responses: { 200: { description: 'The form', schema: FormSchema } },
      handler: async (ctx) => {
        const { forms } = await formsOf(ctx.params.key, ctx.params.version);
        const form = forms.find((f) => f.form_key === ctx.params.formKey);
        if (!form) throw new NotFoundError(`Version ${ctx.params.version} of ${ctx.params.key} has no form "${ctx.params.formKey}".`);
        ctx.body = { formKey: form.form_key, sha256: form.sha256, schema: form.schema };
      },
    },
  ];
}

import type { Db } from './connect.js';

/**
 * The forms deployed with each BPMN version (definition_forms), written once
 * with the version. definitions.forms_sha256 is null for a version deployed
 * before forms were versioned, until the boot adopts the installed forms for it.
 */

export interface FormRow {
  form_key: string;
  schema: Record<string, unknown>;
  sha256: string;
}

/** jsonb comes back parsed from pg, as text from some drivers. */
const json = (value: unknown): Record<string, unknown> => (typeof value === 'string' ? JSON.parse(value) : (value as Record<string, unknown>));

/** Store the forms of a version just inserted (same transaction). */
export async function insertDefinitionForms(db: Db, definitionId: number, forms: FormRow[]): Promise<void> {
  if (!forms.length) return;
  await db('definition_forms').insert(forms.map((f) => ({ definition_id: definitionId, form_key: f.form_key, schema: JSON.stringify(f.schema), sha256: f.sha256 })));
}

/** The forms of one version; `recorded` false for a version deployed before forms were versioned. Undefined when there is no such version. */
export async function definitionForms(db: Db, definitionId: number): Promise<{ recorded: boolean; forms: FormRow[] } | undefined> {
  const row = await db('definitions').where({ id: definitionId }).first('forms_sha256');
  if (!row) return undefined;
  const forms = await db('definition_forms').where({ definition_id: definitionId }).orderBy('form_key').select('form_key', 'schema', 'sha256');
  return { recorded: row.forms_sha256 !== null, forms: forms.map((f: FormRow) => ({ ...f, schema: json(f.schema) })) };
}

/** The forms of the newest version of `key` that has them recorded: what a deploy without forms keeps. */
export async function latestRecordedForms(db: Db, key: string): Promise<{ version: number; forms: FormRow[] } | undefined> {
  const row = await db('definitions').where({ key, kind: 'bpmn' }).whereNotNull('forms_sha256').orderBy('version', 'desc').first('id', 'version');
  if (!row) return undefined;
  const found = await definitionForms(db, row.id);
  return { version: row.version, forms: found?.forms ?? [] };
}

/** The diagram version a case runs on. */
export async function caseDefinitionId(db: Db, caseId: string): Promise<number | undefined> {
  return (await db('cases').where({ id: caseId }).first('definition_id'))?.definition_id;
}

/** BPMN versions deployed before forms were versioned. */
export async function versionsWithoutForms(db: Db): Promise<Array<{ id: number; key: string; version: number; xml: string }>> {
  return db('definitions').where({ kind: 'bpmn' }).whereNull('forms_sha256').orderBy('id').select('id', 'key', 'version', 'xml');
}

/** Record the forms of a version deployed before forms were versioned; false when another node did it first. */
export async function adoptForms(db: Db, definitionId: number, formsSha256: string, forms: FormRow[]): Promise<boolean> {
  const updated = await db('definitions').where({ id: definitionId }).whereNull('forms_sha256').update({ forms_sha256: formsSha256 });
  if (!updated) return false;
  await insertDefinitionForms(db, definitionId, forms);
  return true;
}

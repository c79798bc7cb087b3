import type { Knex } from 'knex';

/**
 * Task forms become part of a deployed version: a version's user tasks are
 * completed with the forms deployed with it, so changing a form makes a new
 * version instead of changing it under running cases.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('definition_forms', (t) => {
    t.integer('definition_id').notNullable().references('definitions.id').comment('the diagram version whose user tasks use this form');
    t.text('form_key').notNullable().comment('camunda:formKey of the user tasks that use it');
    // json, not jsonb: the text is kept as deployed, so fields keep the order the analyst gave them (pages draw them in that order).
    t.json('schema').notNullable().comment('the form: a JSON Schema (draft 2020-12) the task data must satisfy, as deployed');
    t.text('sha256').notNullable().comment('SHA-256 of the schema as JSON without spacing (field order counts): equal forms across versions compare equal');
    t.primary(['definition_id', 'form_key']);
  });
  await knex.raw(`comment on table definition_forms is 'The forms a deployed BPMN version references, deployed with it; written once with the version, never updated'`);
  await knex.schema.alterTable('definitions', (t) => {
    // null: deployed before forms were versioned (adopted from processes/forms at the next boot).
    t.text('forms_sha256').comment('SHA-256 of the forms of the version (form key → schema digest); with sha256 it is what makes two deploys the same version');
  });
  // The same XML with changed forms is a new version: identity is (XML, forms).
  await knex.schema.alterTable('definitions', (t) => {
    t.dropUnique(['key', 'sha256']);
    t.unique(['key', 'sha256', 'forms_sha256']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('definitions', (t) => {
    t.dropUnique(['key', 'sha256', 'forms_sha256']);
  });
  await knex.schema.alterTable('definitions', (t) => {
    t.dropColumn('forms_sha256');
    t.unique(['key', 'sha256']);
  });
  await knex.schema.dropTableIfExists('definition_forms');
}

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('definitions', (t) => {
    t.increments('id').primary();
    t.text('key').notNullable().comment('BPMN process id: the name analysts and clients use');
    t.integer('version').notNullable();
    t.text('name');
    t.text('xml').notNullable();
    t.text('sha256').notNullable();
    t.jsonb('context').notNullable().comment('moddle-context-serializer output, so no node re-parses the XML');
    t.text('deployed_by').notNullable();
    t.timestamp('deployed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('comment');
    t.unique(['key', 'version']);
    t.unique(['key', 'sha256']);
  });
  await knex.raw(`comment on table definitions is 'Deployed BPMN diagrams; one row per (key, version), never updated'`);

  await knex.schema.createTable('cases', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('code').notNullable().unique().comment('citizen-facing case code, read out by phone');
    t.integer('definition_id').notNullable().references('definitions.id');
    t.text('status').notNullable().comment('running | completed | failed');
    t.jsonb('engine_state').notNullable().comment('bpmn-engine getState() without the embedded diagram source');
    t.jsonb('variables').notNullable().defaultTo('{}').comment('process variables, projected for reads');
    t.integer('version').notNullable().defaultTo(1).comment('optimistic concurrency; +1 per command');
    t.text('created_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('ended_at', { useTz: true });
    t.index(['status', 'created_at']);
  });
  await knex.raw(`comment on table cases is 'One row per case (process instance); the engine state lives here, not in memory'`);

  await knex.schema.createTable('tasks', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('case_id').notNullable().references('cases.id').onDelete('CASCADE');
    t.text('element_id').notNullable();
    t.text('execution_id').notNullable().comment('bpmn-elements execution id of the waiting task');
    t.text('name');
    t.specificType('candidate_groups', 'text[]').notNullable().defaultTo('{}');
    t.text('assignee');
    t.timestamp('due_at', { useTz: true });
    t.text('form_key');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['case_id', 'execution_id']);
  });
  await knex.raw(`comment on table tasks is 'Open user tasks: a projection of the waiting tasks, rewritten by every command, read by inboxes'`);
  await knex.raw('create index tasks_candidate_groups_idx on tasks using gin (candidate_groups)');
  await knex.raw('create index tasks_due_idx on tasks (due_at nulls last, id)');

  await knex.schema.createTable('jobs', (t) => {
    t.bigIncrements('id').primary();
    t.text('type').notNullable().comment('timer | sms | …');
    t.uuid('case_id').references('cases.id').onDelete('CASCADE');
    t.text('element_id');
    t.text('execution_id').comment('for timers: the timer owner execution id');
    t.jsonb('payload').notNullable().defaultTo('{}');
    t.timestamp('due_at', { useTz: true }).notNullable();
    t.text('status').notNullable().defaultTo('pending').comment('pending | done | incident');
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('max_attempts').notNullable().defaultTo(5);
    t.timestamp('locked_until', { useTz: true });
    t.text('locked_by');
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`comment on table jobs is 'Durable timers and outbox messages, claimed by every node''s job executor with FOR UPDATE SKIP LOCKED'`);
  await knex.raw(`create index jobs_poll_idx on jobs (due_at) where status = 'pending'`);
  await knex.raw(`create index jobs_case_idx on jobs (case_id, type) where status = 'pending'`);
  await knex.raw(`create index jobs_incident_idx on jobs (updated_at) where status = 'incident'`);

  await knex.schema.createTable('case_events', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('case_id').references('cases.id');
    t.integer('seq').notNullable().comment('position in the case history, 1-based');
    t.text('type').notNullable();
    t.text('element_id');
    t.text('element_name');
    t.text('element_type');
    t.text('actor_id').notNullable();
    t.specificType('actor_roles', 'text[]').notNullable().defaultTo('{}');
    t.text('actor_agency');
    t.text('request_id');
    t.jsonb('payload').notNullable().defaultTo('{}');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['case_id', 'seq']);
  });
  await knex.raw(`comment on table case_events is 'Append-only case history written in the same transaction as the state change'`);
  await knex.raw(`create index case_events_task_idx on case_events ((payload->>'taskId')) where type = 'task.created'`);
  await knex.raw(`
    create function case_events_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'case_events is append-only (% refused)', tg_op using errcode = 'P0001';
    end $$`);
  await knex.raw(`create trigger case_events_no_update before update or delete on case_events
    for each row execute function case_events_append_only()`);

  await knex.schema.createTable('api_keys', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.specificType('roles', 'text[]').notNullable();
    t.text('agency').comment('agency or unit code the key acts for');
    t.text('key_hash').notNullable().unique().comment('sha256 of the secret; the secret itself is never stored');
    t.text('prefix').notNullable().comment('first characters of the key, to recognise it in lists');
    t.text('created_by');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true });
  });
  await knex.raw(`comment on table api_keys is 'Bearer API keys bound to a principal (name, roles, agency)'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('api_keys');
  await knex.schema.dropTableIfExists('case_events');
  await knex.raw('drop function if exists case_events_append_only()');
  await knex.schema.dropTableIfExists('jobs');
  await knex.schema.dropTableIfExists('tasks');
  await knex.schema.dropTableIfExists('cases');
  await knex.schema.dropTableIfExists('definitions');
}

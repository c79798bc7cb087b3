import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('incidents', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('case_id').notNullable().references('cases.id').onDelete('CASCADE');
    t.text('kind').notNullable().comment('timer (its expression gave no date or duration: it is held, not fired) | task (no candidate group: the task is not created)');
    t.text('element_id').notNullable();
    t.text('execution_id').notNullable().comment('the waiting activity or armed timer the incident holds');
    t.text('expression').notNullable().comment('the diagram expression as written');
    t.jsonb('yielded').comment('what it evaluated to (null when it gave nothing)');
    t.text('message').notNullable();
    t.text('status').notNullable().defaultTo('open').comment('open | resolved');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('resolved_at', { useTz: true });
    t.text('resolved_by');
    t.text('resolution').comment('variables set | moved by migration | the step is gone');
    t.index(['case_id', 'status']);
    t.index(['status', 'created_at']);
  });
  await knex.raw(`comment on table incidents is 'Runtime guard: an expression that still yields null or a wrong type (an old case without a variable) holds its timer or task here instead of firing at once or creating a task nobody sees; visible to coordinators and analysts, resolved by setting the variable or migrating the case'`);
  // One open incident per held timer or task, however many commands re-evaluate it.
  await knex.raw(`create unique index incidents_one_open on incidents (case_id, execution_id) where status = 'open'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('incidents');
}

import type { Knex } from 'knex';

/**
 * cases.engine_state becomes json (the text, validated) instead of jsonb (a
 * parsed binary form). Every command writes the whole state and every engine
 * the cache does not hold reads it back; nothing queries inside it but the
 * call-activity lookup (`engine_state->'callActivities'`, which json has too).
 * Issue 20, measured on the benchmark machine with a shipped case's state
 * (22.7 KB of JSON text), one row updated 400 times: jsonb 2.69 ms an update
 * and 1.17 ms a read, stored in 6.6 KB; json 0.69 ms and 0.40 ms, stored in
 * 3.9 KB (pglz compresses the text better than the binary form). jsonb's
 * conversion sorts and indexes every key of every nested object: the state
 * has thousands.
 *
 * The column type change rewrites the cases table under an exclusive lock:
 * on a large database run it in a maintenance window (docs/performance.md,
 * "engine_state as json", has the time it took).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table cases alter column engine_state type json using engine_state::json`);
  await knex.raw(`comment on column cases.engine_state is 'bpmn-engine getState() without the embedded diagram source, as JSON text (json, not jsonb: written whole by every command, never queried inside but for callActivities)'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`alter table cases alter column engine_state type jsonb using engine_state::jsonb`);
  await knex.raw(`comment on column cases.engine_state is 'bpmn-engine getState() without the embedded diagram source'`);
}

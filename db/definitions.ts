import type { Db } from './connect.js';
import { prepared } from './prepared.js';

/**
 * Deployed definitions (BPMN diagrams and DMN decision files, one row per
 * version, never changed once written) and active_definitions (per key, the
 * version new cases start on, or routing uses).
 */

export interface DefinitionRow {
  id: number;
  kind: 'bpmn' | 'dmn';
  key: string;
  version: number;
  name: string | null;
  sha256: string;
  deployed_by: string;
  deployed_at: Date;
  comment: string | null;
}

const SUMMARY_COLUMNS = ['id', 'kind', 'key', 'version', 'name', 'sha256', 'deployed_by', 'deployed_at', 'comment'];

/** jsonb comes back parsed from pg, as text from some drivers. */
const json = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);

/** Serialize deploys and switches of one key until the transaction ends, so two analysts cannot both take version N+1. */
export async function lockDefinitionKey(trx: Db, key: string): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`definition:${key}`]);
}

/** Whether `key` is already taken by a definition of another kind (a BPMN process and a DMN file may not share one). */
export async function keyUsedByOtherKind(db: Db, key: string, kind: 'bpmn' | 'dmn'): Promise<boolean> {
  return Boolean(await db('definitions').where({ key }).whereNot({ kind }).first('id'));
}

/** The id of the active version of `key`, if any is active. */
export async function activeDefinitionId(db: Db, key: string): Promise<number | undefined> {
  return (await db('active_definitions').where({ key }).first('definition_id'))?.definition_id;
}

/** Whether any BPMN process has an active version (a database that already runs cases). */
export async function hasActiveProcess(db: Db): Promise<boolean> {
  return Boolean(await db('active_definitions as a').join('definitions as d', 'd.id', 'a.definition_id').where('d.kind', 'bpmn').first('a.key'));
}

/** The version of `key` with exactly this content (XML and, for a diagram, its forms), if it was deployed before. */
export async function definitionWithContent(db: Db, key: string, sha256: string, formsSha256: string | null = null): Promise<{ id: number; version: number; name: string | null } | undefined> {
  const q = db('definitions').where({ key, sha256 });
  return (formsSha256 === null ? q.whereNull('forms_sha256') : q.where({ forms_sha256: formsSha256 })).first('id', 'version', 'name');
}

/** The highest version number of `key`; 0 when none is deployed. */
export async function lastVersionNumber(db: Db, key: string): Promise<number> {
  const { max } = (await db('definitions').where({ key }).max('version as max').first()) as { max: number | null };
  return max ?? 0;
}

/** Store one version; returns its id. */
export async function insertDefinition(
  db: Db,
  d: { kind: 'bpmn' | 'dmn'; key: string; version: number; name: string | null; xml: string; sha256: string; context: string; deployedBy: string; comment: string | null; formsSha256?: string | null },
): Promise<number> {
  const [row] = await db('definitions')
    .insert({ kind: d.kind, key: d.key, version: d.version, name: d.name, xml: d.xml, sha256: d.sha256, context: d.context, deployed_by: d.deployedBy, comment: d.comment, forms_sha256: d.formsSha256 ?? null })
    .returning(['id']);
  return row.id;
}

/** Make `definitionId` the active version of `key`. */
export async function setActiveDefinition(db: Db, a: { key: string; definitionId: number; activatedBy: string; activatedAt: Date }): Promise<void> {
  await db('active_definitions')
    .insert({ key: a.key, definition_id: a.definitionId, activated_by: a.activatedBy, activated_at: a.activatedAt })
    .onConflict('key')
    .merge();
}

/** The active version of BPMN process `key`. */
export async function activeProcess(db: Db, key: string): Promise<DefinitionRow | undefined> {
  // Every intake reads it: prepared (db/prepared.ts).
  return prepared(
    db('active_definitions as a')
      .join('definitions as d', 'd.id', 'a.definition_id')
      .where({ 'a.key': key, 'd.kind': 'bpmn' })
      .first(SUMMARY_COLUMNS.map((c) => `d.${c}`)),
  );
}

export async function definitionByVersion(db: Db, key: string, version: number): Promise<DefinitionRow | undefined> {
  return db('definitions').where({ key, version }).first(SUMMARY_COLUMNS);
}

/** One version with its XML, as deployed. */
export async function definitionWithXml(db: Db, key: string, version: number): Promise<(DefinitionRow & { xml: string }) | undefined> {
  return db('definitions').where({ key, version }).first([...SUMMARY_COLUMNS, 'xml']);
}

export async function definitionById(db: Db, id: number): Promise<DefinitionRow | undefined> {
  return db('definitions').where({ id }).first(SUMMARY_COLUMNS);
}

/** Every version, newest first per key, with whether it is active and how many cases still run on it. */
export async function listDefinitions(db: Db): Promise<Array<DefinitionRow & { active: boolean; running_cases: number }>> {
  const running = db('cases').where({ status: 'running' }).groupBy('definition_id').select('definition_id', db.raw('count(*)::int as n'));
  return db('definitions as d')
    .leftJoin('active_definitions as a', 'a.definition_id', 'd.id')
    .leftJoin(running.as('r'), 'r.definition_id', 'd.id')
    .select([...SUMMARY_COLUMNS.map((c) => `d.${c}`), db.raw('(a.key is not null) as active'), db.raw('coalesce(r.n, 0) as running_cases')])
    .orderBy([{ column: 'd.key' }, { column: 'd.version', order: 'desc' }]);
}

/** The serialized context of a version (a BPMN SourceContext or a parsed DMN file), parsed; undefined when there is no such version. */
export async function definitionContext(db: Db, id: number): Promise<unknown> {
  const row = await db('definitions').where({ id }).first('context');
  return row ? json(row.context) : undefined;
}

/** The newest active decision file that contains decision `decisionId`, with its parsed context. */
export async function activeDecisionFile(db: Db, decisionId: string): Promise<{ id: number; key: string; version: number } | undefined> {
  // Not the context: the caller keeps it per version (definitionContextById), so each routing reads ~100 bytes, not the whole table (6 KB for the shipped routing.dmn).
  // Every routing reads it: prepared (db/prepared.ts; planning it took most of its 1.1 ms from Node).
  return prepared(
    db('definitions')
      .where({ kind: 'dmn' })
      .whereIn('id', db('active_definitions').select('definition_id'))
      .whereRaw(`jsonb_path_exists(context, ?::jsonpath, jsonb_build_object('id', ?::text))`, ['$.decisions[*] ? (@.id == $id)', decisionId])
      .orderBy('id', 'desc')
      .first('id', 'key', 'version'),
  );
}

/** A deployed version's parsed context (immutable once deployed, so callers may keep it). */
export async function definitionContextById(db: Db, id: number): Promise<unknown> {
  const row = await db('definitions').where({ id }).first('context');
  return row && json(row.context);
}

/** The decision ids of every active decision file. */
export async function activeDecisionIds(db: Db): Promise<string[]> {
  const rows = await db.raw(
    `select distinct jsonb_path_query(context, '$.decisions[*].id') #>> '{}' as id from definitions where kind = 'dmn' and id in (select definition_id from active_definitions)`,
  );
  return rows.rows.map((r: { id: string }) => r.id);
}

/** The output names of every decision in every active decision file: decision id → outputs (what a business-rule task sets). */
export async function activeDecisionOutputs(db: Db): Promise<Record<string, string[]>> {
  const rows = await db('definitions').where({ kind: 'dmn' }).whereIn('id', db('active_definitions').select('definition_id')).select('context');
  const out: Record<string, string[]> = {};
  for (const row of rows) {
    for (const d of ((json(row.context) as { decisions?: Array<{ id: string; outputs?: Array<{ name?: string | null }> }> }).decisions ?? [])) {
      out[d.id] = [...new Set([...(out[d.id] ?? []), ...(d.outputs ?? []).map((o) => o.name ?? '').filter(Boolean)])];
    }
  }
  return out;
}

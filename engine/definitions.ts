import { createHash } from 'node:crypto';
import type { Db } from '../db/connect.js';
import { buildContext, restoreContext, type SourceContext } from './bpmn.js';
import { NotFoundError, UnprocessableError } from './errors.js';
import { validateBpmn, type Problem } from './validate.js';
import { validateDmn } from './dmn.js';
import { BUILT_IN_SERVICES } from './session.js';
import { appendSystemEvent } from './history.js';
import type { Actor } from './actor.js';

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

export interface DeployResult {
  id: number;
  kind: 'bpmn' | 'dmn';
  key: string;
  version: number;
  name: string | null;
  /** false when identical XML was already deployed: the existing version is returned. */
  created: boolean;
  warnings: Problem[];
}

const SUMMARY_COLUMNS = ['id', 'kind', 'key', 'version', 'name', 'sha256', 'deployed_by', 'deployed_at', 'comment'];

/**
 * Deployed definitions and their serialized contexts. A (key, version) never
 * changes once written, so its context is cached in memory forever; the cache
 * is bounded by the number of deployed versions, not by cases.
 */
export class DefinitionStore {
  private readonly contexts = new Map<number, Promise<SourceContext>>();

  constructor(
    private readonly db: Db,
    private readonly catalogue: { forms?: string[]; decisionIds?: () => Promise<string[]> } = {},
  ) {}

  /** Validate a BPMN diagram or a DMN decision file (told apart by its namespace). */
  async validate(xml: string): Promise<{ kind: 'bpmn' | 'dmn'; problems: Problem[]; key?: string; name?: string | null; context?: string }> {
    if (isDmn(xml)) {
      const { problems, parsed } = await validateDmn(xml);
      return { kind: 'dmn', problems, key: parsed?.id, name: parsed?.name ?? null, context: parsed && JSON.stringify(parsed) };
    }
    const result = await validateBpmn(xml, {
      forms: this.catalogue.forms,
      services: BUILT_IN_SERVICES,
      decisions: this.catalogue.decisionIds ? await this.catalogue.decisionIds() : undefined,
    });
    const ok = result.moddle && result.processId && !result.problems.some((p) => p.severity === 'error');
    return {
      kind: 'bpmn',
      problems: result.problems,
      key: result.processId,
      name: result.processName ?? null,
      context: ok ? buildContext(result.moddle).serialize() : undefined,
    };
  }

  async deploy(xml: string, by: { deployedBy: string; comment?: string; actor?: Actor }): Promise<DeployResult> {
    const result = await this.validate(xml);
    const errors = result.problems.filter((p) => p.severity === 'error');
    if (errors.length || !result.key || !result.context) {
      throw new UnprocessableError(`The ${result.kind === 'dmn' ? 'decision file' : 'diagram'} has ${errors.length} problem(s); nothing was deployed.`, [], result.problems);
    }
    const warnings = result.problems.filter((p) => p.severity === 'warning');
    const { key, kind, context } = result;
    const processName = result.name ?? null;
    const sha256 = createHash('sha256').update(xml).digest('hex');

    return this.db.transaction(async (trx) => {
      // Serialize deploys of one key so two analysts cannot both take version N+1.
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`definition:${key}`]);
      const taken = await trx('definitions').where({ key }).whereNot({ kind }).first('id');
      if (taken) throw new UnprocessableError(`The key "${key}" is already used by a ${kind === 'dmn' ? 'BPMN process' : 'DMN decision file'}; give this file another id.`);
      const existing = await trx('definitions').where({ key, sha256 }).first('id', 'version', 'name');
      if (existing) return { id: existing.id, kind, key, version: existing.version, name: existing.name, created: false, warnings };
      const { max } = (await trx('definitions').where({ key }).max('version as max').first()) as { max: number | null };
      const version = (max ?? 0) + 1;
      const [row] = await trx('definitions')
        .insert({ kind, key, version, name: processName, xml, sha256, context, deployed_by: by.deployedBy, comment: by.comment ?? null })
        .returning(['id']);
      await appendSystemEvent(trx, {
        type: 'definition.deployed',
        payload: { kind, key, version, sha256, comment: by.comment ?? null },
        actor: by.actor ?? { id: by.deployedBy, name: by.deployedBy, roles: [], agency: null },
      });
      return { id: row.id, kind, key, version, name: processName, created: true, warnings };
    });
  }

  /** The version new cases of `key` use: the latest deployed. */
  async latest(key: string): Promise<DefinitionRow> {
    const row = await this.db('definitions').where({ key, kind: 'bpmn' }).orderBy('version', 'desc').first(SUMMARY_COLUMNS);
    if (!row) throw new NotFoundError(`No process "${key}" is deployed.`);
    return row;
  }

  async byId(id: number): Promise<DefinitionRow> {
    const row = await this.db('definitions').where({ id }).first(SUMMARY_COLUMNS);
    if (!row) throw new NotFoundError(`Definition ${id} does not exist.`);
    return row;
  }

  async list(): Promise<DefinitionRow[]> {
    return this.db('definitions').select(SUMMARY_COLUMNS).orderBy([{ column: 'key' }, { column: 'version', order: 'desc' }]);
  }

  /**
   * The serialized context of a version, cached. Pass the command's
   * transaction when called inside one: the embedded database has a single
   * connection, and a query outside the open transaction would wait forever.
   */
  context(id: number, trx: Db = this.db): Promise<SourceContext> {
    let cached = this.contexts.get(id);
    if (!cached) {
      cached = trx('definitions')
        .where({ id })
        .first('context')
        .then((row) => {
          if (!row) throw new NotFoundError(`Definition ${id} does not exist.`);
          const raw = typeof row.context === 'string' ? JSON.parse(row.context) : row.context;
          return restoreContext(raw);
        });
      cached.catch(() => this.contexts.delete(id));
      this.contexts.set(id, cached);
    }
    return cached;
  }
}

/** A DMN file's root <definitions> declares a DMN namespace (any DMN version, so old ones get a clear message). */
export function isDmn(xml: string): boolean {
  if (typeof xml !== 'string') return false;
  const root = /<(?:[\w-]+:)?definitions\b[^>]*>/.exec(xml.slice(0, 20_000))?.[0] ?? '';
  return /omg\.org\/spec\/DMN/i.test(root) && !/omg\.org\/spec\/BPMN/i.test(root);
}

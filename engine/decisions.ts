import type { Db } from '../db/connect.js';
import { activeDecisionFile, activeDecisionIds, definitionContextById } from '../db/definitions.js';
import { evaluateDecision, type DecisionTable, type ParsedDmn } from './dmn.js';
import { UnprocessableError } from './errors.js';
import { ActiveVersions } from './active-versions.js';

/**
 * Deployed DMN decisions. A business-rule task names a decision id
 * (camunda:decisionRef); the active version of the file containing it answers
 * (Camunda's "latest" binding, with staging: a deploy can wait to be switched
 * on), so a routing change applies to every routing done after the switch,
 * while the BPMN version of a case stays fixed.
 */
export class DecisionStore {
  private readonly parsed = new Map<number, ParsedDmn>();

  /**
   * `active`: the active versions this node keeps, shared with the DefinitionStore (whose deploys drop them).
   * `mapRow`: applied to every matched row's outputs (the hotline's: retired codes to their successor in force).
   */
  constructor(
    private readonly db: Db,
    private readonly active: ActiveVersions = new ActiveVersions(),
    private readonly mapRow: (row: Record<string, unknown>) => Record<string, unknown> = (row) => row,
  ) {}

  /** The table of the newest deployed file that contains `decisionId`. */
  async table(decisionId: string, trx: Db = this.db): Promise<{ table: DecisionTable; definitionId: number; key: string; version: number }> {
    const row = await this.active.get(`decision:${decisionId}`, () => activeDecisionFile(trx, decisionId));
    if (!row) throw new UnprocessableError(`Decision "${decisionId}" is not deployed: deploy the DMN file that defines it.`);
    let dmn = this.parsed.get(row.id);
    if (!dmn) {
      dmn = (await definitionContextById(trx, row.id)) as ParsedDmn;
      this.parsed.set(row.id, dmn);
    }
    return { table: dmn.decisions.find((d) => d.id === decisionId)!, definitionId: row.id, key: row.key, version: row.version };
  }

  /** Deployed decision ids, for deploy-time validation of business-rule tasks. */
  async ids(): Promise<string[]> {
    return activeDecisionIds(this.db);
  }

  /**
   * Evaluate for a business-rule task. mapDecisionResult as in Camunda 7:
   * singleResult (default) → the one matched row's outputs or null;
   * singleEntry → its single value; collectEntries → list of single values;
   * resultList → list of rows.
   */
  async decide(decisionId: string, variables: Record<string, unknown>, mapDecisionResult: string | undefined, trx: Db = this.db, candidate?: ParsedDmn): Promise<unknown> {
    // A dry run evaluates a candidate decision file in place of the deployed one.
    const table = candidate?.decisions.find((d) => d.id === decisionId) ?? (await this.table(decisionId, trx)).table;
    const { output } = evaluateDecision(table, variables);
    const rows = (output === null ? [] : Array.isArray(output) ? output : [output]).map((r) => (r && typeof r === 'object' && !Array.isArray(r) ? this.mapRow(r as Record<string, unknown>) : r));
    switch (mapDecisionResult ?? 'singleResult') {
      case 'resultList':
        return rows;
      case 'collectEntries':
        return rows.map((r) => (typeof r === 'object' && r ? Object.values(r)[0] : r));
      case 'singleEntry': {
        const first = rows[0];
        return first && typeof first === 'object' ? (Object.values(first)[0] ?? null) : (first ?? null);
      }
      default:
        if (rows.length > 1) throw new UnprocessableError(`Decision "${decisionId}" matched ${rows.length} rows where one was expected.`);
        return rows[0] ?? null;
    }
  }
}

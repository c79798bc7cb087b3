import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { ActiveVersions } from './active-versions.js';
import type { Db } from '../db/connect.js';
import {
  activeDecisionOutputs,
  activeDefinitionId,
  activeProcess,
  definitionById,
  definitionByVersion,
  definitionContext,
  definitionWithContent,
  definitionWithXml,
  insertDefinition,
  keyUsedByOtherKind,
  lastVersionNumber,
  listDefinitions,
  lockDefinitionKey,
  setActiveDefinition,
  type DefinitionRow,
} from '../db/definitions.js';
import { buildContext, restoreContext, type SourceContext } from './bpmn.js';
import { NotFoundError, UnprocessableError } from './errors.js';
import { validateBpmn, type Problem, type ValidateOptions } from './validate.js';
import { validateDmn, type ParsedDmn } from './dmn.js';
import { BUILT_IN_SERVICES } from './session.js';
import { appendSystemEvent } from './history.js';
import type { Actor } from './actor.js';
import { systemClock, type Clock } from './clock.js';
import type { FormPlan, FormSchemas, FormStore } from './forms.js';
import { insertDefinitionForms } from '../db/forms.js';

export type { DefinitionRow };

export interface DeployResult {
  id: number;
  kind: 'bpmn' | 'dmn';
  key: string;
  version: number;
  name: string | null;
  /** false when identical XML was already deployed: the existing version is returned. */
  created: boolean;
  /** Whether new cases now start on this version. */
  active: boolean;
  warnings: Problem[];
}

/**
 * Deployed definitions and their serialized contexts. A (key, version) never
 * changes once written, so its context is cached in memory forever; the cache
 * is bounded by the number of deployed versions, not by cases.
 */
export class DefinitionStore {
  private readonly contexts = new Map<number, Promise<SourceContext>>();

  constructor(
    private readonly db: Db,
    private readonly options: {
      forms?: string[];
      decisionIds?: () => Promise<string[]>;
      /** FEEL functions added to the built-ins (the calendar's). */
      functions?: string[];
      /** Roles and agency codes a literal candidate group may name on day `at`; undefined when no catalogue is loaded. */
      candidateGroups?: (at: Date) => ValidateOptions['candidateGroups'];
      /** Element ids other code reads, by process key (the hotline's contract): a version without one is refused. */
      readElements?: ValidateOptions['readElements'];
      /** What outgoing messages' templates read, by process key (the hotline's SMS templates). */
      messageTemplates?: ValidateOptions['messageTemplates'];
      /** Message names other code delivers by name, by process key (the hotline's ratings and replies). */
      readMessages?: ValidateOptions['readMessages'];
      /** Decision outputs that hold catalogue codes (the routing table's agency), by output name: the codes in force on day `at`. */
      decisionOutputCodes?: (at: Date) => Record<string, { known: string[]; retired?: Record<string, string>; what: string }> | undefined;
      /** camunda:property values every user task declares (the hotline's publicStatus). */
      taskProperties?: ValidateOptions['taskProperties'];
      /** The start data of each process the deployment starts (the hotline's intake schema), by key: names there are checked strictly. */
      intakeVariables?: ValidateOptions['intakeVariables'];
      /** The fields each installed form sets (FormRegistry.fieldsByForm). */
      formFields?: ValidateOptions['formFields'];
      /** Versioned forms: a diagram's forms are resolved, checked and stored with it (replaces `forms` and `formFields`). */
      formStore?: FormStore;
      /** When a version was activated. */
      clock?: Clock;
      /** The active versions this node keeps (shared with the DecisionStore): dropped by this store's deploys and switches. */
      active?: ActiveVersions;
    } = {},
  ) {
    this.active = options.active ?? new ActiveVersions();
  }

  private readonly active: ActiveVersions;

  private get clock(): Clock {
    return this.options.clock ?? systemClock;
  }

  /** Validate a BPMN diagram or a DMN decision file (told apart by its namespace). */
  async validate(xml: string, forms?: FormSchemas): Promise<{ kind: 'bpmn' | 'dmn'; problems: Problem[]; key?: string; name?: string | null; context?: string; forms?: FormPlan }> {
    if (isDmn(xml)) {
      const { problems, parsed } = await validateDmn(xml);
      if (parsed) problems.push(...this.outputCodeProblems(parsed));
      return { kind: 'dmn', problems, key: parsed?.id, name: parsed?.name ?? null, context: parsed && JSON.stringify(parsed) };
    }
    // The forms this deploy would keep (given, else the previous version's, else installed): the form keys must resolve among them.
    const plan = this.options.formStore ? await this.options.formStore.plan(this.db, xml, forms) : undefined;
    const result = await validateBpmn(xml, {
      forms: plan ? Object.keys(plan.candidates) : this.options.forms,
      services: BUILT_IN_SERVICES,
      decisions: this.options.decisionIds ? await this.options.decisionIds() : undefined,
      functions: this.options.functions,
      readElements: this.options.readElements,
      messageTemplates: this.options.messageTemplates,
      readMessages: this.options.readMessages,
      taskProperties: this.options.taskProperties,
      candidateGroups: this.options.candidateGroups?.(this.clock.now()),
      intakeVariables: this.options.intakeVariables,
      formFields: plan ? this.options.formStore!.fieldsOf(plan.candidates) : this.options.formFields,
      decisionOutputs: await activeDecisionOutputs(this.db),
      processes: await this.deployedProcesses(),
    });
    const problems = [...(plan?.problems ?? []), ...result.problems];
    const ok = result.moddle && result.processId && !problems.some((p) => p.severity === 'error');
    return {
      kind: 'bpmn',
      problems,
      forms: plan,
      key: result.processId,
      name: result.processName ?? null,
      context: ok ? buildContext(result.moddle).serialize() : undefined,
    };
  }

  /**
   * Store a new version (or find the identical one) and, unless `activate` is
   * false (a staged deploy), make it the version new cases start on. Deploying
   * an old version's exact XML again therefore rolls back to it.
   */
  /**
   * A decision table's literal output codes (say the routing table's agency)
   * must be catalogue codes in force from today, when the table takes effect:
   * a table sending complaints to an agency that does not exist, or that was
   * abolished, is refused naming the row; a plug-in says which outputs hold
   * codes (decisionOutputCodes). Computed outputs ("VP-" + unit) are checked
   * when they are evaluated.
   */
  private outputCodeProblems(parsed: ParsedDmn): Problem[] {
    const codes = this.options.decisionOutputCodes?.(this.clock.now());
    if (!codes) return [];
    const problems: Problem[] = [];
    for (const table of parsed.decisions) {
      table.outputs.forEach((output, i) => {
        const known = codes[output.name];
        if (!known) return;
        for (const rule of table.rules) {
          // Only code-shaped literals (SYT, CONG-AN): a table that gives names or prose is not a routing table.
          const literal = /^\s*"([A-Z0-9][A-Z0-9-]*)"\s*$/.exec(rule.outputEntries[i] ?? '');
          if (!literal || known.known.includes(literal[1])) continue;
          const code = literal[1];
          const retired = known.retired?.[code];
          problems.push({
            elementId: rule.id,
            rule: 'decision-output-code',
            severity: 'error',
            message: retired
              ? `Row ${rule.id} of "${table.name ?? table.id}" gives ${output.name} "${code}", which is no longer in force (${retired}): use its successor.`
              : `Row ${rule.id} of "${table.name ?? table.id}" gives ${output.name} "${code}", which is not in the ${known.what}: use a code of the catalogue.`,
          });
        }
      });
    }
    return problems;
  }

  async deploy(xml: string, by: { deployedBy: string; comment?: string; actor?: Actor; activate?: boolean | 'if-none-active'; impact?: Record<string, unknown>; forms?: FormSchemas }): Promise<DeployResult> {
    const result = await this.validate(xml, by.forms);
    const errors = result.problems.filter((p) => p.severity === 'error');
    if (errors.length || !result.key || !result.context) {
      throw new UnprocessableError(`The ${result.kind === 'dmn' ? 'decision file' : 'diagram'} has ${errors.length} problem(s); nothing was deployed.`, [], result.problems);
    }
    const warnings = result.problems.filter((p) => p.severity === 'warning');
    const { key, kind, context } = result;
    const processName = result.name ?? null;
    const sha256 = createHash('sha256').update(xml).digest('hex');

    return this.switched(async (trx) => {
      // Serialize deploys of one key so two analysts cannot both take version N+1.
      await lockDefinitionKey(trx, key);
      if (await keyUsedByOtherKind(trx, key, kind)) throw new UnprocessableError(`The key "${key}" is already used by a ${kind === 'dmn' ? 'BPMN process' : 'DMN decision file'}; give this file another id.`);
      const actor = by.actor ?? { id: by.deployedBy, name: by.deployedBy, roles: [], agency: null };
      const first = (await activeDefinitionId(trx, key)) === undefined;
      // 'if-none-active' (the boot-time seed): a version switched or rolled back over the API stays as the analyst left it.
      const staged = by.activate === false || (by.activate === 'if-none-active' && !first);
      // A diagram's identity is its XML and its forms: the same XML with an edited form is a new version.
      const forms = kind === 'bpmn' ? result.forms : undefined;
      const existing = await definitionWithContent(trx, key, sha256, forms?.digest ?? null);
      if (existing) {
        const active = staged ? (await activeDefinitionId(trx, key)) === existing.id : await this.activateIn(trx, key, existing.id, existing.version, actor, by.impact);
        return { id: existing.id, kind, key, version: existing.version, name: existing.name, created: false, active, warnings };
      }
      const version = (await lastVersionNumber(trx, key)) + 1;
      const id = await insertDefinition(trx, { kind, key, version, name: processName, xml, sha256, context, deployedBy: by.deployedBy, comment: by.comment ?? null, formsSha256: forms?.digest ?? null });
      if (forms) await insertDefinitionForms(trx, id, forms.rows);
      await appendSystemEvent(trx, {
        type: 'definition.deployed',
        payload: { kind, key, version, sha256, comment: by.comment ?? null, staged: staged && !first, ...(forms ? { forms: Object.fromEntries(forms.rows.map((f) => [f.form_key, f.sha256])) } : {}) },
        actor,
      }, this.clock);
      // The first version of a key is always active: a staged first deploy would leave nothing to run.
      const active = staged && !first ? false : await this.activateIn(trx, key, id, version, actor, by.impact);
      return { id, kind, key, version, name: processName, created: true, active, warnings };
    });
  }

  /** Deployed BPMN keys and their versions: what a call activity may call (engine/call-activity.ts). */
  private async deployedProcesses(): Promise<Record<string, number[]>> {
    const out: Record<string, number[]> = {};
    for (const d of await listDefinitions(this.db)) if (d.kind === 'bpmn') (out[d.key] ??= []).push(d.version);
    return out;
  }

  /** The version new cases of `key` start on: the active one. */
  async latest(key: string): Promise<DefinitionRow> {
    const row = await this.active.get(`process:${key}`, () => activeProcess(this.db, key));
    if (!row) throw new NotFoundError(`No process "${key}" is deployed.`);
    return row;
  }

  /** Switch new cases (BPMN) or routing (DMN) of `key` to `version`. Running cases are not touched. */
  async activate(key: string, version: number, actor: Actor, impact?: Record<string, unknown>): Promise<DefinitionRow> {
    return this.switched(async (trx) => {
      await lockDefinitionKey(trx, key);
      const row = await definitionByVersion(trx, key, version);
      if (!row) throw new NotFoundError(`Definition ${key} version ${version} does not exist.`);
      await this.activateIn(trx, key, row.id, version, actor, impact);
      return row;
    });
  }

  /** A transaction that may switch an active version: what this node kept of them goes once it commits (or fails). */
  private async switched<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(fn);
    } finally {
      this.active.forget();
    }
  }

  /** `impact`: what the impact preview found on open cases (and the analyst's reason when it was risky), kept in the history with the analyst. */
  private async activateIn(trx: Knex.Transaction, key: string, id: number, version: number, actor: Actor, impact?: Record<string, unknown>): Promise<true> {
    const current = await activeDefinitionId(trx, key);
    if (current === id) return true;
    await setActiveDefinition(trx, { key, definitionId: id, activatedBy: actor.id, activatedAt: this.clock.now() });
    await appendSystemEvent(trx, { type: 'definition.activated', payload: { key, version, previousDefinitionId: current ?? null, ...(impact ? { impact } : {}) }, actor }, this.clock);
    return true;
  }

  /** One version with its XML, as deployed. */
  async version(key: string, version: number): Promise<DefinitionRow & { xml: string }> {
    const row = await definitionWithXml(this.db, key, version);
    if (!row) throw new NotFoundError(`Definition ${key} version ${version} does not exist.`);
    return row;
  }

  async byId(id: number): Promise<DefinitionRow> {
    const row = await definitionById(this.db, id);
    if (!row) throw new NotFoundError(`Definition ${id} does not exist.`);
    return row;
  }

  /** Every version, with whether it is active and how many cases still run on it (what a migration would move). */
  async list(): Promise<Array<DefinitionRow & { active: boolean; running_cases: number }>> {
    return listDefinitions(this.db);
  }

  /**
   * The serialized context of a version, cached. Pass the command's
   * transaction when called inside one: the embedded database has a single
   * connection, and a query outside the open transaction would wait forever.
   */
  context(id: number, trx: Db = this.db): Promise<SourceContext> {
    let cached = this.contexts.get(id);
    if (!cached) {
      cached = definitionContext(trx, id).then((raw) => {
        if (raw === undefined) throw new NotFoundError(`Definition ${id} does not exist.`);
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

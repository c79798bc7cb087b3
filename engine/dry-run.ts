import canonicalize from 'canonicalize';
import type { FormSchemas } from './forms.js';
import type { Db } from '../db/connect.js';
import { caseIdByCode, caseStatusByCode, finishedCases, migrationCandidates } from '../db/cases.js';
import { caseHistory, type EventRow } from '../db/history.js';
import { restoreContext, type SourceContext } from './bpmn.js';
import { systemClock, type Clock } from './clock.js';
import type { DecisionStore } from './decisions.js';
import type { Actor } from './actor.js';
import { isHeldExpiry } from './bpmn.js';
import type { DefinitionStore, DeployResult } from './definitions.js';
import type { ParsedDmn } from './dmn.js';
import { NotFoundError, UnprocessableError } from './errors.js';
import type { Problem } from './validate.js';
import { taskAssignment, type FeelFunctions } from './feel.js';
import { EngineSession } from './session.js';

export interface Step {
  elementId: string;
  name: string | null;
  /** For a user task: who it would be assigned to (its candidate groups). */
  candidateGroups?: string[];
  /** For a business-rule task: what the decision table answered (absent in histories recorded before it was kept). */
  decision?: unknown;
}

export interface CaseReplay {
  code: string;
  version: number;
  outcome: 'same' | 'diverged' | 'failed';
  recordedPath: string[];
  replayedPath: string[];
  divergence?: { step: number; recorded: Step | null; replayed: Step | null; message: string };
}

export interface DryRunReport {
  key: string;
  candidate: { kind: 'bpmn' | 'dmn'; key: string; name: string | null };
  replayed: number;
  same: number;
  diverged: number;
  failed: number;
  cases: CaseReplay[];
  /** Chosen cases that were not replayed, and why (still running, unknown, another process). */
  skipped: Array<{ code: string; reason: string }>;
}

/** Where one open case would be under a candidate version, compared with where it is. */
export interface CaseImpact {
  code: string;
  outcome: 'wait' | 'move' | 'failed';
  /** Where the case waits now (on its own version) and where it would wait under the candidate. */
  waitingAt: string[];
  candidateWaitingAt: string[];
  /** Timers the candidate would fire at once (already due, or whose expression gives no time). */
  timersAtOnce: string[];
  /** User tasks the candidate would give no candidate group (nobody's inbox). */
  tasksWithoutGroup: string[];
  message?: string;
}

/**
 * What activating a candidate would mean for the open cases of the version it
 * replaces: each case's recorded inputs replayed against the candidate and
 * against its own version, in memory. `risky` when any case would fire a
 * timer at once or land on a task with no candidate group: activation then
 * needs the analyst's confirmation with a reason.
 */
export interface ImpactReport {
  key: string;
  /** The active version the candidate would replace (null: none is active). */
  replacesVersion: number | null;
  openCases: number;
  /** Replayed (at most `limit`, oldest first). */
  replayed: number;
  wait: number;
  move: number;
  timerAtOnce: number;
  noCandidateGroup: number;
  failed: number;
  risky: boolean;
  cases: CaseImpact[];
  /** The risks by element, as diagram problems (what the modeler marks). */
  problems: Problem[];
}

/** Where a replay stands once every recorded input is delivered. */
interface Settled {
  failed: string | null;
  waiting: string[];
  timersAtOnce: string[];
  tasksWithoutGroup: string[];
}

/**
 * 422 for a candidate that cannot be replayed, listing its problems by element. One refused with no error problem
 * (a file read without a process or decision id; validation should have said why) still gets one, so the answer
 * always names the fault.
 */
function refuseFaulty<T extends { kind: 'bpmn' | 'dmn'; problems: Problem[]; key?: string; context?: string }>(validated: T, before: string): asserts validated is T & { key: string; context: string } {
  const errors = validated.problems.filter((p) => p.severity === 'error');
  if (!errors.length && validated.context && validated.key) return;
  const what = validated.kind === 'bpmn' ? 'a BPMN process' : 'a DMN decision file';
  const problems: Problem[] = errors.length ? validated.problems : [...validated.problems, { elementId: null, rule: 'parse', severity: 'error', message: `The xml could not be read as ${what} with an id.` }];
  throw new UnprocessableError(`The candidate has ${Math.max(errors.length, 1)} problem(s); fix them before ${before}.`, [], problems);
}

/** History events that fed a case from outside: what a replay delivers again, in the same order. */
const INPUTS = new Set(['task.completed', 'message.correlated', 'timer.fired']);
const USER_TASK = 'bpmn:UserTask';
const BUSINESS_RULE_TASK = 'bpmn:BusinessRuleTask';

/**
 * Replays the recorded history of finished cases against a candidate diagram
 * (or a candidate decision file) in memory and reports, per case, whether it
 * would take the same path — the same elements in the same order, the same
 * agencies on its tasks — and where it would first differ. Nothing is written:
 * engines run without a transaction and their sessions are thrown away.
 *
 * Expressions that read the clock (now(), deadlines) are evaluated at replay
 * time, not at the time of the recording.
 */
export class DryRun {
  constructor(
    private readonly db: Db,
    private readonly definitions: DefinitionStore,
    private readonly decisions: DecisionStore | undefined,
    private readonly functions: FeelFunctions,
    /** "Now" for a replay: deadlines and now() are evaluated at replay time. */
    private readonly clock: Clock = systemClock,
  ) {}

  async run(input: { key: string; xml: string; codes?: string[]; last?: number }): Promise<DryRunReport> {
    const validated = await this.definitions.validate(input.xml);
    refuseFaulty(validated, 'a dry run');
    if (validated.key !== input.key) {
      throw new UnprocessableError(`The candidate is "${validated.key}", not "${input.key}": send it to /v1/definitions/${validated.key}/dry-run, or give it the id ${input.key}.`, [
        { path: '/xml', message: `is "${validated.key}", not "${input.key}"` },
      ]);
    }
    const candidateDiagram = validated.kind === 'bpmn' ? restoreContext(JSON.parse(validated.context)) : null;
    const candidateDecisions = validated.kind === 'dmn' ? (JSON.parse(validated.context) as ParsedDmn) : undefined;
    // A decision file is used by any process: replay the last finished cases whatever their process.
    const cases = await finishedCases(this.db, { processKey: candidateDiagram ? input.key : undefined, codes: input.codes, last: input.last ?? 20 });
    const report: DryRunReport = {
      key: input.key,
      candidate: { kind: validated.kind, key: validated.key, name: validated.name ?? null },
      replayed: 0,
      same: 0,
      diverged: 0,
      failed: 0,
      cases: [],
      skipped: [],
    };
    for (const code of input.codes ?? []) {
      if (cases.some((c) => c.code === code)) continue;
      const other = await caseStatusByCode(this.db, code);
      report.skipped.push({
        code,
        reason: !other
          ? 'No case has this code.'
          : other.status !== 'completed'
            ? `The case is ${other.status}: only finished cases have a recorded ending to compare with.`
            : `The case belongs to process ${other.key}, not ${input.key}.`,
      });
    }
    for (const c of cases) {
      const context = candidateDiagram ?? (await this.definitions.context(c.definition_id));
      const result = await this.replay(c, context, await caseHistory(this.db, c.id), candidateDecisions);
      report.replayed++;
      report[result.outcome]++;
      report.cases.push(result);
    }
    return report;
  }

  /** Replay the open cases of the active version of `key` against a candidate diagram (see ImpactReport). */
  async impact(input: { key: string; xml: string; limit?: number; forms?: FormSchemas }): Promise<ImpactReport> {
    const validated = await this.definitions.validate(input.xml, input.forms);
    // A decision file is not a faulty diagram but the wrong kind of file here: saying "has problems" with an empty
    // list (it may have none) named nothing. The dry run is what replays cases against a decision file.
    if (validated.kind !== 'bpmn') {
      throw new UnprocessableError(
        `An impact preview takes a BPMN diagram of process "${input.key}"; the body's xml is a DMN decision file${validated.key ? ` ("${validated.key}")` : ''}. To see what a decision file would change, POST it to /v1/definitions/${validated.key ?? '{decisionFileId}'}/dry-run.`,
        [{ path: '/xml', message: 'is a DMN decision file, not a BPMN diagram' }],
      );
    }
    refuseFaulty(validated, 'an impact preview');
    if (validated.key !== input.key) {
      throw new UnprocessableError(`The candidate is process "${validated.key}", not "${input.key}": preview it at /v1/definitions/${validated.key}/impact, or give it the id ${input.key}.`, [
        { path: '/xml', message: `is process "${validated.key}", not "${input.key}"` },
      ]);
    }
    const candidate = restoreContext(JSON.parse(validated.context));
    const report: ImpactReport = { key: input.key, replacesVersion: null, openCases: 0, replayed: 0, wait: 0, move: 0, timerAtOnce: 0, noCandidateGroup: 0, failed: 0, risky: false, cases: [], problems: [] };
    const active = await this.definitions.latest(input.key).catch((err) => {
      if (err instanceof NotFoundError) return null;
      throw err;
    });
    if (!active) return report;
    report.replacesVersion = active.version;
    const { total, rows } = await migrationCandidates(this.db, { key: input.key, targetId: 0, fromVersion: active.version, limit: input.limit ?? 200 });
    report.openCases = total;
    const own = await this.definitions.context(active.id);
    const byElement = new Map<string, { rule: string; codes: string[] }>();
    for (const row of rows) {
      const id = await caseIdByCode(this.db, row.code);
      if (!id) continue;
      const events = await caseHistory(this.db, id);
      const now = await this.settle(row.code, own, events);
      const next = await this.settle(row.code, candidate, events);
      const same = now.waiting.join() === next.waiting.join();
      const c: CaseImpact = {
        code: row.code,
        outcome: next.failed ? 'failed' : same ? 'wait' : 'move',
        waitingAt: now.waiting,
        candidateWaitingAt: next.waiting,
        // A timer due at once on the case's own version too is the case's own lateness, not the candidate's doing.
        timersAtOnce: next.timersAtOnce.filter((id) => !now.timersAtOnce.includes(id)),
        tasksWithoutGroup: next.tasksWithoutGroup,
        ...(next.failed ? { message: next.failed } : {}),
      };
      report.replayed++;
      report[c.outcome]++;
      if (c.timersAtOnce.length) report.timerAtOnce++;
      if (c.tasksWithoutGroup.length) report.noCandidateGroup++;
      for (const [rule, ids] of [['impact-timer-at-once', c.timersAtOnce], ['impact-no-candidate-group', c.tasksWithoutGroup]] as const) {
        for (const elementId of ids) {
          const entry = byElement.get(`${rule} ${elementId}`) ?? { rule, codes: [] };
          entry.codes.push(c.code);
          byElement.set(`${rule} ${elementId}`, entry);
        }
      }
      report.cases.push(c);
    }
    for (const [key, { rule, codes }] of byElement) {
      const elementId = key.split(' ')[1];
      const which = `${codes.length} open case(s) of version ${active.version} (${codes.slice(0, 5).join(', ')}${codes.length > 5 ? ', …' : ''})`;
      report.problems.push({
        elementId,
        rule,
        severity: 'error',
        message: rule === 'impact-timer-at-once'
          ? `${which} would fire timer "${elementId}" at once under this version: its time has passed or its expression gives no time for them.`
          : `${which} would land on task "${elementId}" with no candidate group under this version: nobody would see it.`,
      });
    }
    report.risky = report.timerAtOnce > 0 || report.noCandidateGroup > 0;
    return report;
  }

  /** Start a case's recorded data on `context`, deliver its recorded inputs, and say where it stands. */
  private async settle(code: string, context: SourceContext, events: EventRow[]): Promise<Settled> {
    const session = new EngineSession(`impact:${code}`, context, {
      clock: this.clock,
      functions: this.functions,
      decide: (ref, variables, map) => (this.decisions ? this.decisions.decide(ref, variables, map) : Promise.reject(new Error('No decision store is configured'))),
    });
    const out: Settled = { failed: null, waiting: [], timersAtOnce: [], tasksWithoutGroup: [] };
    let atRest = true;
    try {
      const started = events.find((e) => e.type === 'case.started');
      await session.start((started?.payload.variables as Record<string, unknown>) ?? {});
      for (const input of events.filter((e) => INPUTS.has(e.type))) {
        if (!deliver(session, input)) {
          out.failed = `The recorded ${input.type} at "${input.element_name ?? input.element_id}" could not be delivered: the candidate ${session.ended ? 'had already ended' : `waits at ${session.waitingActivities().map((w) => w.id).join(', ') || 'nothing'}`}.`;
          break;
        }
        await session.settle();
      }
      const now = this.clock.now().getTime();
      out.waiting = [...new Set(session.waitingActivities().map((w) => w.id))].sort();
      // A timer already due fires during the run itself: the ones that fired beyond the recorded firings fired at once.
      const fired = session.events.filter((e) => e.type === 'timer.fired').map((e) => e.elementId ?? '');
      for (const input of events) {
        if (input.type !== 'timer.fired') continue;
        const i = fired.indexOf(input.element_id ?? '');
        if (i >= 0) fired.splice(i, 1);
      }
      out.timersAtOnce = [...new Set([...fired, ...session.heldTimers.map((t) => t.elementId), ...session.armedTimers().filter((t) => !isHeldExpiry(t.expireAt) && t.expireAt.getTime() <= now).map((t) => t.elementId)])];
      for (const w of session.waiting()) {
        if (w.type !== USER_TASK) continue;
        const a = taskAssignment(w.behaviour, session.variables(), this.clock.now(), this.functions);
        if (!a.candidateGroups.length && !a.assignee) out.tasksWithoutGroup.push(w.id);
      }
    } catch (err: any) {
      atRest = false;
      out.failed = `The candidate fails on this case: ${err?.message ?? err}.`;
    } finally {
      session.end(atRest);
    }
    return out;
  }

  private async replay(c: { code: string; version: number }, context: SourceContext, events: EventRow[], candidateDecisions?: ParsedDmn): Promise<CaseReplay> {
    const recorded = pathOf(events);
    const session = new EngineSession(`dry-run:${c.code}`, context, {
      clock: this.clock,
      functions: this.functions,
      decide: (ref, variables, map) => {
        if (!this.decisions) return Promise.reject(new Error('No decision store is configured'));
        return this.decisions.decide(ref, variables, map, undefined, candidateDecisions);
      },
    });
    const groups: string[][] = [];
    const seenTasks = new Set<string>();
    // Candidate groups are resolved when a task appears, as the runtime does when it creates the task row.
    const noteNewTasks = () => {
      for (const w of session.waiting()) {
        if (w.type !== USER_TASK || seenTasks.has(w.executionId)) continue;
        seenTasks.add(w.executionId);
        // The deadline is computed too: one that cannot be leaves the case stuck in service (422 on the step before).
        groups.push(taskAssignment(w.behaviour, session.variables(), this.clock.now(), this.functions).candidateGroups);
      }
    };
    let stop: string | null = null;
    let failed = false;
    try {
      const started = events.find((e) => e.type === 'case.started');
      await session.start((started?.payload.variables as Record<string, unknown>) ?? {});
      noteNewTasks();
      for (const input of events.filter((e) => INPUTS.has(e.type))) {
        const delivered = deliver(session, input);
        if (!delivered) {
          const waiting = session.waitingActivities().map((w) => w.id);
          stop = `The recorded ${input.type} at "${input.element_name ?? input.element_id}" could not be delivered: the candidate ${session.ended ? 'had already ended' : `waits at ${waiting.join(', ') || 'nothing'}`}.`;
          break;
        }
        await session.settle();
        noteNewTasks();
      }
    } catch (err: any) {
      failed = true;
      stop = `The candidate fails on this case: ${err?.message ?? err}.`;
    } finally {
      session.end(!failed);
    }
    const decisions = session.events.filter((e) => e.type === 'decision.evaluated').map((e) => e.payload?.result);
    const replayed = stepsOf(session.events.filter((e) => e.type === 'activity.started'), groups, decisions);
    const result: CaseReplay = {
      code: c.code,
      version: c.version,
      outcome: 'same',
      recordedPath: recorded.map((s) => s.elementId),
      replayedPath: replayed.map((s) => s.elementId),
    };
    const step = firstDifference(recorded, replayed);
    if (step >= 0) {
      const r = recorded[step] ?? null;
      const p = replayed[step] ?? null;
      result.outcome = failed ? 'failed' : 'diverged';
      result.divergence = { step, recorded: r, replayed: p, message: failed ? `${stop} ${describe(r, p, null)}` : describe(r, p, stop) };
    } else if (failed || !session.ended) {
      result.outcome = failed ? 'failed' : 'diverged';
      result.divergence = { step: recorded.length, recorded: null, replayed: null, message: stop ?? 'The case ended; with the candidate it would still be waiting.' };
    }
    return result;
  }
}

/** Deliver one recorded input to the replaying engine; false when nothing waits for it. */
function deliver(session: EngineSession, input: EventRow): boolean {
  if (input.type === 'timer.fired') return session.fireTimer(input.element_id ?? '');
  const target = session.waitingActivities().find((w) => w.id === input.element_id);
  if (!target) return false;
  const payload = input.type === 'task.completed' ? input.payload.output : input.payload.payload;
  target.api.signal((payload as Record<string, unknown>) ?? {});
  return true;
}

/** The recorded path: activities in the order they started, user tasks with the groups they were given. */
function pathOf(events: EventRow[]): Step[] {
  const groups = events.filter((e) => e.type === 'task.created').map((e) => (e.payload.candidateGroups as string[]) ?? []);
  const decisions = events.filter((e) => e.type === 'decision.evaluated').map((e) => e.payload.result);
  return stepsOf(
    events.filter((e) => e.type === 'activity.started').map((e) => ({ elementId: e.element_id ?? '', elementName: e.element_name, elementType: e.element_type })),
    groups,
    decisions,
  );
}

function stepsOf(started: Array<{ elementId?: string | null; elementName?: string | null; elementType?: string | null }>, groups: string[][], decisions: unknown[]): Step[] {
  let task = 0;
  let decision = 0;
  return started.map((e) => ({
    elementId: e.elementId ?? '',
    name: e.elementName ?? null,
    ...(e.elementType === USER_TASK ? { candidateGroups: groups[task++] ?? [] } : {}),
    ...(e.elementType === BUSINESS_RULE_TASK && decision < decisions.length ? { decision: decisions[decision++] } : {}),
  }));
}

/** Equal as data: a recorded answer comes back from jsonb with its keys in another order than the table's columns. */
function same(a: unknown, b: unknown): boolean {
  return canonicalize(a ?? null) === canonicalize(b ?? null);
}

function sameStep(a: Step, b: Step): boolean {
  if (a.elementId !== b.elementId || JSON.stringify(a.candidateGroups ?? null) !== JSON.stringify(b.candidateGroups ?? null)) return false;
  // A history recorded before decisions were kept has none to compare.
  return !('decision' in a) || !('decision' in b) || same(a.decision, b.decision);
}

function firstDifference(a: Step[], b: Step[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (!a[i] || !b[i] || !sameStep(a[i], b[i])) return i;
  }
  return -1;
}

function label(s: Step): string {
  return `"${s.name ?? s.elementId}" (${s.elementId}${s.candidateGroups ? `, for ${s.candidateGroups.join(', ') || 'nobody'}` : ''})`;
}

function describe(recorded: Step | null, replayed: Step | null, stop: string | null): string {
  if (recorded && replayed) {
    if (recorded.elementId === replayed.elementId && 'decision' in recorded && !same(recorded.decision, replayed.decision)) {
      return `At ${label(recorded)} the decision answered ${JSON.stringify(recorded.decision)}; with the candidate it would answer ${JSON.stringify(replayed.decision)}.`;
    }
    if (recorded.elementId === replayed.elementId) return `At ${label(recorded)} the case went to ${recorded.candidateGroups?.join(', ') || 'nobody'}; with the candidate it would go to ${replayed.candidateGroups?.join(', ') || 'nobody'}.`;
    return `The case went to ${label(recorded)}; with the candidate it would go to ${label(replayed)}.`;
  }
  if (recorded) return `The case went on to ${label(recorded)}; with the candidate it would stop there. ${stop ?? ''}`.trim();
  return `The case ended; with the candidate it would go on to ${label(replayed!)}.`;
}

/** What an analyst confirms a risky activation with; recorded in the activation's history event. */
export interface ImpactConfirmation {
  confirm?: boolean;
  reason?: string;
}

/** Refuse a risky activation that is not confirmed with a reason (422 with the risks by element). */
function gate(report: ImpactReport, by: ImpactConfirmation): Record<string, unknown> {
  const summary = { replacesVersion: report.replacesVersion, openCases: report.openCases, replayed: report.replayed, wait: report.wait, move: report.move, timerAtOnce: report.timerAtOnce, noCandidateGroup: report.noCandidateGroup, failed: report.failed };
  if (!report.risky) return summary;
  const reason = by.reason?.trim();
  if (!by.confirm || !reason) {
    throw new UnprocessableError(
      `Activating this version would affect open cases: ${report.timerAtOnce} would fire a timer at once, ${report.noCandidateGroup} would land on a task with no candidate group. Nothing was changed. To activate it anyway, confirm with a reason (confirm: true, reason).`,
      [{ path: by.confirm ? '/reason' : '/confirm', message: by.confirm ? 'a reason is required to confirm a risky activation' : 'the impact on open cases must be confirmed' }],
      report.problems,
    );
  }
  return { ...summary, confirmed: true, reason, risks: report.problems.map((p) => `${p.elementId}: ${p.message}`) };
}

/**
 * Deploy through the impact preview: a version that would become active is
 * replayed against the open cases of the one it replaces first; a risky one
 * needs confirm + reason, recorded with the analyst in the activation event.
 * API, CLI and page all deploy this way.
 */
export async function deployWithImpact(
  definitions: DefinitionStore,
  dryRun: DryRun,
  xml: string,
  by: Parameters<DefinitionStore['deploy']>[1] & ImpactConfirmation,
): Promise<DeployResult & { impact?: ImpactReport }> {
  const validated = await definitions.validate(xml, by.forms);
  const checked = by.activate !== false && validated.kind === 'bpmn' && validated.key && !validated.problems.some((p) => p.severity === 'error');
  const report = checked ? await dryRun.impact({ key: validated.key!, xml, forms: by.forms }) : undefined;
  const impact = report ? gate(report, by) : undefined;
  const result = await definitions.deploy(xml, { ...by, impact });
  return report ? { ...result, impact: report } : result;
}

/** Switch to a deployed version through the same impact preview (a roll back included). */
export async function activateWithImpact(definitions: DefinitionStore, dryRun: DryRun, key: string, version: number, actor: Actor, by: ImpactConfirmation = {}) {
  const row = await definitions.version(key, version);
  const report = row.kind === 'bpmn' ? await dryRun.impact({ key, xml: row.xml }) : undefined;
  const impact = report ? gate(report, by) : undefined;
  const activated = await definitions.activate(key, version, actor, impact);
  return { row: activated, impact: report };
}

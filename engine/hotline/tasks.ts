/**
 * The hotline's rules on what a command carries, plugged into the generic
 * runtime (RuntimeOptions.checkStart, checkOutput, renderMessage) by
 * api/system.ts. The runtime runs them inside the command, whoever calls it.
 */
import type { TaskRow } from '../../db/tasks.js';
import { InputError, UnprocessableError } from '../errors.js';
import { PHONE_MESSAGE, PHONE_PATTERN } from '../json-schema.js';
import type { OutboxMessage } from '../session.js';
import { vietnamDate, vietnameseDate } from '../vietnam-time.js';
import type { Catalogue } from './catalogue.js';
import { CITIZEN_PHONE } from './public-status.js';
import { HOTLINE_PROCESS, INTAKE_REQUIRED, MESSAGE_TOPICS, NEW_DUE_DATE, PROCESS_OWNED_VARIABLES, TEMPLATE_PLACEHOLDERS, TRANSFER } from './contract.js';
import type { SmsTemplates } from './sms.js';

/**
 * Intake of the hotline's process: title, description and channel present
 * (POST /v1/cases's schema says so too; this holds for every other caller —
 * Open311, the demo seed, scripts), no variable the process sets itself
 * (refused naming each), a citizen's phone that holds a phone number (any
 * process: SMS go to it), and codes (field, unit, procedure …) in the
 * catalogue and in force today.
 */
export function checkIntake(catalogue: Catalogue) {
  return (variables: Record<string, unknown>, at: Date, processKey: string): void => {
    if (processKey === HOTLINE_PROCESS) {
      const missing = INTAKE_REQUIRED.filter((name) => typeof variables[name] !== 'string' || !(variables[name] as string).trim());
      if (missing.length) {
        throw new InputError(
          `Intake needs ${missing.join(', ')}.`,
          missing.map((name) => ({ path: `/variables/${name}`, message: 'is required' })),
        );
      }
      const owned = Object.keys(variables).filter((name) => (PROCESS_OWNED_VARIABLES as readonly string[]).includes(name));
      if (owned.length) {
        throw new UnprocessableError(
          `Intake may not set ${owned.join(', ')}: the process sets ${owned.length > 1 ? 'them' : 'it'}.`,
          owned.map((name) => ({ path: `/variables/${name}`, message: 'is set by the process, not at intake' })),
        );
      }
    }
    const phone = variables[CITIZEN_PHONE];
    if (phone !== undefined && !(typeof phone === 'string' && phone.length <= 30 && PHONE.test(phone))) {
      throw new InputError(`${CITIZEN_PHONE} is not a phone number.`, [{ path: `/variables/${CITIZEN_PHONE}`, message: PHONE_MESSAGE }]);
    }
    catalogue.checkCodes(variables, at);
  };
}

/** The citizen's phone as POST /v1/cases's schema checks it (api/schemas.ts PhoneSchema): outgoing SMS are sent to it. */
const PHONE = new RegExp(PHONE_PATTERN, 'u');

/**
 * A task's output: codes in the catalogue and in force; a transfer or a
 * reassignment only to an agency that handles complaints, and not to the
 * agency that holds the step (it would only restart its own deadline); a
 * coordinator's new deadline not in the past. The transfer limit itself is in the diagram (transferCount).
 */
export function checkTaskOutput(catalogue: Catalogue) {
  return (task: TaskRow, output: Record<string, unknown>, at: Date): void => {
    catalogue.checkCodes(output, at);
    // A deadline already gone would make the case overdue the moment it is reassigned (today, in Vietnam time, is allowed).
    const due = output[NEW_DUE_DATE];
    const today = vietnamDate(at);
    if (typeof due === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(due) && due < today) {
      throw new UnprocessableError(`The new deadline ${due} is in the past (today is ${today}).`, [
        { path: `/${NEW_DUE_DATE}`, message: `must be today (${today}) or later` },
      ]);
    }
    const to = output[TRANSFER.toAgency];
    if (typeof to !== 'string') return;
    // Only level 1 (sector departments) and level 2 (local focal points) answer
    // complaints; the hotline and the coordinator's office (level null) do not.
    const entry = catalogue.get('agencies', to);
    if (entry && (entry.level === null || entry.level === undefined)) {
      throw new UnprocessableError(`${to} does not handle complaints.`, [
        { path: `/${TRANSFER.toAgency}`, message: `"${to}" does not handle complaints: transfer to a department or a local focal point (catalogue level 1 or 2)` },
      ]);
    }
    if (output.outcome === TRANSFER.outcome && task.candidate_groups.includes(to)) {
      throw new UnprocessableError('A case cannot be transferred to the agency that holds it.', [{ path: `/${TRANSFER.toAgency}`, message: 'is the agency handling this step' }]);
    }
  };
}

/** Longest answer quoted in an SMS; the full text is in the public lookup once published. */
const SMS_ANSWER_CHARS = 300;

/**
 * The text of an outgoing message, rendered from its template with the case's
 * data when it is queued: the agency's name from the catalogue, the deadline
 * as dd/mm/yyyy in Vietnam time, a long answer cut at a word boundary.
 */
export function renderOutgoing(templates: SmsTemplates | undefined, agencyName: (code: string) => string | undefined) {
  return (message: OutboxMessage, kase: { code: string; variables: Record<string, unknown> }): Record<string, unknown> => {
    const vars = kase.variables;
    // The variables each computed placeholder reads are declared in the contract (validation checks diagrams against them).
    const read = (placeholder: string) => vars[TEMPLATE_PLACEHOLDERS[placeholder] as string];
    const agency = typeof read('agencyName') === 'string' ? (read('agencyName') as string) : '';
    const answer = typeof read('answer') === 'string' ? (read('answer') as string) : '';
    const values = {
      ...vars,
      code: kase.code,
      agencyName: (agency && agencyName(agency)) || agency,
      due: vietnameseDate(read('due')),
      answer: answer.length > SMS_ANSWER_CHARS ? `${answer.slice(0, SMS_ANSWER_CHARS).replace(/\s+\S*$/, '')}…` : answer,
    };
    return { text: templates?.render(String(message.payload.template), values) ?? null };
  };
}

/**
 * The variables each template reads, for validation (ValidateOptions.messageTemplates):
 * its placeholders through TEMPLATE_PLACEHOLDERS, the case code left out.
 */
export function templateReads(templates: SmsTemplates): { topics: readonly string[]; reads: Record<string, string[]> } {
  const reads: Record<string, string[]> = {};
  for (const [name, placeholders] of Object.entries(templates.placeholders())) {
    reads[name] = placeholders.flatMap((p) => {
      const variable = Object.hasOwn(TEMPLATE_PLACEHOLDERS, p) ? TEMPLATE_PLACEHOLDERS[p] : p;
      return variable ? [variable] : [];
    });
  }
  return { topics: MESSAGE_TOPICS, reads };
}

/**
 * The contract between the generic workflow engine and the hotline: every
 * name the hotline's code reads from a diagram or from case variables,
 * declared once. Validation checks a diagram of the hotline's process
 * against it at deploy (api/system.ts passes READ_ELEMENTS to the
 * DefinitionStore as `readElements`; rule read-element-missing), so an
 * analyst who renames something the code reads is refused with what is
 * missing instead of breaking reports or SMS ratings in production.
 */

/** The hotline's process: intake starts it when a request names no other. */
export const HOTLINE_PROCESS = 'complaint-handling';

/**
 * What every intake of the hotline's process must carry (POST /v1/cases's
 * schema requires them; the runtime refuses a start without them, whoever
 * calls: Open311, the demo seed, a script): a case nobody can read the
 * subject of, or tell how it came in, cannot be routed, answered or reported.
 */
export const INTAKE_REQUIRED = ['title', 'description', 'channel'] as const;

/** Case variables that hold a citizen's personal data (and the free text they send: it may name or locate them): masked for roles that do not need them, never logged. */
export const PERSONAL_VARIABLES = ['citizenName', 'citizenPhone', 'citizenAddress', 'citizenEmail', 'citizenInfo', 'citizenMessage'] as const;

/**
 * Element ids of the hotline's process that code reads, and what reads them.
 * (Public status moved into the diagram: user tasks' publicStatus property.)
 */
export const READ_ELEMENTS: Record<string, Record<string, string>> = {
  [HOTLINE_PROCESS]: {
    sendAnswer: 'the weekly report and the scorecard (when an answer was sent)',
    noRating: 'SMS rating replies (a case waits for a rating while this timer is armed)',
  },
};

/**
 * What each placeholder of an outgoing message's template (processes/sms/templates.json)
 * reads from the case, as engine/hotline/tasks.ts renderOutgoing fills it: `{{agencyName}}`
 * is the catalogue name of `agency`, `{{due}}` is `dueAt` as dd/mm/yyyy, `{{answer}}` is
 * `answer` cut short; null: not a variable (the case code). Any other placeholder reads the
 * variable of its own name. Validation refuses a diagram that sends a template reading a
 * variable nothing before the sending step sets (rule sms-template-variable).
 */
export const TEMPLATE_PLACEHOLDERS: Record<string, string | null> = { code: null, agencyName: 'agency', due: 'dueAt', answer: 'answer' };

/** Topics (camunda:topic) whose elements send a templated message: sms to the citizen, notify to agencies. */
export const MESSAGE_TOPICS = ['sms', 'notify'] as const;

/** The element whose armed timer means "this case waits for the citizen's rating". */
export const RATING_WAIT_ELEMENT = 'noRating';

/** The BPMN message a citizen's rating is delivered as (public page, SMS reply). */
export const RATING_MESSAGE = 'citizen-rating';

/** The element whose armed timer means "this case waits for information the citizen was asked for". */
export const INFO_WAIT_ELEMENT = 'infoTimeout';

/** The BPMN message the citizen's information is delivered as, and the field that carries its text. */
export const INFO_MESSAGE = { name: 'citizen-info', field: 'citizenInfo' } as const;

/**
 * BPMN message names the hotline's code delivers by name, and what delivers
 * them: a version without one is refused (rule read-message-missing).
 */
export const READ_MESSAGES: Record<string, Record<string, string>> = {
  [HOTLINE_PROCESS]: {
    [RATING_MESSAGE]: "the citizen's rating (an SMS reply 1 or 2, the public page)",
    [INFO_MESSAGE.name]: "the citizen's SMS reply with the information asked for",
  },
};

/**
 * Case variables the hotline reads (SMS templates, public status, reports,
 * inbox columns). Set by the process (forms, decisions), not at intake.
 */
export const READ_VARIABLES = {
  agency: 'the agency holding the case (SMS text, notifications)',
  dueAt: 'the case deadline (SMS text, public status)',
  answer: 'the answer text (SMS, public lookup once published)',
  publish: 'whether the answer is shown on the public answers page',
  transferCount: 'how many times agencies passed the case on (inbox, buck-passing review)',
  field: 'the field of the complaint (routing, inbox filter, reports)',
  unit: 'the administrative unit (routing, inbox filter, reports)',
  title: 'the short title (inbox, public lookup)',
} as const;

/** Form fields whose enum lists a step's possible outcomes (the task view's allowedOutcomes). */
export const OUTCOME_FIELDS = ['outcome', 'decision', 'reviewDecision', 'finding'] as const;

/** The coordinator's new deadline when reassigning a case (a YYYY-MM-DD day, Vietnam time): not in the past. */
export const NEW_DUE_DATE = 'newDueDate';

/** The outcome a transfer completes a handling step with, and its fields. */
export const TRANSFER = { outcome: 'transfer', toAgency: 'toAgency', reason: 'transferReason' } as const;

/**
 * What each user task tells the public lookup while a case waits there
 * (engine/hotline/public-status.ts; waiting-citizen and closed are derived).
 * Validation warns when a task lacks it and refuses a value citizens do not know.
 */
export const TASK_PROPERTIES = {
  publicStatus: {
    values: ['received', 'handling', 'reviewing', 'answered'],
    missing: 'what a citizen looking up the case sees while it waits here',
    invalid: 'is not a status citizens know',
  },
} as const;

/**
 * Variables the hotline's process sets itself (its output parameters, the
 * routing table's outputs, the steps' forms): intake may not set them — a
 * client choosing its own agency, deadline or published answer would skip
 * the process. Intake may still give field, unit and procedure (an operator
 * who classifies on the call).
 */
export const PROCESS_OWNED_VARIABLES = [
  'agency', 'previousAgency', 'level', 'answerDays', 'dueAt', 'receivedAt', 'late', 'escalated', 'escalationReason',
  'transferCount', 'transferLimit', 'transferLimitExceeded', 'toAgency', 'transferReason', 'infoDays', 'infoTimedOut',
  'reviewDays', 'sentBack', 'reopened', 'reopenCount', 'outcome', 'answer', 'legalBasis', 'publish', 'decision',
  'reviewDecision', 'reviewComment', 'finding', 'findingAgency', 'findingNote', 'satisfied', 'ratingChannel', 'ratingComment',
] as const;

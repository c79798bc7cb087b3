/** Typed domain errors; the API's one error middleware maps them to problem+json. */
export interface FieldProblem {
  path: string;
  message: string;
}

export class DomainError extends Error {
  readonly status: number = 500;
  readonly title: string = 'Error';
}

/** The request is malformed: a field is missing, of the wrong type, out of range. */
export class InputError extends DomainError {
  override readonly status = 400;
  override readonly title = 'Invalid request';
  constructor(message: string, readonly errors: FieldProblem[] = []) {
    super(message);
  }
}

/** Well-formed but refused by the domain: a diagram that fails validation, a form that fails its schema. */
export class UnprocessableError extends DomainError {
  override readonly status = 422;
  override readonly title = 'Unprocessable';
  constructor(message: string, readonly errors: FieldProblem[] = [], readonly problems: unknown[] = []) {
    super(message);
  }
}

export class NotFoundError extends DomainError {
  override readonly status = 404;
  override readonly title = 'Not found';
  /** `errors`: the field that named what is not there, when a body did (POST /v1/cases {"process": …}). */
  constructor(message: string, readonly errors: FieldProblem[] = []) {
    super(message);
  }
}

/** The state changed under the caller: the task is no longer open, another node won a race. */
export class ConflictError extends DomainError {
  override readonly status = 409;
  override readonly title = 'Conflict';
}

/** The caller's If-Match names a version of the resource that is no longer the current one (someone else changed it). */
export class PreconditionFailedError extends DomainError {
  override readonly status = 412;
  override readonly title = 'Precondition failed';
}

export class ForbiddenError extends DomainError {
  override readonly status = 403;
  override readonly title = 'Forbidden';
}

export class UnauthorizedError extends DomainError {
  override readonly status = 401;
  override readonly title = 'Unauthorized';
}

/**
 * The database cannot be reached (refused, reset, timed out): nothing the
 * caller did is wrong and nothing was changed, so the answer is 503 with
 * Retry-After, and the same request succeeds once the database is back.
 */
export class UnavailableError extends DomainError {
  override readonly status = 503;
  override readonly title = 'Service unavailable';
  constructor(message: string, readonly retryAfterSeconds = 5) {
    super(message);
  }
}

/**
 * Domain errors. Each carries one code from a closed list; the transport maps the
 * code to `extensions.code` once (src/schema/format-error.ts) for HTTP and websockets.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  /** A dependency (database, Redis) is down; the same request may succeed later. */
  UNAVAILABLE: 'UNAVAILABLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** One failure of a config against a schema; `path` is a JSON Pointer into the config. */
export interface ValidationIssue {
  path: string;
  message: string;
  keyword: string;
}

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
  /** Extra, client-safe fields copied into `extensions`. */
  readonly details: Record<string, unknown>;

  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export class UnauthenticatedError extends DomainError {
  readonly code = ErrorCode.UNAUTHENTICATED;
}

export class ForbiddenError extends DomainError {
  readonly code = ErrorCode.FORBIDDEN;
}

export class BadInputError extends DomainError {
  readonly code = ErrorCode.BAD_USER_INPUT;
}

export class NotFoundError extends DomainError {
  readonly code = ErrorCode.NOT_FOUND;
}

export class ConflictError extends DomainError {
  readonly code = ErrorCode.CONFLICT;
}

export class RateLimitedError extends DomainError {
  readonly code = ErrorCode.RATE_LIMITED;
  constructor(retryAfterSeconds: number, message = `rate limit exceeded; retry in ${retryAfterSeconds} s`) {
    super(message, { retryAfterSeconds });
  }
}

export class ValidationFailedError extends DomainError {
  readonly code = ErrorCode.VALIDATION_FAILED;
  constructor(message: string, readonly errors: ValidationIssue[]) {
    super(message, { errors });
  }
}

export class UnavailableError extends DomainError {
  readonly code = ErrorCode.UNAVAILABLE;
}

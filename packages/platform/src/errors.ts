import { status } from "@grpc/grpc-js";

/** What went wrong with one field of a request: the `details` object of the error body. */
export interface FieldViolation {
  /** The request field at fault, as a proto field path (e.g. "warehouse.code"). */
  field: string;
  /** The offending value, when it is safe to echo back. */
  value?: unknown;
  /** The rule it broke, e.g. "required", "pattern", "unique", "foreign_key", "range". */
  constraint: string;
  /** What is wrong, in a sentence; the error's message when omitted. */
  description?: string;
}

/**
 * Base of every error a service raises on purpose. `code` is a gRPC status code; `reason` says
 * what happened in UPPER_SNAKE_CASE (google.rpc.ErrorInfo.reason), e.g. "NOT_FOUND",
 * "ALREADY_EXISTS", "ETAG_MISMATCH"; `violations` lists every field at fault, all at once.
 */
export abstract class DomainError extends Error {
  abstract readonly code: status;
  readonly violations: readonly FieldViolation[];
  readonly #reason: string | undefined;
  /** When the caller may try again, in seconds (google.rpc.RetryInfo; Retry-After at the edge). */
  retryAfterSeconds: number | undefined;

  constructor(message: string, violations?: FieldViolation | readonly FieldViolation[], reason?: string) {
    super(message);
    this.name = new.target.name;
    this.violations = violations === undefined ? [] : Array.isArray(violations) ? violations : [violations as FieldViolation];
    this.#reason = reason;
  }

  /** The first field at fault, if any. */
  get violation(): FieldViolation | undefined {
    return this.violations[0];
  }

  /** What happened, e.g. "NOT_FOUND"; the status code's name unless the error says more. */
  get reason(): string {
    return this.#reason ?? status[this.code] ?? "UNKNOWN";
  }
}

export class InvalidArgument extends DomainError {
  readonly code = status.INVALID_ARGUMENT;
}

export class NotFound extends DomainError {
  readonly code = status.NOT_FOUND;
}

export class AlreadyExists extends DomainError {
  readonly code = status.ALREADY_EXISTS;
}

export class FailedPrecondition extends DomainError {
  readonly code = status.FAILED_PRECONDITION;
}

/** A concurrent change won: the caller may re-read and retry. */
export class Aborted extends DomainError {
  readonly code = status.ABORTED;
}

export class Unauthenticated extends DomainError {
  readonly code = status.UNAUTHENTICATED;
}

export class PermissionDenied extends DomainError {
  readonly code = status.PERMISSION_DENIED;
}

export class ResourceExhausted extends DomainError {
  readonly code = status.RESOURCE_EXHAUSTED;
}

/** A limit was hit: RESOURCE_EXHAUSTED that tells the caller when to come back. */
export function tooManyAttempts(message: string, retryAfterSeconds: number, reason = "RATE_LIMITED"): ResourceExhausted {
  const err = new ResourceExhausted(message, undefined, reason);
  err.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return err;
}

export class Unimplemented extends DomainError {
  readonly code = status.UNIMPLEMENTED;
}

/**
 * Something this service needs to answer (another service, usually) cannot be reached now:
 * nothing was decided, and the caller may retry with backoff. Never a guess in its place.
 */
export class Unavailable extends DomainError {
  readonly code = status.UNAVAILABLE;
}

/** Shorthand for the most common violation: a field breaking a stated rule. */
export const invalid = (field: string, constraint: string, message: string, value?: unknown) =>
  new InvalidArgument(message, { field, constraint, value, description: message }, "INVALID_FIELD");

/**
 * Several field violations reported together. The message names every field, so a caller that
 * reads only the message still learns all that is wrong.
 */
export function invalidFields(violations: readonly (FieldViolation & { description: string })[]): InvalidArgument {
  const message = violations.length === 1 ? violations[0]!.description : violations.map((v) => v.description).join("; ");
  return new InvalidArgument(message, violations, "INVALID_FIELD");
}

/** Anything unexpected, reported to the caller without its text: the log has the detail. */
export class Internal extends DomainError {
  readonly code = status.INTERNAL;
}

import { status } from "@grpc/grpc-js";

/** What went wrong with one field of a request: seed 000's `details` object. */
export interface FieldViolation {
  /** The request field at fault, as a proto field path (e.g. "warehouse.code"). */
  field: string;
  /** The offending value, when it is safe to echo back. */
  value?: unknown;
  /** The rule it broke, e.g. "required", "pattern", "unique", "foreign_key", "range". */
  constraint: string;
}

/** Base of every error a service raises on purpose; `code` is a gRPC status code. */
export abstract class DomainError extends Error {
  abstract readonly code: status;
  constructor(
    message: string,
    readonly violation?: FieldViolation,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidArgument extends DomainError {
  readonly code = status.INVALID_ARGUMENT;
  constructor(message: string, violation: FieldViolation) {
    super(message, violation);
  }
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

export class Unimplemented extends DomainError {
  readonly code = status.UNIMPLEMENTED;
}

/** Shorthand for the most common violation: a field breaking a stated rule. */
export const invalid = (field: string, constraint: string, message: string, value?: unknown) =>
  new InvalidArgument(message, { field, constraint, value });

/** Anything unexpected, reported to the caller without its text: the log has the detail. */
export class Internal extends DomainError {
  readonly code = status.INTERNAL;
}

import { status } from "@grpc/grpc-js";
import { DomainError, type FieldViolation } from "@inv/platform";

/** The HTTP status of each gRPC code, as Google's API gateways map them. */
const HTTP_STATUS: Partial<Record<status, number>> = {
  [status.INVALID_ARGUMENT]: 400,
  [status.FAILED_PRECONDITION]: 400,
  [status.OUT_OF_RANGE]: 400,
  [status.UNAUTHENTICATED]: 401,
  [status.PERMISSION_DENIED]: 403,
  [status.NOT_FOUND]: 404,
  [status.ALREADY_EXISTS]: 409,
  [status.ABORTED]: 409,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.CANCELLED]: 499,
  [status.UNIMPLEMENTED]: 501,
  [status.UNAVAILABLE]: 503,
  [status.DEADLINE_EXCEEDED]: 504,
};

export const httpStatusOf = (err: DomainError) => (err instanceof EdgeError && err.httpStatus) || (HTTP_STATUS[err.code] ?? 500);

/** Seed 000's error body: the same shape for every failed REST call. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    details: Partial<FieldViolation>;
    timestamp: string;
    request_id: string;
  };
}

export function errorBody(code: status, message: string, violation: FieldViolation | undefined, requestId: string): ErrorBody {
  return {
    error: {
      code: status[code] ?? "UNKNOWN",
      message,
      details: violation ? { field: violation.field, ...(violation.value === undefined ? {} : { value: violation.value }), constraint: violation.constraint } : {},
      timestamp: new Date().toISOString(),
      request_id: requestId,
    },
  };
}

/** An error raised by the edge itself (bad route, bad body): it carries a gRPC code like the services'. */
export class EdgeError extends DomainError {
  constructor(
    readonly code: status,
    message: string,
    violation?: FieldViolation,
    /** When HTTP has a more precise status than the code's usual one (405, 413, 415). */
    readonly httpStatus?: number,
  ) {
    super(message, violation);
  }
}

/** Any error to a DomainError; unknown ones become INTERNAL without their text. */
export function asDomainError(err: unknown, requestId: string): { error: DomainError; unexpected: boolean } {
  if (err instanceof DomainError) return { error: err, unexpected: false };
  return { error: new EdgeError(status.INTERNAL, `internal error (request id ${requestId})`), unexpected: true };
}

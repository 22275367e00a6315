import type { ServerResponse } from "node:http";
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

/**
 * The headers an error answer has besides its body: the challenge RFC 9110 requires with a 401,
 * and Retry-After when the error says when to retry (the edge's rate limits, or a service's
 * google.rpc.RetryInfo, which remoteError reads into retryAfterSeconds).
 */
export function setErrorHeaders(res: ServerResponse, err: DomainError, httpStatus: number) {
  if (httpStatus === 401) res.setHeader("www-authenticate", "Bearer");
  if (err.retryAfterSeconds !== undefined) res.setHeader("retry-after", err.retryAfterSeconds);
}

/** One field at fault, as the error body shows it. */
export interface ViolationBody {
  field: string;
  value?: unknown;
  constraint: string;
  description: string;
}

/**
 * The error body, the same for every failed REST call: `reason` says what happened more
 * precisely than the code (e.g. "ETAG_MISMATCH", "UNIT_CYCLE"), `details` is the first field at
 * fault ({} when none), `violations` every one of them (absent when none).
 */
export interface ErrorBody {
  error: {
    code: string;
    reason: string;
    message: string;
    details: Partial<Omit<ViolationBody, "description">>;
    violations?: ViolationBody[];
    timestamp: string;
    request_id: string;
  };
}

/** What the error body needs of an error: any DomainError has it. */
export type ErrorLike = Pick<DomainError, "code" | "message" | "violations"> & { reason?: string };

/** The one builder of the error body, for REST responses and for logs alike. */
export function errorBody(err: ErrorLike, requestId: string): ErrorBody {
  const [first] = err.violations;
  const violations = err.violations.map((v) => ({ ...fieldAndValue(v), constraint: v.constraint, description: v.description ?? err.message }));
  return {
    error: {
      code: status[err.code] ?? "UNKNOWN",
      reason: err.reason ?? status[err.code] ?? "UNKNOWN",
      message: err.message,
      details: first ? { ...fieldAndValue(first), constraint: first.constraint } : {},
      ...(violations.length > 0 && { violations }),
      timestamp: new Date().toISOString(),
      request_id: requestId,
    },
  };
}

/** Longest JSON of a value echoed back: a whole rejected body is not worth sending back. */
const MAX_ECHO_CHARS = 512;

function fieldAndValue(v: FieldViolation): { field: string; value?: unknown } {
  return echoable(v.value) ? { field: v.field, value: v.value } : { field: v.field };
}

function echoable(value: unknown): boolean {
  if (value === undefined || (typeof value === "number" && !Number.isFinite(value))) return false;
  try {
    return (JSON.stringify(value)?.length ?? Infinity) <= MAX_ECHO_CHARS;
  } catch {
    return false; // cyclic, BigInt, or too deep: never sent back
  }
}

const violationProperties = {
  field: { type: "string", description: 'The request field at fault, as a proto field path (e.g. "warehouse.code").' },
  value: { description: "The offending value, when it is short and safe to echo back." },
  constraint: { type: "string", description: 'The rule it broke, e.g. "required", "pattern", "unique", "range", "unknown_field".' },
};

/** The JSON Schema of ErrorBody, as the OpenAPI document publishes it. */
export const errorBodySchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "reason", "message", "details", "timestamp", "request_id"],
      properties: {
        code: { type: "string", description: 'The gRPC status code name, e.g. "INVALID_ARGUMENT", "NOT_FOUND".' },
        reason: {
          type: "string",
          description:
            'What happened, more precisely than the code (google.rpc.ErrorInfo reason), e.g. "ETAG_MISMATCH", "UNIT_CYCLE"; the code\'s name when nothing more precise applies.',
        },
        message: { type: "string" },
        details: { type: "object", properties: violationProperties, description: "The first field at fault; {} when no field is." },
        violations: {
          type: "array",
          description: "Every field at fault, the first one first; absent when none is.",
          items: {
            type: "object",
            required: ["field", "constraint", "description"],
            properties: { ...violationProperties, description: { type: "string", description: "What is wrong, in a sentence." } },
          },
        },
        timestamp: { type: "string", format: "date-time" },
        request_id: { type: "string", description: "The x-request-id of the request: quote it when reporting a problem." },
      },
    },
  },
};

/** An error raised by the edge itself (bad route, bad body): it carries a gRPC code like the services'. */
export class EdgeError extends DomainError {
  constructor(
    readonly code: status,
    message: string,
    violations?: FieldViolation | readonly FieldViolation[],
    /** When HTTP has a more precise status than the code's usual one (405, 413, 415). */
    readonly httpStatus?: number,
    /** What happened, e.g. "CREDENTIALS_REQUIRED"; the code's name by default. */
    reason?: string,
  ) {
    super(message, violations, reason);
  }
}

/** Any error to a DomainError; unknown ones become INTERNAL without their text. */
export function asDomainError(err: unknown, requestId: string): { error: DomainError; unexpected: boolean } {
  if (err instanceof DomainError) return { error: err, unexpected: false };
  return { error: new EdgeError(status.INTERNAL, `internal error (request id ${requestId})`), unexpected: true };
}

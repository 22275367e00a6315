import { MAX_BODY_BYTES } from "../rest.js";
import type { SchemaObject } from "./schemas.js";

export interface Response {
  description: string;
  content?: Record<string, { schema: SchemaObject }>;
}

export type ResponseOrRef = Response | { $ref: string };

/** The component schema every error response has: the edge's one error body (errorBodySchema). */
export const ERROR_SCHEMA_NAME = "Error";

interface ErrorStatus {
  /** The name of the reusable response in components.responses. */
  readonly name: string;
  readonly description: string;
  /** Whether an operation with this HTTP method can get it (all when omitted). */
  readonly applies?: (httpMethod: string) => boolean;
}

/**
 * Every error status the edge sends for an operation, from the gRPC code of the failure (see
 * httpStatusOf) or from the edge itself (413, 415). 405 is absent: it answers a method no
 * operation has. 499 too: it is logged for a client that went away, which never reads it.
 */
const ERROR_STATUSES: Record<string, ErrorStatus> = {
  "400": {
    name: "BadRequest",
    description:
      "The request is invalid or breaks a rule (INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE): `details` names the first field at fault, `violations` every one.",
  },
  "401": { name: "Unauthenticated", description: "The request carries no valid credentials (UNAUTHENTICATED)." },
  "403": { name: "PermissionDenied", description: "The caller lacks the permission this operation needs (PERMISSION_DENIED)." },
  "404": { name: "NotFound", description: "The resource does not exist (NOT_FOUND)." },
  "409": {
    name: "Conflict",
    description: "The request conflicts with the current state: it already exists (ALREADY_EXISTS), or a concurrent change won (ABORTED: re-read and retry).",
    applies: (method) => method !== "get",
  },
  "413": { name: "PayloadTooLarge", description: `The request body is larger than ${MAX_BODY_BYTES} bytes.` },
  "415": { name: "UnsupportedMediaType", description: "A request body was sent that is not declared as JSON in UTF-8 (content-type)." },
  "429": { name: "TooManyRequests", description: "Too many requests (RESOURCE_EXHAUSTED); retry later." },
  "500": { name: "InternalError", description: "An unexpected error; `request_id` identifies it in the logs." },
  "501": { name: "NotImplemented", description: "The operation is not implemented yet (UNIMPLEMENTED)." },
  "503": { name: "Unavailable", description: "The service behind the edge cannot be reached (UNAVAILABLE); retry with backoff." },
  "504": { name: "GatewayTimeout", description: "The service did not answer within the deadline (DEADLINE_EXCEEDED)." },
};

const errorContent = { "application/json": { schema: { $ref: `#/components/schemas/${ERROR_SCHEMA_NAME}` } } };

/** The reusable error responses, for components.responses. */
export function errorResponseComponents(): Record<string, Response> {
  return Object.fromEntries(Object.values(ERROR_STATUSES).map((s) => [s.name, { description: s.description, content: errorContent }]));
}

/** The error responses of an operation with this (lower-case) HTTP method, by status. */
export function errorResponses(httpMethod: string): Record<string, ResponseOrRef> {
  const applicable = Object.entries(ERROR_STATUSES).filter(([, s]) => s.applies?.(httpMethod) ?? true);
  return Object.fromEntries(applicable.map(([status, s]) => [status, { $ref: `#/components/responses/${s.name}` }]));
}

import { MAX_BODY_BYTES } from "../rest.js";
import type { SchemaObject } from "./schemas.js";

export interface Header {
  description: string;
  schema: SchemaObject;
}

export interface Response {
  description: string;
  headers?: Record<string, Header>;
  content?: Record<string, { schema: SchemaObject }>;
}

export type ResponseOrRef = Response | { $ref: string };

/** The component schema every error response has: the edge's one error body (errorBodySchema). */
export const ERROR_SCHEMA_NAME = "Error";

/** What decides which errors an operation can answer. */
export interface OperationTraits {
  /** Lower-case HTTP method. */
  readonly httpMethod: string;
  /** The RPC's (user.v1.required_permission): "public", "authenticated", a permission, or undefined (refused to all). */
  readonly permission: string | undefined;
}

interface ErrorStatus {
  /** The name of the reusable response in components.responses. */
  readonly name: string;
  readonly description: string;
  readonly headers?: Record<string, Header>;
  /** Whether an operation can get it (all when omitted). */
  readonly applies?: (op: OperationTraits) => boolean;
}

const integerHeader = (description: string): Header => ({ description, schema: { type: "integer", minimum: 0 } });

/** RateLimit-* (IETF draft "RateLimit header fields for HTTP"), sent with a 429 and with answers to calls with a user or key. */
const rateLimitHeaders: Record<string, Header> = {
  "RateLimit-Limit": integerHeader("Requests the bucket that refused the call holds per window."),
  "RateLimit-Remaining": integerHeader("Requests left in that bucket: 0."),
  "RateLimit-Reset": integerHeader("Seconds until that bucket refills."),
};

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
  "401": {
    name: "Unauthenticated",
    description:
      "The credentials are missing, malformed, expired or revoked, or (signing in) wrong (UNAUTHENTICATED). Send an access token (`Authorization: Bearer <jwt>`) or an API key (`X-Api-Key`).",
    headers: { "WWW-Authenticate": { description: "`Bearer`: the scheme to authenticate with.", schema: { type: "string" } } },
  },
  "403": {
    name: "PermissionDenied",
    description: "The caller is signed in but lacks the permission this operation needs (PERMISSION_DENIED).",
    // Public operations check nothing; "authenticated" ones need no particular permission.
    applies: (op) => op.permission !== "public" && op.permission !== "authenticated",
  },
  "404": { name: "NotFound", description: "The resource does not exist (NOT_FOUND)." },
  "409": {
    name: "Conflict",
    description: "The request conflicts with the current state: it already exists (ALREADY_EXISTS), or a concurrent change won (ABORTED: re-read and retry).",
    applies: (op) => op.httpMethod !== "get",
  },
  "413": { name: "PayloadTooLarge", description: `The request body is larger than ${MAX_BODY_BYTES} bytes.` },
  "415": { name: "UnsupportedMediaType", description: "A request body was sent that is not declared as JSON in UTF-8 (content-type)." },
  "429": {
    name: "TooManyRequests",
    description:
      "Too many requests (RESOURCE_EXHAUSTED): the edge's rate limit per client address, user or API key, or a service's own throttle (failed sign-ins). Retry after `Retry-After` seconds.",
    headers: { "Retry-After": integerHeader("Seconds to wait before retrying."), ...rateLimitHeaders },
  },
  "500": { name: "InternalError", description: "An unexpected error; `request_id` identifies it in the logs." },
  "501": { name: "NotImplemented", description: "The operation is not implemented yet (UNIMPLEMENTED)." },
  "503": { name: "Unavailable", description: "The service behind the edge cannot be reached (UNAVAILABLE); retry with backoff." },
  "504": { name: "GatewayTimeout", description: "The service did not answer within the deadline (DEADLINE_EXCEEDED)." },
};

const errorContent = { "application/json": { schema: { $ref: `#/components/schemas/${ERROR_SCHEMA_NAME}` } } };

const OCTET_STREAM = "application/octet-stream";

/** The headers a download gets from the common.v1.DownloadStart of its first message (see sendDownload). */
const downloadHeaders: Record<string, Header> = {
  "Content-Disposition": {
    description: "`attachment; filename=\"…\"`, with `filename*=UTF-8''…` as well for a name that is not plain ASCII.",
    schema: { type: "string" },
  },
  "X-Total-Rows": integerHeader("Data rows the file holds, a header row not counted."),
  "X-Generate-Time": { description: "When the data in the file was read (RFC 3339).", schema: { type: "string", format: "date-time" } },
};

/**
 * The success response of a method answering google.api.HttpBody: the bytes of a file, not
 * JSON. Its media type is the first one the method's comment names in backquotes (e.g.
 * `text/csv`), application/octet-stream when it names none: the service sets the actual one.
 */
export function downloadResponse(streaming: boolean, comment: string | undefined): Response {
  const mediaType = /`([a-z]+\/[\w.+-]+)`/.exec(comment ?? "")?.[1] ?? OCTET_STREAM;
  const description = streaming
    ? "The file, sent as it is read (chunked). An error before the first byte has the usual status and error body; an error after it cuts the response off, so a download that did not end cleanly is incomplete."
    : "The file.";
  return { description, headers: downloadHeaders, content: { [mediaType]: { schema: { type: "string", format: "binary" } } } };
}

/** The reusable error responses, for components.responses. */
export function errorResponseComponents(): Record<string, Response> {
  return Object.fromEntries(
    Object.values(ERROR_STATUSES).map((s) => [s.name, { description: s.description, ...(s.headers && { headers: s.headers }), content: errorContent }]),
  );
}

/** The error responses an operation can answer, by status. */
export function errorResponses(op: OperationTraits): Record<string, ResponseOrRef> {
  const applicable = Object.entries(ERROR_STATUSES).filter(([, s]) => s.applies?.(op) ?? true);
  return Object.fromEntries(applicable.map(([status, s]) => [status, { $ref: `#/components/responses/${s.name}` }]));
}

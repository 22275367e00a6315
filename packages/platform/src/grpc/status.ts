import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { anyPack, anyUnpack, type Duration } from "@bufbuild/protobuf/wkt";
import { Metadata, status, type StatusObject } from "@grpc/grpc-js";
import { encodeBinary } from "../binary.js";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema, type BadRequest, type ErrorInfo } from "@inv/gen/google/rpc/error_details_pb";
import { StatusSchema, type Status as RpcStatus } from "@inv/gen/google/rpc/status_pb";
import { DomainError, type FieldViolation } from "../errors.js";

/** The error domain named in google.rpc.ErrorInfo details. */
export const ERROR_DOMAIN = "inventory-platform";
const DETAILS_KEY = "grpc-status-details-bin";

/**
 * Turns a domain error into a gRPC status. The details travel as google.rpc.Status in
 * `grpc-status-details-bin`: one ErrorInfo (what happened as `reason`, and the first field at
 * fault with its rule and value as plain strings) and, for INVALID_ARGUMENT, a BadRequest listing
 * every field violation, which standard gRPC clients read; a RetryInfo when the caller should
 * wait before trying again.
 */
export function toStatus(err: DomainError): Partial<StatusObject> {
  const metadata = new Metadata();
  metadata.set(DETAILS_KEY, encodeBinary(StatusSchema, rpcStatusOf(err)));
  return { code: err.code, details: err.message, metadata };
}

/** The google.rpc.Status of an error, as toStatus sends it; also for errors reported inside a response (a bulk call's lines). */
export function rpcStatusOf(err: DomainError): RpcStatus {
  const details = [anyPack(ErrorInfoSchema, create(ErrorInfoSchema, errorInfoOf(err)))];
  const badRequest = badRequestOf(err);
  if (badRequest) details.push(anyPack(BadRequestSchema, create(BadRequestSchema, badRequest)));
  if (err.retryAfterSeconds !== undefined)
    details.push(anyPack(RetryInfoSchema, create(RetryInfoSchema, { retryDelay: { seconds: BigInt(err.retryAfterSeconds) } })));
  return create(StatusSchema, { code: err.code, message: err.message, details });
}

/**
 * The google.rpc.ErrorInfo of an error, the same over gRPC and Connect: `reason` says what
 * happened; metadata names the first field at fault, the rule it broke and the offending value
 * (strings as they are, other values as JSON). remoteError reads it back.
 */
export function errorInfoOf(err: DomainError): MessageInitShape<typeof ErrorInfoSchema> {
  const v = err.violation;
  return {
    reason: err.reason,
    domain: ERROR_DOMAIN,
    metadata: v ? { field: v.field, constraint: v.constraint, ...(v.value === undefined ? {} : { value: plainString(v.value) }) } : {},
  };
}

/**
 * The google.rpc.BadRequest of an INVALID_ARGUMENT error, listing every field violation (the
 * same over gRPC and Connect); undefined for other errors and when no field is at fault.
 */
export function badRequestOf(err: DomainError): MessageInitShape<typeof BadRequestSchema> | undefined {
  if (err.code !== status.INVALID_ARGUMENT || err.violations.length === 0) return undefined;
  return { fieldViolations: err.violations.map((v) => ({ field: v.field, description: v.description ?? err.message, reason: v.constraint })) };
}

const plainString = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

/** An error received from another service, carrying its status code, reason and field violations. */
export class RemoteError extends DomainError {
  constructor(
    readonly code: status,
    message: string,
    violations?: readonly FieldViolation[],
    reason?: string,
  ) {
    super(message, violations, reason);
  }
}

/**
 * The error another service answered, as a RemoteError: its status code and message, and our
 * ErrorInfo and BadRequest read back from its details (grpc-status-details-bin).
 */
export function remoteError(code: status, message: string, details: Uint8Array | undefined): RemoteError {
  const { violations, reason, retryAfterSeconds } = detailsFrom(details);
  const remote = new RemoteError(code, message, violations, reason);
  remote.retryAfterSeconds = retryAfterSeconds;
  return remote;
}

const secondsOf = (d: Duration | undefined) => (d ? Math.max(0, Math.ceil(Number(d.seconds) + d.nanos / 1e9)) : undefined);

function detailsFrom(raw: Uint8Array | undefined): { violations: FieldViolation[]; reason?: string; retryAfterSeconds?: number | undefined } {
  if (!raw) return { violations: [] };
  try {
    const rpcStatus = fromBinary(StatusSchema, raw);
    let info: ErrorInfo | undefined;
    let badRequest: BadRequest | undefined;
    let retryAfterSeconds: number | undefined;
    for (const any of rpcStatus.details) {
      info ??= anyUnpack(any, ErrorInfoSchema);
      badRequest ??= anyUnpack(any, BadRequestSchema);
      retryAfterSeconds ??= secondsOf(anyUnpack(any, RetryInfoSchema)?.retryDelay);
    }
    const ours = info?.domain === ERROR_DOMAIN ? info : undefined;
    const first = ours?.metadata.field === undefined ? undefined : ours.metadata;
    const withValue = (v: FieldViolation): FieldViolation => (first && first.field === v.field && first.value !== undefined ? { ...v, value: first.value } : v);
    const violations = badRequest?.fieldViolations.length
      ? badRequest.fieldViolations.map((f) => withValue({ field: f.field, constraint: f.reason, description: f.description }))
      : first
        ? [withValue({ field: first.field!, constraint: first.constraint ?? "" })]
        : [];
    return { violations, retryAfterSeconds, ...(ours ? { reason: ours.reason } : {}) };
  } catch {
    // Undecodable details are ignored: the status code and message still stand.
    return { violations: [] };
  }
}

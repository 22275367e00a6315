import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import { Metadata, status, type ServiceError, type StatusObject } from "@grpc/grpc-js";
import { BadRequestSchema, ErrorInfoSchema } from "@inv/gen/google/rpc/error_details_pb";
import { StatusSchema } from "@inv/gen/google/rpc/status_pb";
import { DomainError, type FieldViolation } from "../errors.js";

/** The error domain named in google.rpc.ErrorInfo details. */
export const ERROR_DOMAIN = "inventory-platform";
const DETAILS_KEY = "grpc-status-details-bin";

/**
 * Turns a domain error into a gRPC status. The field at fault travels as google.rpc details:
 * BadRequest (what standard gRPC clients read) and ErrorInfo carrying field, value and
 * constraint (what the edge turns into seed 000's error body).
 */
export function toStatus(err: DomainError): Partial<StatusObject> {
  const metadata = new Metadata();
  const v = err.violation;
  const details = [];
  if (v) {
    details.push(anyPack(ErrorInfoSchema, create(ErrorInfoSchema, errorInfoOf(v))));
    if (err.code === status.INVALID_ARGUMENT) {
      details.push(
        anyPack(BadRequestSchema, create(BadRequestSchema, { fieldViolations: [{ field: v.field, description: err.message, reason: v.constraint }] })),
      );
    }
  }
  const rpcStatus = create(StatusSchema, { code: err.code, message: err.message, details });
  metadata.set(DETAILS_KEY, Buffer.from(toBinary(StatusSchema, rpcStatus)));
  return { code: err.code, details: err.message, metadata };
}

/**
 * The google.rpc.ErrorInfo that carries a field violation across gRPC and Connect: the field,
 * the rule it broke, and the offending value as JSON. fromServiceError reads it back.
 */
export function errorInfoOf(v: FieldViolation): MessageInitShape<typeof ErrorInfoSchema> {
  return {
    reason: v.constraint.toUpperCase(),
    domain: ERROR_DOMAIN,
    metadata: { field: v.field, constraint: v.constraint, ...(v.value === undefined ? {} : { value: JSON.stringify(v.value) }) },
  };
}

/** An error received from another service, carrying its status code and field violation. */
export class RemoteError extends DomainError {
  constructor(
    readonly code: status,
    message: string,
    violation?: FieldViolation,
  ) {
    super(message, violation);
  }
}

/** Reads a grpc-js client error back into a RemoteError, decoding our ErrorInfo details. */
export function fromServiceError(err: ServiceError): RemoteError {
  return new RemoteError(err.code, err.details || err.message, violationFrom(err.metadata));
}

function violationFrom(metadata: Metadata | undefined): FieldViolation | undefined {
  const raw = metadata?.get(DETAILS_KEY)[0];
  if (!(raw instanceof Buffer)) return undefined;
  try {
    const rpcStatus = fromBinary(StatusSchema, raw);
    for (const any of rpcStatus.details) {
      const info = anyUnpack(any, ErrorInfoSchema);
      if (info?.domain === ERROR_DOMAIN && info.metadata.field !== undefined) {
        const { field, constraint = "", value } = info.metadata;
        return { field, constraint, ...(value === undefined ? {} : { value: JSON.parse(value) as unknown }) };
      }
    }
  } catch {
    // Undecodable details are ignored: the status code and message still stand.
  }
  return undefined;
}

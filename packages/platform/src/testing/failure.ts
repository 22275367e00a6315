import { status } from "@grpc/grpc-js";
import { RemoteError } from "../grpc/status.js";

/** What a call failed with, in the terms tests assert on. */
export interface Failure {
  /** The status code's name, e.g. "INVALID_ARGUMENT". */
  code: string;
  /** google.rpc.ErrorInfo reason, e.g. "ETAG_MISMATCH". */
  reason: string;
  /** The first field at fault and the rule it broke, if any. */
  field: string | undefined;
  constraint: string | undefined;
  /** Every field at fault, and their rules, in order. */
  fields: string[];
  constraints: string[];
  message: string;
  retryAfterSeconds: number | undefined;
}

/** Awaits a call that must fail with an error from the service, and says how it failed. */
export async function failure(call: Promise<unknown>): Promise<Failure> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof RemoteError)) throw new Error(`expected the call to fail with a service error, got ${err === undefined ? "success" : String(err)}`);
  return {
    code: status[err.code],
    reason: err.reason,
    field: err.violation?.field,
    constraint: err.violation?.constraint,
    fields: err.violations.map((v) => v.field),
    constraints: err.violations.map((v) => v.constraint),
    message: err.message,
    retryAfterSeconds: err.retryAfterSeconds,
  };
}

import { status } from "@grpc/grpc-js";
import { DomainError, Internal } from "../errors.js";
import { fromSqlState } from "../sqlstate.js";
import type { DescMethod } from "@bufbuild/protobuf";
import type { CallContext, Interceptor, UnaryCall } from "./handler.js";

/**
 * The one place errors are mapped: typed domain errors pass through, Postgres errors are
 * mapped by SQLSTATE, anything else is logged with the request id and becomes INTERNAL.
 * No stack trace or SQL text leaves the process.
 */
export function toDomainError(err: unknown, ctx: CallContext): DomainError {
  if (err instanceof DomainError) return err;
  const mapped = fromSqlState(err);
  if (mapped) {
    ctx.log.debug({ err }, "database error mapped to %s", status[mapped.code]);
    return mapped;
  }
  ctx.log.error({ err }, "unexpected error");
  return new Internal(`internal error (request id ${ctx.requestId})`);
}

/**
 * The outermost layer of every unary call: errors are mapped in one place (toDomainError), and
 * one line per call is logged with the request id, method, status code and duration (see
 * logCall for levels). One async layer for both: each layer costs a promise per call.
 */
export const callBoundary: Interceptor = (next) => async (request, ctx) => {
  const started = performance.now();
  try {
    const response = await next(request, ctx);
    logCall(ctx, status.OK, started);
    return response;
  } catch (err) {
    const mapped = toDomainError(err, ctx);
    logCall(ctx, mapped.code, started);
    throw mapped;
  }
};

/**
 * Successful calls are logged at debug: a line per call at the default level took about a fifth
 * of a service's CPU under load (bench/README.md). Failures stay visible at info, faults at error.
 */
export function logCall(ctx: CallContext, code: status, started: number) {
  const level = code === status.INTERNAL || code === status.UNKNOWN ? "error" : code === status.OK ? "debug" : "info";
  if (!ctx.logs(level)) return;
  const durationMs = Math.round((performance.now() - started) * 10) / 10;
  ctx.log[level]({ code: status[code], durationMs }, "grpc call");
}

/** Applies interceptors so that the first one listed is the outermost. */
export const chain = (interceptors: readonly Interceptor[], call: UnaryCall, method: DescMethod) =>
  interceptors.reduceRight((next, interceptor) => interceptor(next, method), call);

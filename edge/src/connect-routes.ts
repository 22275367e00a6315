import type { DescService } from "@bufbuild/protobuf";
import { type Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { badRequestOf, errorInfoOf, type Logger } from "@inv/platform";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "@inv/gen/google/rpc/error_details_pb";
import { asDomainError, errorBody } from "./http-errors.js";
import type { Upstreams } from "./upstream.js";

/**
 * Connect and gRPC-Web for every public service: each method forwards to its gRPC service.
 * The request id comes from the edge's own request handling (x-request-id is always set).
 */
export function connectRoutes(services: readonly DescService[], upstreams: Upstreams, log: Logger) {
  return (router: ConnectRouter) => {
    for (const service of services) {
      for (const method of service.methods) {
        const ctxOf = (ctx: HandlerContext) => ({
          requestId: ctx.requestHeader.get("x-request-id") ?? "",
          headers: ctx.requestHeader,
          signal: ctx.signal,
          timeoutMs: ctx.timeoutMs(),
        });
        const fail = (err: unknown, ctx: HandlerContext) => toConnectError(err, ctxOf(ctx).requestId, log);
        if (method.methodKind === "unary") {
          const forward = async (req: unknown, ctx: HandlerContext) => {
            try {
              return await upstreams.unary(method, req, ctxOf(ctx));
            } catch (err) {
              throw fail(err, ctx);
            }
          };
          router.rpc(method, forward as never);
        } else if (method.methodKind === "server_streaming") {
          const forward = async function* (req: unknown, ctx: HandlerContext) {
            try {
              yield* upstreams.serverStream(method, req, ctxOf(ctx));
            } catch (err) {
              throw fail(err, ctx);
            }
          };
          router.rpc(method, forward as never);
        }
      }
    }
  };
}

/**
 * gRPC and Connect share status codes, and the details are those of the gRPC status: ErrorInfo
 * (what happened, the first field at fault) and, for bad input, BadRequest with every field.
 * Anything that is not a domain error is logged with the request id and sent as INTERNAL,
 * without its text, as REST does.
 */
export function toConnectError(err: unknown, requestId: string, log: Logger): ConnectError {
  if (err instanceof ConnectError) return err;
  const { error, unexpected } = asDomainError(err, requestId);
  if (unexpected) log.error({ err, requestId, error: errorBody(error, requestId).error }, "unexpected error at the edge (Connect)");
  const badRequest = badRequestOf(error);
  const retry = error.retryAfterSeconds === undefined ? [] : [{ desc: RetryInfoSchema, value: { retryDelay: { seconds: BigInt(error.retryAfterSeconds) } } }];
  const details = [{ desc: ErrorInfoSchema, value: errorInfoOf(error) }, ...(badRequest ? [{ desc: BadRequestSchema, value: badRequest }] : []), ...retry];
  return new ConnectError(error.message, error.code as number as Code, undefined, details);
}

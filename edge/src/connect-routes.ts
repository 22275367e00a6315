import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { DomainError, errorInfoOf } from "@inv/platform";
import { ErrorInfoSchema } from "@inv/gen/google/rpc/error_details_pb";
import type { Upstreams } from "./upstream.js";

/**
 * Connect and gRPC-Web for every public service: each method forwards to its gRPC service.
 * The request id comes from the edge's own request handling (x-request-id is always set).
 */
export function connectRoutes(services: readonly DescService[], upstreams: Upstreams) {
  return (router: ConnectRouter) => {
    for (const service of services) {
      for (const method of service.methods) {
        const ctxOf = (ctx: HandlerContext) => ({
          requestId: ctx.requestHeader.get("x-request-id") ?? "",
          headers: ctx.requestHeader,
          signal: ctx.signal,
          timeoutMs: ctx.timeoutMs(),
        });
        if (method.methodKind === "unary") {
          const forward = async (req: unknown, ctx: HandlerContext) => {
            try {
              return await upstreams.unary(method, req, ctxOf(ctx));
            } catch (err) {
              throw toConnectError(err);
            }
          };
          router.rpc(method, forward as never);
        } else if (method.methodKind === "server_streaming") {
          const forward = async function* (req: unknown, ctx: HandlerContext) {
            try {
              yield* upstreams.serverStream(method, req, ctxOf(ctx));
            } catch (err) {
              throw toConnectError(err);
            }
          };
          router.rpc(method, forward as never);
        }
      }
    }
  };
}

/** gRPC and Connect share status codes; the field violation travels as ErrorInfo details. */
function toConnectError(err: unknown): ConnectError {
  if (!(err instanceof DomainError)) return new ConnectError("internal error", Code.Internal);
  const details = [{ desc: ErrorInfoSchema, value: errorInfoOf(err) }];
  return new ConnectError(err.message, err.code as number as Code, undefined, details);
}

import type { CallContext } from "../grpc/handler.js";
import type { ServiceIdentity } from "./tokens.js";

/**
 * The metadata of a call this service makes to another while serving `ctx`: the original
 * caller's own credential (so the callee checks the caller's rights, never this service's), this
 * service's identity for the callee, the request id, and where the client is. Without a caller
 * credential (a service acting on its own, e.g. a sweeper) the callee sees this service itself.
 */
export function onBehalfOf(ctx: CallContext, identity: ServiceIdentity, callee: string): Record<string, string> {
  const metadata: Record<string, string> = { ...ctx.caller.credentials, "x-service-token": identity.tokenFor(callee), "x-request-id": ctx.requestId };
  if (ctx.caller.clientIp) metadata["x-client-ip"] = ctx.caller.clientIp;
  if (ctx.caller.userAgent) metadata["x-client-user-agent"] = ctx.caller.userAgent;
  return metadata;
}

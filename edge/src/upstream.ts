import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { GrpcChannel, type CallOptions } from "@inv/platform";

/**
 * Headers the edge passes on to the services: the caller's credentials, and who the client is.
 * The edge's request handler writes x-client-ip and x-client-user-agent itself (over whatever the
 * client sent): the address it saw (see clientAddress) and the user agent, trimmed. The user
 * agent travels as x-client-user-agent because grpc-js replaces a call's user-agent with its own.
 */
const FORWARDED_HEADERS = ["authorization", "x-api-key", "x-client-ip", "x-client-user-agent"] as const;

/** Request headers by lower-case name: a fetch Headers (Connect) or a thin view of node's (REST). */
export interface HeaderSource {
  get(name: string): string | null | undefined;
}

export interface ForwardContext {
  requestId: string;
  headers: HeaderSource;
  signal?: AbortSignal | undefined;
  /** Registers the upstream call's cancel function (see CallOptions.cancelWith). */
  cancelWith?: ((cancel: () => void) => void) | undefined;
  timeoutMs?: number | undefined;
}

/**
 * The gRPC services behind the edge, one channel per service target. The edge forwards a call
 * without knowing what it means: every method of every public service goes the same way.
 */
export class Upstreams {
  private readonly channels = new Map<string, GrpcChannel>();

  /**
   * targets: service → "dns:///host:port"; every call carries the edge's service identity for the
   * process serving the service (`processOf`), which lets the service trust the client address
   * the edge forwards, and never lends the edge any rights of its own.
   */
  constructor(
    services: readonly DescService[],
    targets: (service: DescService) => string,
    deadlineMs: number,
    identity: { token: (service: DescService) => string },
  ) {
    const byTarget = new Map<string, DescService[]>();
    for (const s of services) byTarget.set(targets(s), [...(byTarget.get(targets(s)) ?? []), s]);
    for (const [target, group] of byTarget) {
      const first = group[0]!;
      const channel = new GrpcChannel(target, { deadlineMs, metadata: () => ({ "x-service-token": identity.token(first) }) });
      for (const s of group) this.channels.set(s.typeName, channel);
    }
  }

  unary(method: DescMethod, request: unknown, ctx: ForwardContext) {
    return this.channelOf(method).unary(method, request as never, callOptions(ctx));
  }

  serverStream(method: DescMethod, request: unknown, ctx: ForwardContext) {
    return this.channelOf(method).serverStream(method, request as never, callOptions(ctx));
  }

  /** The channel of a service, for health checks. */
  channel(service: DescService): GrpcChannel {
    return this.channels.get(service.typeName)!;
  }

  close() {
    new Set(this.channels.values()).forEach((c) => c.close());
  }

  private channelOf(method: DescMethod): GrpcChannel {
    const channel = this.channels.get(method.parent.typeName);
    if (!channel) throw new Error(`no upstream for ${method.parent.typeName}`);
    return channel;
  }
}

function callOptions(ctx: ForwardContext): CallOptions {
  const metadata: Record<string, string> = { "x-request-id": ctx.requestId };
  for (const name of FORWARDED_HEADERS) {
    const value = ctx.headers.get(name);
    if (value) metadata[name] = value;
  }
  const options: CallOptions = { metadata };
  if (ctx.signal) options.signal = ctx.signal;
  if (ctx.cancelWith) options.cancelWith = ctx.cancelWith;
  if (ctx.timeoutMs) options.deadlineMs = ctx.timeoutMs;
  return options;
}

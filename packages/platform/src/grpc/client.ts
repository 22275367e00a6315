import {
  create,
  fromBinary,
  type DescMethod,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  type DescService,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import { encodeBinary } from "../binary.js";
import { methodPath } from "./adapter.js";
import { CallFailure, Http2Transport, type CallSpec, type Resolve } from "./http2-transport.js";
import { remoteError, type RemoteError } from "./status.js";

export interface CallOptions {
  /** Sent as gRPC metadata, e.g. x-request-id and authorization. */
  metadata?: Record<string, string>;
  /** Overrides the channel's default deadline. */
  deadlineMs?: number;
  signal?: AbortSignal;
  /**
   * Hands the call's cancel function to whatever should stop it early, e.g. a closed HTTP
   * response. Cheaper than a signal where none exists yet: an AbortSignal costs a few µs to make.
   */
  cancelWith?: (cancel: () => void) => void;
}

export interface ChannelOptions {
  /** Deadline of every call unless the call says otherwise. */
  deadlineMs?: number;
  /** Metadata sent with every call (a call's own metadata wins), e.g. a service identity. */
  metadata?: () => Record<string, string>;
  /** How the target's name becomes addresses: DNS unless a test stands in. */
  resolve?: Resolve;
}

/**
 * How calls are retried: only methods the contract marks NO_SIDE_EFFECTS or IDEMPOTENT, only on
 * UNAVAILABLE (the server was not reached, or went away), at most three attempts in all, with
 * jittered backoff from 100 ms doubling to 1 s, and never past the call's deadline. (A call the
 * server refused unseen is also sent once more by the transport, whatever its method.)
 */
export const RETRY_POLICY = { maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 1_000, retryableCodes: [status.UNAVAILABLE] } as const;

export const isRetryable = (method: DescMethod) => method.idempotency !== MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN;

/**
 * A channel to one upstream target that can make any call described by a protobuf-es method,
 * over the platform's own HTTP/2 transport (http2-transport.ts): round robin over every address
 * DNS gives, deadlines, cancellation, the contract's retry policy, and errors as RemoteError.
 */
export class GrpcChannel {
  private readonly transport: Http2Transport;
  private readonly deadlineMs: number;
  private readonly defaultMetadata: (() => Record<string, string>) | undefined;

  /** target: "dns:///host:port" or "host:port". */
  constructor(target: string, opts: ChannelOptions = {}) {
    this.deadlineMs = opts.deadlineMs ?? 5_000;
    this.defaultMetadata = opts.metadata;
    this.transport = new Http2Transport(target, { resolve: opts.resolve });
  }

  unary<I extends DescMethod["input"], O extends DescMethod["output"]>(
    method: DescMethod & { input: I; output: O },
    request: MessageInitShape<I>,
    opts: CallOptions = {},
  ): Promise<MessageShape<O>> {
    const body = encodeBinary(method.input, create(method.input, request as never));
    const spec = this.specOf(opts, Date.now() + (opts.deadlineMs ?? this.deadlineMs));
    return this.attempt<O>(method, body, spec).catch((err: unknown) =>
      isRetryable(method) ? this.retry<O>(method, body, spec, err, 1) : Promise.reject(toRemote(err)),
    );
  }

  /** One try of a unary call. */
  private attempt<O extends DescMethod["output"]>(method: DescMethod, body: Uint8Array, spec: CallSpec): Promise<MessageShape<O>> {
    return this.transport.unary(methodPath(method), body, spec).then((bytes) => decoded(method.output, bytes) as MessageShape<O>);
  }

  /** Tries again after an UNAVAILABLE, while attempts and the deadline allow; the last error otherwise. */
  private async retry<O extends DescMethod["output"]>(
    method: DescMethod,
    body: Uint8Array,
    spec: CallSpec,
    err: unknown,
    attempts: number,
  ): Promise<MessageShape<O>> {
    const backoff = Math.min(RETRY_POLICY.initialBackoffMs * 2 ** (attempts - 1), RETRY_POLICY.maxBackoffMs) * (0.5 + Math.random() / 2);
    const retryable = err instanceof CallFailure && (RETRY_POLICY.retryableCodes as readonly status[]).includes(err.code);
    if (!retryable || attempts >= RETRY_POLICY.maxAttempts || Date.now() + backoff >= spec.deadline || spec.signal?.aborted) throw toRemote(err);
    await new Promise((resolve) => setTimeout(resolve, backoff));
    try {
      return await this.attempt<O>(method, body, spec);
    } catch (next) {
      return this.retry<O>(method, body, spec, next, attempts + 1);
    }
  }

  async *serverStream<I extends DescMethod["input"], O extends DescMethod["output"]>(
    method: DescMethod & { input: I; output: O },
    request: MessageInitShape<I>,
    opts: CallOptions = {},
  ): AsyncIterable<MessageShape<O>> {
    const body = encodeBinary(method.input, create(method.input, request as never));
    const spec = this.specOf(opts, opts.deadlineMs ? Date.now() + opts.deadlineMs : Number.POSITIVE_INFINITY);
    try {
      for await (const bytes of this.transport.serverStream(methodPath(method), body, spec)) yield decoded(method.output, bytes) as MessageShape<O>;
    } catch (err) {
      throw toRemote(err);
    }
  }

  close() {
    this.transport.close();
  }

  private specOf(opts: CallOptions, deadline: number): CallSpec {
    return { metadata: metadataOf(opts, this.defaultMetadata), deadline, signal: opts.signal, cancelWith: opts.cancelWith };
  }
}

/** A response message from its bytes; bytes that are no such message are the server's fault (INTERNAL). */
function decoded(schema: DescMethod["output"], bytes: Uint8Array) {
  try {
    return fromBinary(schema, bytes);
  } catch (err) {
    throw new CallFailure(status.INTERNAL, `the server's answer is no ${schema.typeName}: ${(err as Error).message}`);
  }
}

function toRemote(err: unknown): RemoteError {
  if (err instanceof CallFailure) return remoteError(err.code, err.message || `the call ended with ${status[err.code] ?? `status ${err.code}`}`, err.details);
  return remoteError(status.INTERNAL, err instanceof Error ? err.message : String(err), undefined);
}

function metadataOf(opts: CallOptions, defaults: (() => Record<string, string>) | undefined): Record<string, string> {
  if (!defaults) return opts.metadata ?? {};
  return opts.metadata ? { ...defaults(), ...opts.metadata } : defaults();
}

/** A typed client: one promise-returning (or async-iterable) function per method of the service. */
export type GrpcClient<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary<infer I, infer O>
    ? (request: MessageInitShape<I>, opts?: CallOptions) => Promise<MessageShape<O>>
    : S["method"][K] extends DescMethodServerStreaming<infer I, infer O>
      ? (request: MessageInitShape<I>, opts?: CallOptions) => AsyncIterable<MessageShape<O>>
      : never;
};

export function createGrpcClient<S extends DescService>(service: S, channel: GrpcChannel): GrpcClient<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) {
    client[method.localName] =
      method.methodKind === "server_streaming"
        ? (req: never, opts?: CallOptions) => channel.serverStream(method, req, opts)
        : (req: never, opts?: CallOptions) => channel.unary(method, req, opts);
  }
  return client as GrpcClient<S>;
}

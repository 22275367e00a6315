import {
  create,
  type DescMethod,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  type DescService,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { methodDefinition } from "./adapter.js";
import { fromServiceError } from "./status.js";

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
}

/** Service config: round_robin over every address DNS returns (Cloud Map gives one per task). */
const SERVICE_CONFIG = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });

/**
 * How calls are retried: only methods the contract marks NO_SIDE_EFFECTS or IDEMPOTENT, only on
 * UNAVAILABLE (the server was not reached, or went away), at most three attempts in all, with
 * jittered backoff from 100 ms doubling to 1 s, and never past the call's deadline.
 *
 * The channel retries by itself rather than through grpc-js's retry support: grpc-js wraps every
 * call of a retryable method in a call that buffers its messages for a possible retry, and that
 * cost 5 to 15 µs of CPU per call in a client microbenchmark (bench/README.md, round 3), paid by
 * every call for the rare one that fails.
 */
export const RETRY_POLICY = { maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 1_000, retryableCodes: [grpc.status.UNAVAILABLE] } as const;

export const isRetryable = (method: DescMethod) => method.idempotency !== MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN;

/** A connection to one upstream target that can make any call described by a protobuf-es method. */
export class GrpcChannel {
  private readonly client: grpc.Client;
  private readonly deadlineMs: number;
  private readonly defaultMetadata: (() => Record<string, string>) | undefined;

  /** target: "dns:///host:port" (or any grpc-js target). */
  constructor(target: string, opts: ChannelOptions = {}) {
    this.deadlineMs = opts.deadlineMs ?? 5_000;
    this.defaultMetadata = opts.metadata;
    this.client = new grpc.Client(target, grpc.credentials.createInsecure(), {
      "grpc.service_config": SERVICE_CONFIG,
      "grpc.enable_retries": 0,
    });
  }

  unary<I extends DescMethod["input"], O extends DescMethod["output"]>(
    method: DescMethod & { input: I; output: O },
    request: MessageInitShape<I>,
    opts: CallOptions = {},
  ): Promise<MessageShape<O>> {
    const message = create(method.input, request as never);
    const deadline = Date.now() + (opts.deadlineMs ?? this.deadlineMs);
    return this.attempt<O>(method, message, opts, deadline).catch((err: unknown) =>
      isRetryable(method) ? this.retry<O>(method, message, opts, deadline, err, 1) : Promise.reject(fromServiceError(err as grpc.ServiceError)),
    );
  }

  /** One try of a unary call. */
  private attempt<O extends DescMethod["output"]>(method: DescMethod, message: unknown, opts: CallOptions, deadline: number): Promise<MessageShape<O>> {
    const def = definitionOf(method);
    return new Promise((resolve, reject) => {
      const call = this.client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        message,
        metadataOf(opts, this.defaultMetadata),
        { deadline },
        (err, response) => (err ? reject(err) : resolve(response as MessageShape<O>)),
      );
      cancelOn(opts, () => call.cancel());
    });
  }

  /** Tries again after an UNAVAILABLE, while attempts and the deadline allow; the last error otherwise. */
  private async retry<O extends DescMethod["output"]>(
    method: DescMethod,
    message: unknown,
    opts: CallOptions,
    deadline: number,
    err: unknown,
    attempts: number,
  ): Promise<MessageShape<O>> {
    const serviceError = err as grpc.ServiceError;
    const backoff = Math.min(RETRY_POLICY.initialBackoffMs * 2 ** (attempts - 1), RETRY_POLICY.maxBackoffMs) * (0.5 + Math.random() / 2);
    const retryable = (RETRY_POLICY.retryableCodes as readonly grpc.status[]).includes(serviceError.code);
    if (!retryable || attempts >= RETRY_POLICY.maxAttempts || Date.now() + backoff >= deadline || opts.signal?.aborted) throw fromServiceError(serviceError);
    await new Promise((resolve) => setTimeout(resolve, backoff));
    try {
      return await this.attempt<O>(method, message, opts, deadline);
    } catch (next) {
      return this.retry<O>(method, message, opts, deadline, next, attempts + 1);
    }
  }

  async *serverStream<I extends DescMethod["input"], O extends DescMethod["output"]>(
    method: DescMethod & { input: I; output: O },
    request: MessageInitShape<I>,
    opts: CallOptions = {},
  ): AsyncIterable<MessageShape<O>> {
    const def = definitionOf(method);
    const call = this.client.makeServerStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      create(method.input, request as never),
      metadataOf(opts, this.defaultMetadata),
      { deadline: opts.deadlineMs ? Date.now() + opts.deadlineMs : Infinity },
    );
    cancelOn(opts, () => call.cancel());
    try {
      for await (const message of call) yield message as MessageShape<O>;
    } catch (err) {
      throw fromServiceError(err as grpc.ServiceError);
    } finally {
      call.cancel();
    }
  }

  close() {
    this.client.close();
  }
}

// The (de)serializers of a method never change: built once, not on every call.
const definitions = new WeakMap<DescMethod, grpc.MethodDefinition<unknown, unknown>>();
function definitionOf(method: DescMethod) {
  const known = definitions.get(method);
  if (known) return known;
  const def = methodDefinition(method);
  definitions.set(method, def);
  return def;
}

function cancelOn(opts: CallOptions, cancel: () => void) {
  opts.signal?.addEventListener("abort", cancel, { once: true });
  opts.cancelWith?.(cancel);
}

function metadataOf(opts: CallOptions, defaults: (() => Record<string, string>) | undefined) {
  const metadata = new grpc.Metadata();
  if (defaults) {
    const values = defaults();
    for (const key in values) metadata.set(key, values[key]!);
  }
  for (const key in opts.metadata) metadata.set(key, opts.metadata[key]!);
  return metadata;
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

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
  /** Services whose idempotent methods (idempotency_level in the proto) are retried on UNAVAILABLE. */
  services?: readonly DescService[];
  /** Metadata sent with every call (a call's own metadata wins), e.g. a service identity. */
  metadata?: () => Record<string, string>;
}

/**
 * Service config: round_robin over every address DNS returns (Cloud Map gives one per task),
 * and retries only for methods the contract marks NO_SIDE_EFFECTS or IDEMPOTENT.
 */
export function serviceConfig(services: readonly DescService[]) {
  const idempotent = services.flatMap((s) =>
    s.methods.filter((m) => m.idempotency !== MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN).map((m) => ({ service: s.typeName, method: m.name })),
  );
  const retryPolicy = {
    maxAttempts: 3,
    initialBackoff: "0.1s",
    maxBackoff: "1s",
    backoffMultiplier: 2,
    retryableStatusCodes: ["UNAVAILABLE"],
  };
  return {
    loadBalancingConfig: [{ round_robin: {} }],
    methodConfig: idempotent.length ? [{ name: idempotent, retryPolicy }] : [],
  };
}

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
      "grpc.service_config": JSON.stringify(serviceConfig(opts.services ?? [])),
      "grpc.enable_retries": 1,
    });
  }

  unary<I extends DescMethod["input"], O extends DescMethod["output"]>(
    method: DescMethod & { input: I; output: O },
    request: MessageInitShape<I>,
    opts: CallOptions = {},
  ): Promise<MessageShape<O>> {
    const def = definitionOf(method);
    const message = create(method.input, request as never);
    return new Promise((resolve, reject) => {
      const call = this.client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        message,
        metadataOf(opts, this.defaultMetadata),
        { deadline: Date.now() + (opts.deadlineMs ?? this.deadlineMs) },
        (err, response) => (err ? reject(fromServiceError(err)) : resolve(response as MessageShape<O>)),
      );
      cancelOn(opts, () => call.cancel());
    });
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

import { randomUUID } from "node:crypto";
import { create, type DescMethod } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation, type ServingStatus } from "grpc-health-check";
import type { Level, Logger } from "pino";
import type { AuditFacts } from "../audit/facts.js";
import type { PendingAuditRow } from "../audit/trail.js";
import { accessGuard, authInterceptor, type AccessControl } from "../auth/interceptor.js";
import { ANONYMOUS_CALLER, type Caller } from "../auth/principal.js";
import type { Db } from "../db.js";
import { type DomainError, InvalidArgument, Unimplemented } from "../errors.js";
import { serviceDefinition, UndecodableRequest } from "./adapter.js";
import type { CallContext, Interceptor, ServiceRegistration, UnaryCall } from "./handler.js";
import { callBoundary, chain, logCall, toDomainError } from "./interceptors.js";
import { reflectionFor } from "./reflection.js";
import { toStatus } from "./status.js";

export interface GrpcServerOptions {
  /** The process name, for logs. */
  name: string;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  services: readonly ServiceRegistration[];
  log: Logger;
  /** Run inside logging, error mapping and the access check, in order (first = outermost). */
  interceptors?: readonly Interceptor[];
  /**
   * Who may call what (docs/decisions/0007-identity-and-access.md). Without it every call is
   * anonymous and nothing is checked: only for tests of the gRPC layer itself.
   */
  access?: AccessControl | undefined;
  /** Writes a call's audit record in the handler's transaction (CallContext.audit). */
  auditInTransaction?: ((tx: Db, ctx: CallContext, facts: AuditFacts | undefined) => Promise<void>) | undefined;
  /** Makes a call's audit record as an outbox row, for the handler to insert (CallContext.auditRow). */
  auditOutboxRow?: ((ctx: CallContext, facts: AuditFacts | undefined) => PendingAuditRow) | undefined;
  /** How long a client connection may live (CONNECTION_AGE below); 0 lets it live for ever. */
  maxConnectionAgeMs?: number | undefined;
  /** How long calls in flight on a connection past its age may still run (CONNECTION_AGE below). */
  connectionAgeGraceMs?: number | undefined;
}

/**
 * Clients find servers by DNS (Cloud Map in AWS, compose's DNS locally), and ask DNS again only
 * when a connection ends (http2-transport.ts, as grpc-js's own client does): a client connected to
 * the first two tasks would never hear of a third that autoscaling adds. So every server ends each
 * connection after a minute (GOAWAY, ±10 % jitter from grpc-js): the client reconnects, asks DNS
 * again, and spreads its calls round robin over every task it now finds, so a new task gets traffic within about a
 * minute and DNS's time to live. Calls in flight when the connection ages out (a long export) may
 * run on for ten more minutes; new calls go to the new connection at once.
 */
export const CONNECTION_AGE = { maxAgeMs: 60_000, graceMs: 600_000 } as const;

export interface RunningGrpcServer {
  readonly port: number;
  /** "127.0.0.1:50051"-style address clients can dial. */
  readonly address: string;
  setServing(serving: boolean): void;
  /** Stops taking calls, lets in-flight calls finish for up to graceMs, then cuts the rest. */
  shutdown(graceMs?: number): Promise<void>;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

type ServerCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

/**
 * The context of one call. What most calls never use is made on first use: the AbortSignal
 * (grpc-js emits "cancelled" after every call, finished or not, and aborting builds a
 * DOMException) and the child logger (successful calls log nothing at the default level).
 */
class ServerCallContext implements CallContext {
  private controller: AbortController | undefined;
  private childLog: Logger | undefined;
  /** Set by the auth interceptor. */
  caller: Caller = ANONYMOUS_CALLER;
  /** Whether the handler recorded this call's audit event in its transaction. */
  audited = false;
  notedAudit: AuditFacts | undefined;

  constructor(
    private readonly call: ServerCall,
    readonly requestId: string,
    readonly method: DescMethod,
    private readonly methodName: string,
    private readonly parentLog: Logger,
    private readonly auditInTransaction: GrpcServerOptions["auditInTransaction"],
    private readonly auditOutboxRow: GrpcServerOptions["auditOutboxRow"],
  ) {}

  get metadata(): grpc.Metadata {
    return this.call.metadata;
  }

  get peer(): string {
    return this.call.getPeer();
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      if (this.call.cancelled) controller.abort();
      else this.call.once("cancelled", () => controller.abort());
    }
    return this.controller.signal;
  }

  logs(level: Level): boolean {
    return this.parentLog.isLevelEnabled(level);
  }

  get log(): Logger {
    this.childLog ??= this.parentLog.child({ requestId: this.requestId, method: this.methodName });
    return this.childLog;
  }

  noteAudit(facts: AuditFacts) {
    this.notedAudit = { ...this.notedAudit, ...facts };
  }

  async audit(tx: Db, facts?: AuditFacts): Promise<void> {
    if (!this.auditInTransaction) return;
    await this.auditInTransaction(tx, this, facts);
    this.audited = true;
  }

  auditRow(facts?: AuditFacts): PendingAuditRow | undefined {
    const pending = this.auditOutboxRow?.(this, facts);
    return (
      pending && {
        row: pending.row,
        written: () => {
          pending.written();
          this.audited = true;
        },
      }
    );
  }

  /** The reply's initial metadata: the request id, for the caller to correlate. */
  replyMetadata(): grpc.Metadata {
    const reply = new grpc.Metadata();
    reply.set("x-request-id", this.requestId);
    return reply;
  }
}

function contextFor(call: ServerCall, method: DescMethod, methodName: string, opts: GrpcServerOptions): ServerCallContext {
  const given = call.metadata.get("x-request-id")[0];
  const requestId = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
  return new ServerCallContext(call, requestId, method, methodName, opts.log, opts.auditInTransaction, opts.auditOutboxRow);
}

function undecodable(request: UndecodableRequest, method: DescMethod): InvalidArgument {
  return new InvalidArgument(`the request is not a valid ${method.input.typeName}: ${request.reason}`, [], "MALFORMED_REQUEST");
}

/** Bytes that decoded to no request message reach no handler, nor any interceptor after this one. */
const refuseUndecodable: Interceptor = (next) => (request, ctx) =>
  request instanceof UndecodableRequest ? Promise.reject(undecodable(request, ctx.method)) : next(request, ctx);

function unimplemented(method: DescMethod): UnaryCall {
  return async () => {
    throw new Unimplemented(`${method.parent.typeName}.${method.name} is not implemented yet`);
  };
}

export async function startGrpcServer(opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const maxAgeMs = opts.maxConnectionAgeMs ?? CONNECTION_AGE.maxAgeMs;
  const server = new grpc.Server(
    maxAgeMs > 0 ? { "grpc.max_connection_age_ms": maxAgeMs, "grpc.max_connection_age_grace_ms": opts.connectionAgeGraceMs ?? CONNECTION_AGE.graceMs } : {},
  );
  const log = opts.log;
  // The access check comes before anything looks at the request: a caller who may not call a
  // method learns nothing about what it accepts.
  const access = opts.access;
  const interceptors = [callBoundary, ...(access ? [authInterceptor(access)] : []), refuseUndecodable, ...(opts.interceptors ?? [])];

  for (const { service, impl } of opts.services) {
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const method of service.methods) {
      const given = impl[method.localName] as ((req: unknown, ctx: CallContext) => unknown) | undefined;
      const methodName = `${method.parent.typeName}/${method.name}`;
      if (method.methodKind === "unary") {
        const call = chain(interceptors, (given as UnaryCall | undefined) ?? unimplemented(method), method);
        handlers[method.localName] = (c: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
          const ctx = contextFor(c, method, methodName, opts);
          // The reply metadata (x-request-id) goes out with the answer, in the same tick: sent
          // when the call started, its HTTP/2 headers were a write of their own.
          call(c.request, ctx).then(
            (response) => {
              c.sendMetadata(ctx.replyMetadata());
              callback(null, create(method.output, response as never));
            },
            (err: DomainError) => {
              c.sendMetadata(ctx.replyMetadata());
              callback(toStatus(err));
            },
          );
        };
      } else if (method.methodKind === "server_streaming") {
        const guard = access ? accessGuard(access, method) : undefined;
        handlers[method.localName] = (c: grpc.ServerWritableStream<unknown, unknown>) => {
          const ctx = contextFor(c, method, methodName, opts);
          c.sendMetadata(ctx.replyMetadata());
          return serveStream(c, ctx, given as StreamImpl | undefined, (m) => create(method.output, m as never), guard);
        };
      }
    }
    server.addService(serviceDefinition(service), handlers);
  }

  const health = new HealthImplementation(statusMap(opts.services, "SERVING"));
  health.addToServer(server);
  reflectionFor(opts.services.map((s) => s.service)).addToServer(server);

  const host = opts.host ?? "0.0.0.0";
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  log.info({ port, services: opts.services.map((s) => s.service.typeName) }, "%s gRPC server listening", opts.name);

  const setServing = (serving: boolean) => {
    for (const [name, state] of Object.entries(statusMap(opts.services, serving ? "SERVING" : "NOT_SERVING"))) {
      health.setStatus(name, state);
    }
  };
  return {
    port,
    address: `${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    setServing,
    shutdown: (graceMs = 10_000) => drain(server, setServing, graceMs),
  };
}

type StreamImpl = (request: unknown, ctx: CallContext) => AsyncIterable<unknown>;

/**
 * Waits until the stream can take more (true) or the call is cancelled (false). A client that
 * goes away while the stream waits never drains it: waiting for 'drain' alone would keep the
 * handler, and whatever it holds (a transaction), alive for good. Leaving the for-await then
 * calls the handler's return(), which runs its `finally`.
 */
function drainedOrCancelled(call: grpc.ServerWritableStream<unknown, unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const drained = () => {
      signal.removeEventListener("abort", cancelled);
      resolve(true);
    };
    const cancelled = () => {
      call.off("drain", drained);
      resolve(false);
    };
    call.once("drain", drained);
    signal.addEventListener("abort", cancelled, { once: true });
  });
}

async function serveStream(
  call: grpc.ServerWritableStream<unknown, unknown>,
  ctx: CallContext,
  impl: StreamImpl | undefined,
  toMessage: (init: unknown) => unknown,
  guard: ((ctx: CallContext) => void | Promise<void>) | undefined,
) {
  const started = performance.now();
  try {
    await guard?.(ctx);
    if (call.request instanceof UndecodableRequest) throw undecodable(call.request, ctx.method);
    if (!impl) throw new Unimplemented(`${ctx.method.parent.typeName}.${ctx.method.name} is not implemented yet`);
    for await (const message of impl(call.request, ctx)) {
      if (ctx.signal.aborted) break;
      if (!call.write(toMessage(message)) && !(await drainedOrCancelled(call, ctx.signal))) break;
    }
    call.end();
    logCall(ctx, grpc.status.OK, started);
  } catch (err) {
    const mapped = toDomainError(err, ctx);
    logCall(ctx, mapped.code, started);
    call.emit("error", toStatus(mapped));
  }
}

function statusMap(services: readonly ServiceRegistration[], state: ServingStatus): Record<string, ServingStatus> {
  return Object.fromEntries([["", state], ...services.map((s) => [s.service.typeName, state])]);
}

async function drain(server: grpc.Server, setServing: (serving: boolean) => void, graceMs: number) {
  setServing(false);
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    force.unref();
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

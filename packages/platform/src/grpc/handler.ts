import type { DescMethod, DescMethodServerStreaming, DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { Metadata } from "@grpc/grpc-js";
import type { Level, Logger } from "pino";
import type { AuditFacts } from "../audit/facts.js";
import type { PendingAuditRow } from "../audit/trail.js";
import type { Caller } from "../auth/principal.js";
import type { Db } from "../db.js";

/** What a handler knows about the call it serves. */
export interface CallContext {
  /** The caller's x-request-id, or one made up for this call. */
  readonly requestId: string;
  readonly method: DescMethod;
  readonly metadata: Metadata;
  /** Aborted when the caller cancels or the deadline passes. */
  readonly signal: AbortSignal;
  /** A logger that stamps every line with the request id and method. */
  readonly log: Logger;
  /** Whether a line at this level would be written, without making the call's logger. */
  logs(level: Level): boolean;
  /** The transport peer, e.g. "ipv4:10.0.0.7:53122". */
  readonly peer: string;
  /** Who is calling, as the auth interceptor established it (anonymous before it runs). */
  readonly caller: Caller;
  /**
   * Records this call's audit event inside the handler's own transaction, so the record commits
   * with the change or not at all (docs/decisions/0007-identity-and-access.md). A mutating call
   * that succeeds without calling it is still recorded, after the fact.
   */
  audit(tx: Db, facts?: AuditFacts): Promise<void>;
  /**
   * This call's audit record as an outbox row, for a handler that makes its change and records
   * it in one statement of its own (a database function). Call `written()` when the statement
   * inserted it: the call then counts as recorded, as after `audit`. Undefined when the service
   * keeps no audit trail.
   */
  auditRow(facts?: AuditFacts): PendingAuditRow | undefined;
  /**
   * Facts for the record the platform writes itself when the call fails (or succeeds without
   * `audit`), e.g. the account a failed sign-in named. Never secrets.
   */
  noteAudit(facts: AuditFacts): void;
  /** What `noteAudit` was told, for the platform's own record. */
  readonly notedAudit: AuditFacts | undefined;
}

type UnaryImpl<M> = M extends DescMethodUnary<infer I, infer O> ? (request: MessageShape<I>, ctx: CallContext) => Promise<MessageInitShape<O>> : never;
type ServerStreamingImpl<M> =
  M extends DescMethodServerStreaming<infer I, infer O> ? (request: MessageShape<I>, ctx: CallContext) => AsyncIterable<MessageInitShape<O>> : never;

/** The handlers of a service, one per method, typed from its protobuf-es descriptor. */
export type ServiceImpl<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary ? UnaryImpl<S["method"][K]> : ServerStreamingImpl<S["method"][K]>;
};

/** A unary call as interceptors see it. */
export type UnaryCall = (request: unknown, ctx: CallContext) => Promise<unknown>;
/**
 * Wraps every unary call of a server, connect-style: `(next) => (request, ctx) => next(request, ctx)`.
 * Composed once per method when the server starts, so per-method work belongs outside the returned function.
 */
export type Interceptor = (next: UnaryCall, method: DescMethod) => UnaryCall;

/** A service and its handlers, ready to be served. Missing handlers answer UNIMPLEMENTED. */
export interface ServiceRegistration {
  readonly service: DescService;
  readonly impl: Partial<Record<string, (request: never, ctx: CallContext) => unknown>>;
}

export function registration<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): ServiceRegistration {
  return { service, impl: impl as ServiceRegistration["impl"] };
}

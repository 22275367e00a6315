import type { DescMethod } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { DomainError, PermissionDenied, Unauthenticated } from "../errors.js";
import type { CallContext, Interceptor } from "../grpc/handler.js";
import { EDGE_PROCESS, SERVICE_PERMISSIONS, type Authenticator } from "./authenticator.js";
import { grants, type Caller } from "./principal.js";
import { AUTHENTICATED, PUBLIC, isAudited, requiredPermission } from "./rules.js";

/** What the contract says about one method, read once when the server starts. */
export interface AccessRule {
  /** "/pkg.Service/Method". */
  readonly path: string;
  /** The declared permission; undefined when the method declares none (refused: default deny). */
  readonly permission: string | undefined;
  /** The method's service is internal in the catalog: only other services may call it. */
  readonly internal: boolean;
  /** A change (not NO_SIDE_EFFECTS): every call is audited. */
  readonly mutating: boolean;
}

export function accessRuleOf(method: DescMethod, internalServices: ReadonlySet<string>): AccessRule {
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    permission: requiredPermission(method),
    internal: internalServices.has(method.parent.typeName),
    mutating: isAudited(method),
  };
}

/** Refuses the call (an error to throw) or lets it through (undefined). */
export function decide(rule: AccessRule, caller: Caller): DomainError | undefined {
  const { permission } = rule;
  if (permission === undefined)
    return new PermissionDenied(`${rule.path} declares no required permission, so no one may call it`, undefined, "NO_PERMISSION_DECLARED");
  const { principal, viaService } = caller;
  if (rule.internal) {
    if (viaService === undefined || viaService === EDGE_PROCESS) return denied(caller, `${rule.path} is internal: only the platform's services may call it`);
    return grants(SERVICE_PERMISSIONS, permission) ? undefined : denied(caller, `services do not hold "${permission}"`);
  }
  if (permission === PUBLIC) return undefined;
  if (principal.kind === "anonymous")
    return new Unauthenticated(`${rule.path} needs credentials: an access token or an API key`, undefined, "CREDENTIALS_REQUIRED");
  if (permission === AUTHENTICATED || grants(principal.permissions, permission)) return undefined;
  return denied(caller, `the caller does not hold the permission "${permission}"`);
}

const denied = (caller: Caller, message: string) =>
  caller.principal.kind === "anonymous" && caller.viaService === undefined
    ? new Unauthenticated(message, undefined, "CREDENTIALS_REQUIRED")
    : new PermissionDenied(message, undefined, "PERMISSION_DENIED");

/** What the interceptor reports to the audit trail; the runtime turns it into records. */
export interface AccessAudit {
  /** A call refused here, before any handler ran. */
  denied(ctx: CallContext, rule: AccessRule, error: DomainError): void;
  /** A mutating call that ended; `recorded` when the handler wrote its record in its transaction. */
  finished(ctx: CallContext, rule: AccessRule, code: status, error: unknown, recorded: boolean): void;
}

/** The call context as the interceptor sets it: the server's context has these. */
interface MutableContext extends CallContext {
  caller: Caller;
  readonly peer: string;
  readonly audited: boolean;
}

export interface AccessControl {
  authenticator: Authenticator;
  internalServices: ReadonlySet<string>;
  audit?: AccessAudit | undefined;
}

/**
 * The access check of one method: sets the caller on the context, or throws (and audits) the
 * refusal. Synchronous when the caller's credentials are all cached (no promise on the hot path).
 */
export function accessGuard(
  control: AccessControl,
  method: DescMethod,
  rule: AccessRule = accessRuleOf(method, control.internalServices),
): (ctx: CallContext) => void | Promise<void> {
  const lenient = rule.permission === PUBLIC && !rule.internal;
  const admit = (ctx: MutableContext, caller: Caller) => {
    ctx.caller = caller;
    const refusal = decide(rule, caller);
    if (refusal) {
      control.audit?.denied(ctx, rule, refusal);
      throw refusal;
    }
  };
  const refused = (ctx: MutableContext, err: unknown): never => {
    if (err instanceof DomainError) control.audit?.denied(ctx, rule, err);
    throw err;
  };
  return (context) => {
    const ctx = context as MutableContext;
    let caller: Caller | Promise<Caller>;
    try {
      caller = control.authenticator.callerOf(ctx.metadata, () => ctx.peer, lenient);
    } catch (err) {
      return refused(ctx, err);
    }
    if (!(caller instanceof Promise)) return admit(ctx, caller);
    return caller.then(
      (found) => admit(ctx, found),
      (err: unknown) => refused(ctx, err),
    );
  };
}

/**
 * The one access check of every service (default deny): who is calling, and whether the
 * contract lets them call this method. Runs first after the call boundary, before any handler;
 * calls that change something are then audited however they end.
 */
export function authInterceptor(control: AccessControl): Interceptor {
  return (next, method) => {
    const rule = accessRuleOf(method, control.internalServices);
    const guard = accessGuard(control, method, rule);
    const audit = rule.mutating ? control.audit : undefined;
    const proceed: typeof next = audit
      ? async (request, context) => {
          const ctx = context as MutableContext;
          try {
            const response = await next(request, ctx);
            audit.finished(ctx, rule, status.OK, undefined, ctx.audited);
            return response;
          } catch (err) {
            audit.finished(ctx, rule, err instanceof DomainError ? err.code : status.INTERNAL, err, false);
            throw err;
          }
        }
      : next;
    return (request, ctx) => {
      const checked = guard(ctx);
      return checked ? checked.then(() => proceed(request, ctx)) : proceed(request, ctx);
    };
  };
}

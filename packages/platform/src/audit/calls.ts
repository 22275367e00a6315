import { status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { AccessAudit } from "../auth/interceptor.js";
import { requiredPermission } from "../auth/rules.js";
import { inTransaction, type Db } from "../db.js";
import { DomainError } from "../errors.js";
import type { CallContext } from "../grpc/handler.js";
import { auditEventOf } from "./event.js";
import type { AuditFacts } from "./facts.js";
import type { AuditTrail } from "./trail.js";

/**
 * How a service's calls reach its audit trail. A handler records a successful change inside its
 * own transaction (CallContext.audit), so the record commits with the change; the access check
 * records every refusal, and every mutating call that failed, or succeeded without recording.
 * A record that cannot be written outside a transaction is logged, not thrown: the call's
 * answer does not change because the trail is down (its outbox is the service's own database).
 */
export function callAudit(service: string, trail: AuditTrail, log: Logger) {
  const eventOf = (ctx: CallContext, code: status, errorMessage?: string, facts?: AuditFacts) =>
    auditEventOf({
      service,
      method: ctx.method,
      permission: requiredPermission(ctx.method) ?? "",
      caller: ctx.caller,
      requestId: ctx.requestId,
      code,
      errorMessage,
      facts,
    });
  const recordAlone = (ctx: CallContext, code: status, error?: unknown) => {
    const message = error instanceof DomainError ? error.message : error === undefined ? undefined : "internal error";
    trail.record(eventOf(ctx, code, message, ctx.notedAudit)).catch((err: unknown) => log.error({ err, requestId: ctx.requestId }, "audit record not written"));
  };
  const access: AccessAudit = {
    denied: (ctx, _rule, error) => recordAlone(ctx, error.code, error),
    finished: (ctx, _rule, code, error, recorded) => {
      if (!(code === status.OK && recorded)) recordAlone(ctx, code, error);
    },
  };
  const inTransaction = (tx: Db, ctx: CallContext, facts: AuditFacts | undefined) => trail.recordInTransaction(tx, eventOf(ctx, status.OK, undefined, facts));
  const outboxRow = (ctx: CallContext, facts: AuditFacts | undefined) => {
    if (!trail.outboxRow) throw new Error(`the audit trail of ${service} has no outbox: record in the transaction instead`);
    return trail.outboxRow(eventOf(ctx, status.OK, undefined, facts));
  };
  return { access, inTransaction, outboxRow };
}

/**
 * Runs a change in one transaction with the call's audit record: both commit, or neither does.
 * `facts` names what changed, from the change's result.
 */
export function audited<T>(db: Db, ctx: CallContext, change: (tx: Db) => Promise<T>, facts: (result: T) => AuditFacts): Promise<T> {
  return inTransaction(db, async (tx) => {
    const result = await change(tx);
    await ctx.audit(tx, facts(result));
    return result;
  });
}

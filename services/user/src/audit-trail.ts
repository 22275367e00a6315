import { randomUUID } from "node:crypto";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { AuditEvent } from "@inv/gen/user/v1/audit_pb";
import type { AuditTrail, Db } from "@inv/platform";
import { auditRowOf } from "./mapping.js";
import { insertAuditEvents } from "./store/audit.js";

/**
 * The user service's own audit trail: where every other service ships its records through a
 * relay, this one writes straight into the table it serves ListAuditEvents from, in the
 * handler's transaction (docs/decisions/0007-identity-and-access.md, "Audit").
 */
export function userAuditTrail(db: Db): AuditTrail {
  const write = async (target: Db, event: AuditEvent) => {
    await insertAuditEvents(target, [auditRowOf(event, event.id || randomUUID(), event.occurTime ?? timestampNow())]);
  };
  return {
    recordInTransaction: write,
    record: (event) => write(db, event),
  };
}

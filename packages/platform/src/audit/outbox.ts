import { AuditEventSchema, type AuditEvent } from "@inv/gen/user/v1/audit_pb";
import { index, integer, text, timestamp, uuid, type PgSchema } from "drizzle-orm/pg-core";
import { messageCodec } from "../binary.js";

/**
 * The outbox a service writes its audit records to, in its own schema and in the same
 * transaction as the change they describe, so a record exists exactly when the change does. The
 * relay (startAuditRelay) ships the rows to the user service and deletes them.
 *
 * Put `export const auditOutbox = auditOutboxTable(mySchema)` in the service's drizzle schema
 * file, then `drizzle-kit generate` writes the migration.
 */
export function auditOutboxTable(schema: PgSchema) {
  return schema.table(
    "audit_outbox",
    {
      /** The event's id: the receiver stores each id once, so shipping a row twice is harmless. */
      id: uuid("id").primaryKey(),
      /** When the call finished; rows ship oldest first. */
      occurTime: timestamp("occur_time", { withTimezone: true, precision: 6 }).notNull(),
      /**
       * The user.v1.AuditEvent as base64 of its protobuf binary: exact, and a plain text column
       * reads the same through postgres.js and PGlite (bytea does not).
       */
      event: text("event").notNull(),
      /** Failed sends so far; drives the backoff. */
      attempts: integer("attempts").notNull().default(0),
      /** Not shipped before this: now for a new row, later while backing off or while a relay holds it. */
      nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
    },
    (t) => [index("audit_outbox_next_attempt_at_idx").on(t.nextAttemptAt)],
  );
}

export type AuditOutboxTable = ReturnType<typeof auditOutboxTable>;

const auditEvents = messageCodec(AuditEventSchema);

/** An event as stored in the outbox's `event` column. */
export const encodeAuditEvent = (event: AuditEvent): string => auditEvents.encode(event);

/** An event read back from the outbox's `event` column. */
export const decodeAuditEvent = (stored: string): AuditEvent => auditEvents.decode(stored);

import { randomUUID } from "node:crypto";
import { clone } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema, type AuditEvent } from "@inv/gen/user/v1/audit_pb";
import type { Db } from "../db.js";
import { encodeAuditEvent, type AuditOutboxTable } from "./outbox.js";

/** Where a service's audit records go. */
export interface AuditTrail {
  /**
   * Records the event in the caller's transaction: it exists if and only if the transaction
   * commits. A failure to record throws, so the change it describes rolls back with it.
   */
  recordInTransaction(tx: Db, event: AuditEvent): Promise<void>;
  /** Records the event on its own, for calls that changed nothing (denials, failures). */
  record(event: AuditEvent): Promise<void>;
  /**
   * The outbox row of the event, for a caller that writes it itself within a statement of its
   * own (a database function that makes a change and records it at once), and what to call once
   * that statement wrote it. Only outbox trails have one.
   */
  outboxRow?(event: AuditEvent): PendingAuditRow;
}

/** An audit record for a statement of the caller's to insert (AuditTrail.outboxRow). */
export interface PendingAuditRow {
  row: AuditOutboxRow;
  /** Tells the trail the row was inserted (its relay then ships it soon). */
  written(): void;
}

/** An audit outbox row as written: what a statement that records an event inserts. */
export interface AuditOutboxRow {
  id: string;
  occurTime: Date;
  /** The event, encoded as the outbox stores it (encodeAuditEvent). */
  event: string;
}

export interface OutboxTrailOptions {
  db: Db;
  table: AuditOutboxTable;
  /**
   * Called after each write, e.g. `() => relay.wake()`, so shipping starts soon rather than at
   * the next poll. After recordInTransaction the transaction may not have committed yet; the
   * relay waits a moment before looking, and its poll catches anything later.
   */
  onWritten?: () => void;
}

/**
 * The trail of every service but the user service: records go to the service's outbox table and
 * the relay ships them. Writing an event twice (same id) is a no-op.
 */
export function outboxTrail(opts: OutboxTrailOptions): AuditTrail {
  const write = async (db: Db, event: AuditEvent) => {
    await db.insert(opts.table).values(rowOf(event)).onConflictDoNothing({ target: opts.table.id });
    opts.onWritten?.();
  };
  return {
    recordInTransaction: (tx, event) => write(tx, event),
    record: (event) => write(opts.db, event),
    outboxRow: (event) => ({ row: rowOf(event), written: () => opts.onWritten?.() }),
  };
}

/** The outbox row of an event; an event without an id (or time) gets one here. */
function rowOf(event: AuditEvent): AuditOutboxRow {
  let stored = event;
  if (!event.id) {
    stored = clone(AuditEventSchema, event);
    stored.id = randomUUID();
  }
  return { id: stored.id, occurTime: stored.occurTime ? timestampDate(stored.occurTime) : new Date(), event: encodeAuditEvent(stored) };
}

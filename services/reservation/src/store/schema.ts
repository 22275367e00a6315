import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, integer, jsonb, pgSchema, smallint, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { auditOutboxTable } from "@inv/platform";

/**
 * The reservation service owns this schema. The stock itself lives in inventory, held by
 * reservation id; a reservation here records the order's side of it and its life cycle.
 */
export const reservationSchema = pgSchema("reservation");

/** Audit records of this service's calls, written with the changes they describe. */
export const auditOutbox = auditOutboxTable(reservationSchema);

/** reservation.v1.ReservationStatus, as stored. */
export const Status = {
  PENDING: 1,
  ACTIVE: 2,
  CONFIRMED: 3,
  FULFILLED: 4,
  CANCELLED: 5,
  EXPIRED: 6,
  FAILED: 7,
} as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

/** The states in which an order's reservation is live: an order has at most one. */
export const LIVE: readonly StatusCode[] = [Status.PENDING, Status.ACTIVE, Status.CONFIRMED, Status.FULFILLED];

/** common.v1.Allocation, as stored in a line. */
export interface AllocationJson {
  warehouseId: string;
  warehouseCode: string;
  locationId: string;
  stockLevelId: string;
  quantity: number;
  rank: number;
  warehousePriority: number;
  availableBefore: number;
  reason: number;
  explanation: string;
}

export interface LineJson {
  lineIndex: number;
  itemId: string;
  sku: string;
  quantity: number;
  /** Where the quantity is held; empty until the hold is taken, and for failed reservations. */
  allocations: AllocationJson[];
  explanation: string;
}

export interface ShortageJson {
  lineIndex: number;
  itemId: string;
  sku: string;
  requested: number;
  available: number;
  reason: number;
}

const at = (name: string) => timestamp(name, { withTimezone: true, precision: 6 });

export const reservations = reservationSchema.table(
  "reservations",
  {
    /** Also the hold's reservation id in inventory. */
    id: uuid("id").primaryKey(),
    orderId: text("order_id").notNull(),
    customerId: text("customer_id").notNull(),
    status: smallint("status").notNull(),
    lines: jsonb("lines").$type<LineJson[]>().notNull(),
    /** common.v1.AllocationStrategy. */
    strategy: smallint("strategy").notNull(),
    allowSplit: boolean("allow_split").notNull(),
    /** The warehouses the caller restricted allocation to; empty: all active ones. */
    warehouseIds: jsonb("warehouse_ids").$type<string[]>().notNull(),
    ttlSeconds: integer("ttl_seconds").notNull(),
    /** sha256 of the cleaned request: a repeat with another payload is refused. */
    payloadHash: text("payload_hash").notNull(),
    /** The caller's request_id (AIP-155), "" when none was given. */
    requestId: text("request_id").notNull().default(""),
    /** While PENDING or ACTIVE; null once confirmed or ended. */
    expireAt: at("expire_at"),
    /** reservation.v1.FailureReason; 0 unless FAILED. */
    failureReason: smallint("failure_reason").notNull().default(0),
    failureMessage: text("failure_message").notNull().default(""),
    shortages: jsonb("shortages").$type<ShortageJson[]>().notNull().default([]),
    cancelReason: text("cancel_reason").notNull().default(""),
    /**
     * A step under way in inventory ("confirm" or "cancel"), set before the call and cleared when
     * its outcome is recorded: one left set (the process died in between) is finished by the sweeper.
     */
    step: text("step").notNull().default(""),
    fulfilReference: text("fulfil_reference").notNull().default(""),
    createdBy: text("created_by").notNull(),
    /** Bumped by every change: a change is made only to the version it read. */
    version: integer("version").notNull().default(1),
    createdAt: at("created_at").notNull().defaultNow(),
    updatedAt: at("updated_at").notNull().defaultNow(),
    confirmedAt: at("confirmed_at"),
    fulfilledAt: at("fulfilled_at"),
    cancelledAt: at("cancelled_at"),
    /** Total quantity over the lines, for reports without unpacking them. */
    totalQuantity: bigint("total_quantity", { mode: "number" }).notNull(),
  },
  (t) => [
    // An order has at most one live reservation; ended ones (cancelled, expired, failed) stay beside it.
    uniqueIndex("reservations_live_order_uq")
      .on(t.orderId)
      .where(sql`${t.status} IN (1, 2, 3, 4)`),
    uniqueIndex("reservations_request_uq").on(t.requestId).where(sql`${t.requestId} <> ''`),
    index("reservations_order_idx").on(t.orderId, t.createdAt),
    index("reservations_created_idx").on(t.createdAt, t.id),
    index("reservations_customer_idx").on(t.customerId, t.createdAt, t.id),
    // What the sweeper looks for: pending and active reservations by expiry, pending ones by age.
    index("reservations_expiry_idx")
      .on(t.expireAt)
      .where(sql`${t.status} IN (1, 2)`),
    // Reservations a cut-off call may have left half-way: PENDING ones, and ones with a step set.
    index("reservations_unsettled_idx")
      .on(t.updatedAt)
      .where(sql`${t.status} = 1 OR ${t.step} <> ''`),
    check("reservations_status_known", sql`${t.status} BETWEEN 1 AND 7`),
    check("reservations_expiry_while_open", sql`(${t.status} IN (1, 2)) = (${t.expireAt} IS NOT NULL)`),
    check("reservations_ttl_positive", sql`${t.ttlSeconds} > 0`),
    check("reservations_step_known", sql`${t.step} IN ('', 'confirm', 'cancel')`),
  ],
);

export type ReservationRow = typeof reservations.$inferSelect;

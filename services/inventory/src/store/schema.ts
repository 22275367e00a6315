import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, integer, jsonb, pgSchema, primaryKey, smallint, text, timestamp, unique, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { auditOutboxTable, idempotencyTable, resourceColumns } from "@inv/platform";

/**
 * The inventory service owns this schema; no other service reads it. The stock invariants live
 * here, in the database, not in the handlers: CHECK constraints keep every level within
 * 0 <= reserved <= on_hand, the ledger cannot be updated or deleted, and a deferred constraint
 * trigger (migration 0001) refuses to commit a change of on_hand or reserved that has no ledger
 * entry describing it.
 */
export const inventorySchema = pgSchema("inventory");

/** Request ids of the Create calls (AIP-155) and idempotency keys of the stock writes. */
export const idempotentRequests = idempotencyTable(inventorySchema);

/** Audit records of this service's calls, written with the changes they describe. */
export const auditOutbox = auditOutboxTable(inventorySchema);

/** Quantities are whole units of the item's unit of measure; sums stay far below 2^53. */
const quantity = (name: string) => bigint(name, { mode: "number" });

export const itemTypes = inventorySchema.table(
  "item_types",
  {
    id: uuid("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    /** inventory.v1.ItemCategory, never UNSPECIFIED (stored as OTHER). */
    category: smallint("category").notNull(),
    createdBy: text("created_by").notNull().default(""),
    ...resourceColumns(),
  },
  (t) => [
    uniqueIndex("item_types_name_live_uq").on(sql`lower(${t.name})`).where(sql`${t.deletedAt} IS NULL`),
    index("item_types_name_idx").on(t.name, t.id),
    check("item_types_category_known", sql`${t.category} BETWEEN 1 AND 7`),
  ],
);

export const items = inventorySchema.table(
  "items",
  {
    id: uuid("id").primaryKey(),
    sku: text("sku").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    itemTypeId: uuid("item_type_id")
      .notNull()
      .references(() => itemTypes.id),
    unitOfMeasure: text("unit_of_measure").notNull().default("EA"),
    /** The price as common.v1.Money; all three null when the item has none. */
    priceCurrency: text("price_currency"),
    priceUnits: bigint("price_units", { mode: "bigint" }),
    priceNanos: integer("price_nanos"),
    imageUrl: text("image_url").notNull().default(""),
    attributes: jsonb("attributes").$type<Record<string, string>>().notNull().default({}),
    /** inventory.v1.ItemStatus: 1 active, 2 inactive, 3 discontinued. */
    status: smallint("status").notNull().default(1),
    defaultReorderPoint: quantity("default_reorder_point").notNull().default(0),
    defaultReorderQuantity: quantity("default_reorder_quantity").notNull().default(0),
    createdBy: text("created_by").notNull().default(""),
    updatedBy: text("updated_by").notNull().default(""),
    ...resourceColumns(),
  },
  (t) => [
    uniqueIndex("items_sku_live_uq").on(t.sku).where(sql`${t.deletedAt} IS NULL`),
    index("items_type_idx").on(t.itemTypeId),
    check("items_status_known", sql`${t.status} BETWEEN 1 AND 3`),
    check("items_reorder_non_negative", sql`${t.defaultReorderPoint} >= 0 AND ${t.defaultReorderQuantity} >= 0`),
    check("items_price_whole", sql`(${t.priceCurrency} IS NULL) = (${t.priceUnits} IS NULL) AND (${t.priceUnits} IS NULL) = (${t.priceNanos} IS NULL)`),
  ],
);

/**
 * One row per item x warehouse x location (location null: stock at the warehouse, at no location).
 * Created by the first write into the place, never deleted: the ledger refers to it. `sequence`
 * counts the level's ledger entries. The SKU is copied in (it never changes) so lists can be
 * ordered by it without a join.
 */
export const stockLevels = inventorySchema.table(
  "stock_levels",
  {
    id: uuid("id").primaryKey(),
    itemId: uuid("item_id")
      .notNull()
      .references(() => items.id),
    sku: text("sku").notNull(),
    warehouseId: uuid("warehouse_id").notNull(),
    locationId: uuid("location_id"),
    onHand: quantity("on_hand").notNull().default(0),
    reserved: quantity("reserved").notNull().default(0),
    reorderPoint: quantity("reorder_point").notNull().default(0),
    reorderQuantity: quantity("reorder_quantity").notNull().default(0),
    sequence: quantity("sequence").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [
    unique("stock_levels_place_uq").on(t.itemId, t.warehouseId, t.locationId).nullsNotDistinct(),
    index("stock_levels_sku_idx").on(t.sku, t.warehouseId, t.locationId),
    index("stock_levels_warehouse_idx").on(t.warehouseId, t.locationId),
    check("stock_levels_on_hand_non_negative", sql`${t.onHand} >= 0`),
    check("stock_levels_reserved_non_negative", sql`${t.reserved} >= 0`),
    check("stock_levels_reserved_within_on_hand", sql`${t.reserved} <= ${t.onHand}`),
    check("stock_levels_reorder_non_negative", sql`${t.reorderPoint} >= 0 AND ${t.reorderQuantity} >= 0`),
  ],
);

/**
 * The append-only ledger: one row per change of a level's on_hand or reserved, written in the
 * same statement as the change. Rows are never updated or deleted (a trigger refuses both).
 * (stock_level_id, level_sequence) is unique, so a level's entries form one gapless chain.
 */
export const movements = inventorySchema.table(
  "movements",
  {
    id: uuid("id").primaryKey(),
    sequence: bigint("sequence", { mode: "number" }).generatedAlwaysAsIdentity().notNull(),
    /** inventory.v1.MovementKind. */
    kind: smallint("kind").notNull(),
    stockLevelId: uuid("stock_level_id")
      .notNull()
      .references(() => stockLevels.id),
    levelSequence: quantity("level_sequence").notNull(),
    itemId: uuid("item_id").notNull(),
    sku: text("sku").notNull(),
    warehouseId: uuid("warehouse_id").notNull(),
    locationId: uuid("location_id"),
    delta: quantity("delta").notNull(),
    reservedDelta: quantity("reserved_delta").notNull(),
    onHandBefore: quantity("on_hand_before").notNull(),
    onHandAfter: quantity("on_hand_after").notNull(),
    reservedBefore: quantity("reserved_before").notNull(),
    reservedAfter: quantity("reserved_after").notNull(),
    actor: text("actor").notNull(),
    reason: text("reason").notNull().default(""),
    reference: text("reference").notNull().default(""),
    reservationId: text("reservation_id").notNull().default(""),
    relatedMovementId: uuid("related_movement_id"),
    idempotencyKey: text("idempotency_key").notNull().default(""),
    requestId: text("request_id").notNull().default(""),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("movements_level_sequence_uq").on(t.stockLevelId, t.levelSequence),
    uniqueIndex("movements_sequence_uq").on(t.sequence),
    index("movements_time_idx").on(t.createdAt, t.sequence),
    index("movements_item_idx").on(t.itemId, t.createdAt, t.sequence),
    index("movements_warehouse_idx").on(t.warehouseId, t.createdAt, t.sequence),
    index("movements_reservation_idx").on(t.reservationId).where(sql`${t.reservationId} <> ''`),
    check("movements_kind_known", sql`${t.kind} BETWEEN 1 AND 8`),
    check("movements_on_hand_arithmetic", sql`${t.onHandAfter} = ${t.onHandBefore} + ${t.delta}`),
    check("movements_reserved_arithmetic", sql`${t.reservedAfter} = ${t.reservedBefore} + ${t.reservedDelta}`),
    check("movements_after_valid", sql`${t.onHandAfter} >= 0 AND ${t.reservedAfter} >= 0 AND ${t.reservedAfter} <= ${t.onHandAfter}`),
    check("movements_changes_something", sql`${t.delta} <> 0 OR ${t.reservedDelta} <> 0`),
    check("movements_level_sequence_positive", sql`${t.levelSequence} >= 1`),
  ],
);

/**
 * The stock set aside for one reservation (inventory.v1.Hold), keyed by reservation id. Its
 * allocations are rows of hold_allocations; `lines` and `shortages` keep the rest of the answer.
 */
export const holds = inventorySchema.table(
  "holds",
  {
    reservationId: text("reservation_id").primaryKey(),
    /** inventory.v1.HoldState: 1 held, 2 released, 3 committed, 4 failed, 5 restocked. */
    state: smallint("state").notNull(),
    /** sha256 of the cleaned HoldStock request, so a repeat with other lines is refused; "" for a release of an unknown id. */
    payloadHash: text("payload_hash").notNull().default(""),
    strategy: smallint("strategy").notNull(),
    allowSplit: boolean("allow_split").notNull(),
    warehouseIds: jsonb("warehouse_ids").$type<string[]>().notNull(),
    /** The merged lines (line index, item, SKU, quantity) without their allocations. */
    lines: jsonb("lines").$type<HoldLineJson[]>().notNull(),
    shortages: jsonb("shortages").$type<ShortageJson[]>().notNull().default([]),
    releaseReason: text("release_reason").notNull().default(""),
    commitReference: text("commit_reference").notNull().default(""),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [index("holds_created_idx").on(t.createdAt, t.reservationId), check("holds_state_known", sql`${t.state} BETWEEN 1 AND 5`)],
);

export interface HoldLineJson {
  lineIndex: number;
  itemId: string;
  sku: string;
  quantity: number;
}

export interface ShortageJson {
  lineIndex: number;
  itemId: string;
  sku: string;
  requested: number;
  available: number;
  /** common.v1.ShortageReason. */
  reason: number;
}

/** Where a hold's quantity sits: one row per stock level it was taken from. */
export const holdAllocations = inventorySchema.table(
  "hold_allocations",
  {
    reservationId: text("reservation_id")
      .notNull()
      .references(() => holds.reservationId),
    stockLevelId: uuid("stock_level_id")
      .notNull()
      .references(() => stockLevels.id),
    lineIndex: integer("line_index").notNull(),
    itemId: uuid("item_id").notNull(),
    warehouseId: uuid("warehouse_id").notNull(),
    warehouseCode: text("warehouse_code").notNull().default(""),
    locationId: uuid("location_id"),
    quantity: quantity("quantity").notNull(),
    rank: integer("rank").notNull(),
    warehousePriority: integer("warehouse_priority").notNull(),
    availableBefore: quantity("available_before").notNull(),
    /** common.v1.AllocationReason. */
    reason: smallint("reason").notNull(),
    explanation: text("explanation").notNull(),
  },
  (t) => [
    primaryKey({ name: "hold_allocations_pk", columns: [t.reservationId, t.stockLevelId] }),
    index("hold_allocations_level_idx").on(t.stockLevelId),
    index("hold_allocations_item_idx").on(t.itemId),
    index("hold_allocations_warehouse_idx").on(t.warehouseId),
    check("hold_allocations_quantity_positive", sql`${t.quantity} > 0`),
  ],
);

/**
 * Tracked units (migration 0003): pieces that contain each other to any depth. root_id, depth and
 * the place are the tree's facts; a composite foreign key from each unit to its parent keeps them
 * consistent (same root and place, depth one more), which also makes cycles impossible. The key
 * and its generated columns (parent_depth, place_key) are declared in the migration only.
 */
export const trackedUnits = inventorySchema.table(
  "tracked_units",
  {
    id: uuid("id").primaryKey(),
    itemId: uuid("item_id")
      .notNull()
      .references(() => items.id),
    serialNumber: text("serial_number").notNull().default(""),
    label: text("label").notNull().default(""),
    description: text("description").notNull().default(""),
    attributes: jsonb("attributes").$type<Record<string, string>>().notNull().default({}),
    parentId: uuid("parent_id"),
    rootId: uuid("root_id").notNull(),
    depth: integer("depth").notNull().default(0),
    warehouseId: uuid("warehouse_id").notNull(),
    locationId: uuid("location_id"),
    lastMovedAt: timestamp("last_moved_at", { withTimezone: true, precision: 6 }),
    createdBy: text("created_by").notNull().default(""),
    ...resourceColumns(),
  },
  (t) => [
    uniqueIndex("tracked_units_serial_live_uq").on(t.itemId, t.serialNumber).where(sql`${t.deletedAt} IS NULL AND ${t.serialNumber} <> ''`),
    index("tracked_units_root_idx").on(t.rootId).where(sql`${t.deletedAt} IS NULL`),
    index("tracked_units_place_idx").on(t.warehouseId, t.locationId).where(sql`${t.deletedAt} IS NULL`),
    index("tracked_units_item_idx").on(t.itemId),
  ],
);

/** Where units went: one row per unit per change of place (append-only, like the ledger). */
export const unitMoves = inventorySchema.table("unit_moves", {
  id: uuid("id").primaryKey(),
  sequence: bigint("sequence", { mode: "number" }).generatedAlwaysAsIdentity().notNull(),
  unitId: uuid("unit_id").notNull(),
  itemId: uuid("item_id").notNull(),
  fromWarehouseId: uuid("from_warehouse_id").notNull(),
  fromLocationId: uuid("from_location_id"),
  toWarehouseId: uuid("to_warehouse_id").notNull(),
  toLocationId: uuid("to_location_id"),
  /** inventory.v1.UnitMoveCause: 1 direct, 2 parent moved, 3 assigned. */
  cause: smallint("cause").notNull(),
  parentMoveId: uuid("parent_move_id"),
  originMoveId: uuid("origin_move_id").notNull(),
  movedBy: text("moved_by").notNull(),
  notes: text("notes").notNull().default(""),
  requestId: text("request_id").notNull().default(""),
  movedAt: timestamp("moved_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
});

/** Changes of parent: ASSIGN, UNASSIGN, REASSIGN (append-only). */
export const unitAssignments = inventorySchema.table("unit_assignments", {
  id: uuid("id").primaryKey(),
  sequence: bigint("sequence", { mode: "number" }).generatedAlwaysAsIdentity().notNull(),
  childUnitId: uuid("child_unit_id").notNull(),
  previousParentId: uuid("previous_parent_id"),
  parentId: uuid("parent_id"),
  /** inventory.v1.AssignmentAction: 1 assign, 2 unassign, 3 reassign. */
  action: smallint("action").notNull(),
  actor: text("actor").notNull(),
  notes: text("notes").notNull().default(""),
  requestId: text("request_id").notNull().default(""),
  createdAt: timestamp("created_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
});

export type ItemTypeRow = typeof itemTypes.$inferSelect;
export type ItemRow = typeof items.$inferSelect;
export type StockLevelRow = typeof stockLevels.$inferSelect;
export type MovementRow = typeof movements.$inferSelect;
export type HoldRow = typeof holds.$inferSelect;
export type HoldAllocationRow = typeof holdAllocations.$inferSelect;
export type TrackedUnitRow = typeof trackedUnits.$inferSelect;
export type UnitMoveRow = typeof unitMoves.$inferSelect;
export type UnitAssignmentRow = typeof unitAssignments.$inferSelect;

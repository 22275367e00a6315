import { sql } from "drizzle-orm";
import { boolean, check, index, integer, jsonb, pgSchema, text, uniqueIndex, uuid, type AnyPgColumn } from "drizzle-orm/pg-core";
import { auditOutboxTable, idempotencyTable, resourceColumns } from "@inv/platform";

/** The warehouse service owns this schema; no other service reads it. */
export const warehouseSchema = pgSchema("warehouse");

/** Request ids of the Create calls (AIP-155), kept for the retention period the contract states. */
export const idempotentRequests = idempotencyTable(warehouseSchema);

/** Audit records of this service's calls, written with the changes they describe and shipped to the user service. */
export const auditOutbox = auditOutboxTable(warehouseSchema);

export interface AddressJson {
  line1?: string;
  line2?: string;
  city?: string;
  region?: string;
  postalCode?: string;
  countryCode?: string;
}

export const warehouses = warehouseSchema.table(
  "warehouses",
  {
    id: uuid("id").primaryKey(),
    code: text("code").notNull(),
    name: text("name").notNull(),
    address: jsonb("address").$type<AddressJson>().notNull().default({}),
    priority: integer("priority").notNull().default(0),
    active: boolean("active").notNull().default(true),
    ...resourceColumns(),
  },
  (t) => [
    uniqueIndex("warehouses_code_live_uq").on(t.code).where(sql`${t.deletedAt} IS NULL`),
    check("warehouses_priority_range", sql`${t.priority} BETWEEN 0 AND 1000`),
  ],
);

export const locationTypes = warehouseSchema.table(
  "location_types",
  {
    id: uuid("id").primaryKey(),
    code: text("code").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    ...resourceColumns(),
  },
  (t) => [uniqueIndex("location_types_code_live_uq").on(t.code).where(sql`${t.deletedAt} IS NULL`)],
);

export const locations = warehouseSchema.table(
  "locations",
  {
    id: uuid("id").primaryKey(),
    warehouseId: uuid("warehouse_id")
      .notNull()
      .references(() => warehouses.id),
    parentId: uuid("parent_id").references((): AnyPgColumn => locations.id),
    locationTypeId: uuid("location_type_id")
      .notNull()
      .references(() => locationTypes.id),
    code: text("code").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    /** Codes from the top-level location down to this one, "/"-joined; fixed at create (code and parent are immutable). */
    path: text("path").notNull(),
    active: boolean("active").notNull().default(true),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    ...resourceColumns(),
  },
  (t) => [
    uniqueIndex("locations_code_live_uq").on(t.warehouseId, t.code).where(sql`${t.deletedAt} IS NULL`),
    index("locations_warehouse_idx").on(t.warehouseId, t.id),
    index("locations_parent_idx").on(t.parentId),
    index("locations_type_idx").on(t.locationTypeId),
    check("locations_not_own_parent", sql`${t.parentId} IS DISTINCT FROM ${t.id}`),
  ],
);

export type WarehouseRow = typeof warehouses.$inferSelect;
export type LocationTypeRow = typeof locationTypes.$inferSelect;
export type LocationRow = typeof locations.$inferSelect;

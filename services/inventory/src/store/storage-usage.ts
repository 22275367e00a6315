import { and, eq, sql } from "drizzle-orm";
import type { Db } from "@inv/platform";
import { stockLevels } from "./schema.js";

/** What is stored in a warehouse, or in one location of it. */
export interface StorageUsage {
  /** Stock levels there with on_hand > 0 or reserved > 0. */
  nonzeroStockLevelCount: bigint;
  onHand: bigint;
  reserved: bigint;
}

/**
 * Sums the stock levels of a warehouse (every level in it, at a location or not), or of exactly
 * one location of it (not its child locations: a location with live children cannot be deleted
 * anyway). One aggregate over stock_levels_warehouse_idx; the counts travel as text so that
 * neither driver rounds them.
 */
export async function storageUsage(db: Db, place: { warehouseId: string; locationId: string | null }): Promise<StorageUsage> {
  const [row] = await db
    .select({
      nonzero: sql<string>`count(*) FILTER (WHERE ${stockLevels.onHand} > 0 OR ${stockLevels.reserved} > 0)::text`,
      onHand: sql<string>`coalesce(sum(${stockLevels.onHand}), 0)::text`,
      reserved: sql<string>`coalesce(sum(${stockLevels.reserved}), 0)::text`,
    })
    .from(stockLevels)
    .where(and(eq(stockLevels.warehouseId, place.warehouseId), place.locationId === null ? undefined : eq(stockLevels.locationId, place.locationId)));
  return { nonzeroStockLevelCount: BigInt(row?.nonzero ?? "0"), onHand: BigInt(row?.onHand ?? "0"), reserved: BigInt(row?.reserved ?? "0") };
}

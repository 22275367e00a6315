import type { Db } from "@inv/platform";
import { and, asc, desc, eq, gt, gte, inArray, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import { findItem, findLiveItemBySku } from "./items.js";
import { items, movements, stockLevels, type ItemRow, type MovementRow, type StockLevelRow } from "./schema.js";

/** An item named by id or by SKU (the live item with it). */
import type { ItemRef } from "../domain/item-rules.js";

export type { ItemRef };

const itemWhere = (ref: ItemRef) => ("id" in ref ? eq(items.id, ref.id) : and(eq(items.sku, ref.sku), isNull(items.deletedAt)));

/** The item, deleted or not (by id), or the live one with the SKU. */
export const findItemByRef = (db: Db, ref: ItemRef): Promise<ItemRow | undefined> => ("id" in ref ? findItem(db, ref.id) : findLiveItemBySku(db, ref.sku));

/**
 * The item, key-share-locked until the transaction ends: a stock write takes this before it
 * touches a level, and DeleteItem's update lock waits for it, so an item cannot be deleted
 * while stock is being put into it (and its stock check then sees that stock).
 */
export async function lockItemByRef(tx: Db, ref: ItemRef): Promise<ItemRow | undefined> {
  const [row] = await tx.select().from(items).where(itemWhere(ref)).for("key share");
  return row;
}

/** A level with its item's status, which its stock status depends on. */
export interface LevelWithStatus {
  level: StockLevelRow;
  itemStatus: number;
}

const withStatus = (db: Db) => db.select({ level: stockLevels, itemStatus: items.status }).from(stockLevels).innerJoin(items, eq(items.id, stockLevels.itemId));

export async function findLevel(db: Db, id: string): Promise<LevelWithStatus | undefined> {
  const [row] = await withStatus(db).where(eq(stockLevels.id, id));
  return row;
}

export const placeCondition = (p: { itemId: string; warehouseId: string; locationId: string | null }) =>
  and(
    eq(stockLevels.itemId, p.itemId),
    eq(stockLevels.warehouseId, p.warehouseId),
    p.locationId === null ? isNull(stockLevels.locationId) : eq(stockLevels.locationId, p.locationId),
  );

export async function findLevelAt(db: Db, p: { itemId: string; warehouseId: string; locationId: string | null }): Promise<StockLevelRow | undefined> {
  const [row] = await db.select().from(stockLevels).where(placeCondition(p));
  return row;
}

/** Every level of an item, by warehouse then location (warehouse-level stock first). */
export async function levelsOfItem(db: Db, itemId: string): Promise<StockLevelRow[]> {
  return db.select().from(stockLevels).where(eq(stockLevels.itemId, itemId)).orderBy(asc(stockLevels.warehouseId), sql`${stockLevels.locationId} NULLS FIRST`);
}

const NIL = "00000000-0000-0000-0000-000000000000";
/** The keyset of the level list: SKU, item, warehouse, location (none sorts first). */
const levelKey = sql`(${stockLevels.sku}, ${stockLevels.itemId}, ${stockLevels.warehouseId}, coalesce(${stockLevels.locationId}, ${NIL}::uuid))`;

export interface LevelFilter {
  itemId?: string | undefined;
  warehouseId?: string | undefined;
  locationId?: string | undefined;
  itemTypeId?: string | undefined;
  /** Stock statuses to keep; empty keeps all. */
  statuses: number[];
  nonzeroOnly: boolean;
}

export type LevelCursor = [sku: string, itemId: string, warehouseId: string, locationId: string];

export const levelCursorOf = (l: StockLevelRow): LevelCursor => [l.sku, l.itemId, l.warehouseId, l.locationId ?? NIL];

/** The SQL form of the stock status rules (stock-mapping.ts stockStatus), for filtering lists. */
const statusSql = sql`CASE WHEN ${items.status} = 3 THEN 4
  WHEN ${stockLevels.onHand} - ${stockLevels.reserved} <= 0 THEN 3
  WHEN ${stockLevels.onHand} - ${stockLevels.reserved} <= ${stockLevels.reorderPoint} THEN 2 ELSE 1 END`;

export async function listLevels(db: Db, filter: LevelFilter, after: LevelCursor | undefined, limit: number): Promise<LevelWithStatus[]> {
  return withStatus(db)
    .where(
      and(
        filter.itemId ? eq(stockLevels.itemId, filter.itemId) : undefined,
        filter.warehouseId ? eq(stockLevels.warehouseId, filter.warehouseId) : undefined,
        filter.locationId ? eq(stockLevels.locationId, filter.locationId) : undefined,
        filter.itemTypeId ? eq(items.itemTypeId, filter.itemTypeId) : undefined,
        filter.statuses.length > 0 ? inArray(statusSql, filter.statuses) : undefined,
        filter.nonzeroOnly ? or(gt(stockLevels.onHand, 0), gt(stockLevels.reserved, 0)) : undefined,
        after ? sql`${levelKey} > (${after[0]}, ${after[1]}::uuid, ${after[2]}::uuid, ${after[3]}::uuid)` : undefined,
      ),
    )
    .orderBy(asc(stockLevels.sku), asc(stockLevels.itemId), asc(stockLevels.warehouseId), sql`coalesce(${stockLevels.locationId}, ${NIL}::uuid)`)
    .limit(limit);
}

export async function findMovement(db: Db, id: string): Promise<MovementRow | undefined> {
  const [row] = await db.select().from(movements).where(eq(movements.id, id));
  return row;
}

export interface MovementFilter {
  itemId?: string | undefined;
  warehouseId?: string | undefined;
  locationId?: string | undefined;
  stockLevelId?: string | undefined;
  kinds: number[];
  start?: Date | undefined;
  end?: Date | undefined;
  reference?: string | undefined;
  reservationId?: string | undefined;
  actor?: string | undefined;
  newestFirst: boolean;
}

/** The keyset of the ledger: the entry's time in microseconds since the epoch, then its sequence. */
export type MovementCursor = [micros: string, sequence: number];

const micros = sql<string>`(extract(epoch from ${movements.createdAt}) * 1000000)::bigint::text`;

export async function listMovements(
  db: Db,
  filter: MovementFilter,
  after: MovementCursor | undefined,
  limit: number,
): Promise<{ row: MovementRow; cursor: MovementCursor }[]> {
  const key = sql`((extract(epoch from ${movements.createdAt}) * 1000000)::bigint, ${movements.sequence})`;
  const cursorSql = after ? sql`(${after[0]}::bigint, ${after[1]}::bigint)` : undefined;
  const conditions: (SQL | undefined)[] = [
    filter.itemId ? eq(movements.itemId, filter.itemId) : undefined,
    filter.warehouseId ? eq(movements.warehouseId, filter.warehouseId) : undefined,
    filter.locationId ? eq(movements.locationId, filter.locationId) : undefined,
    filter.stockLevelId ? eq(movements.stockLevelId, filter.stockLevelId) : undefined,
    filter.kinds.length > 0 ? inArray(movements.kind, filter.kinds) : undefined,
    filter.start ? gte(movements.createdAt, filter.start) : undefined,
    filter.end ? lt(movements.createdAt, filter.end) : undefined,
    filter.reference ? eq(movements.reference, filter.reference) : undefined,
    filter.reservationId ? eq(movements.reservationId, filter.reservationId) : undefined,
    filter.actor ? eq(movements.actor, filter.actor) : undefined,
    cursorSql ? (filter.newestFirst ? sql`${key} < ${cursorSql}` : sql`${key} > ${cursorSql}`) : undefined,
  ];
  const order = filter.newestFirst ? [desc(movements.createdAt), desc(movements.sequence)] : [asc(movements.createdAt), asc(movements.sequence)];
  const found = await db
    .select({ row: movements, micros })
    .from(movements)
    .where(and(...conditions))
    .orderBy(...order)
    .limit(limit);
  return found.map((f) => ({ row: f.row, cursor: [f.micros, f.row.sequence] }));
}

/** Available stock of items per warehouse: sums over each item's levels there. */
export interface WarehouseTotals {
  itemId: string;
  warehouseId: string;
  onHand: number;
  reserved: number;
}

export async function totalsByWarehouse(db: Db, itemIds: string[], warehouseIds?: string[]): Promise<WarehouseTotals[]> {
  if (itemIds.length === 0) return [];
  const found = await db
    .select({
      itemId: stockLevels.itemId,
      warehouseId: stockLevels.warehouseId,
      onHand: sql<string>`sum(${stockLevels.onHand})`,
      reserved: sql<string>`sum(${stockLevels.reserved})`,
    })
    .from(stockLevels)
    .where(and(inArray(stockLevels.itemId, itemIds), warehouseIds ? inArray(stockLevels.warehouseId, warehouseIds) : undefined))
    .groupBy(stockLevels.itemId, stockLevels.warehouseId);
  return found.map((f) => ({ itemId: f.itemId, warehouseId: f.warehouseId, onHand: Number(f.onHand), reserved: Number(f.reserved) }));
}

/** Live items by id or SKU, for baskets. */
export async function itemsByRefs(db: Db, ids: string[], skus: string[]): Promise<ItemRow[]> {
  if (ids.length === 0 && skus.length === 0) return [];
  return db
    .select()
    .from(items)
    .where(or(ids.length > 0 ? inArray(items.id, ids) : undefined, skus.length > 0 ? and(inArray(items.sku, skus), isNull(items.deletedAt)) : undefined));
}

/** Changes a level's reorder settings (not its quantities: those change only with a ledger entry). */
export async function updateReorder(db: Db, id: string, changes: { reorderPoint?: number; reorderQuantity?: number }): Promise<StockLevelRow | undefined> {
  const [row] = await db
    .update(stockLevels)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(stockLevels.id, id))
    .returning();
  return row;
}

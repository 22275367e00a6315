import type { Db } from "@inv/platform";
import { and, asc, eq, exists, inArray, lt, sql, type SQL } from "drizzle-orm";
import { holdAllocations, holds, stockLevels, type HoldAllocationRow, type HoldRow, type StockLevelRow } from "./schema.js";

export interface StoredHold {
  hold: HoldRow;
  allocations: HoldAllocationRow[];
}

const allocationsOf = (db: Db, ids: string[]) =>
  ids.length === 0
    ? Promise.resolve([])
    : db
        .select()
        .from(holdAllocations)
        .where(inArray(holdAllocations.reservationId, ids))
        .orderBy(asc(holdAllocations.lineIndex), asc(holdAllocations.stockLevelId));

export async function findHold(db: Db, reservationId: string): Promise<StoredHold | undefined> {
  const [hold] = await db.select().from(holds).where(eq(holds.reservationId, reservationId));
  return hold && { hold, allocations: await allocationsOf(db, [reservationId]) };
}

/** The hold, update-locked until the transaction ends: release, commit and restock take this first. */
export async function lockHold(tx: Db, reservationId: string): Promise<StoredHold | undefined> {
  const [hold] = await tx.select().from(holds).where(eq(holds.reservationId, reservationId)).for("update");
  return hold && { hold, allocations: await allocationsOf(tx, [reservationId]) };
}

/**
 * Records a hold unless one exists for the reservation: the row when this call recorded it. Of
 * concurrent calls for one reservation, the others wait on the uncommitted key, then find it.
 */
export async function insertHold(tx: Db, row: typeof holds.$inferInsert): Promise<HoldRow | undefined> {
  const [inserted] = await tx.insert(holds).values(row).onConflictDoNothing().returning();
  return inserted;
}

export async function insertAllocations(tx: Db, rows: (typeof holdAllocations.$inferInsert)[]): Promise<void> {
  if (rows.length > 0) await tx.insert(holdAllocations).values(rows);
}

export async function setHoldState(
  tx: Db,
  reservationId: string,
  change: { state: number; releaseReason?: string; commitReference?: string },
): Promise<HoldRow> {
  const [row] = await tx
    .update(holds)
    .set({ ...change, updatedAt: sql`now()` })
    .where(eq(holds.reservationId, reservationId))
    .returning();
  return row!;
}

/** Every level of these items in these warehouses: what a hold plans from. */
export async function levelsFor(db: Db, itemIds: string[], warehouseIds: string[]): Promise<StockLevelRow[]> {
  if (itemIds.length === 0 || warehouseIds.length === 0) return [];
  return db
    .select()
    .from(stockLevels)
    .where(and(inArray(stockLevels.itemId, itemIds), inArray(stockLevels.warehouseId, warehouseIds)));
}

export interface HoldFilter {
  states: number[];
  itemId?: string | undefined;
  warehouseId?: string | undefined;
  createdBefore?: Date | undefined;
}

export type HoldCursor = [createdAtMicros: string, reservationId: string];

const micros = sql<string>`(extract(epoch from ${holds.createdAt}) * 1000000)::bigint::text`;

/** One page of holds in creation order, with their allocations. */
export async function listHolds(
  db: Db,
  filter: HoldFilter,
  after: HoldCursor | undefined,
  limit: number,
): Promise<{ stored: StoredHold; cursor: HoldCursor }[]> {
  const key = sql`((extract(epoch from ${holds.createdAt}) * 1000000)::bigint, ${holds.reservationId})`;
  const allocated = (cond: SQL) =>
    exists(
      db
        .select({ one: sql`1` })
        .from(holdAllocations)
        .where(and(eq(holdAllocations.reservationId, holds.reservationId), cond)),
    );
  const found = await db
    .select({ hold: holds, micros })
    .from(holds)
    .where(
      and(
        filter.states.length > 0 ? inArray(holds.state, filter.states) : undefined,
        filter.itemId ? allocated(eq(holdAllocations.itemId, filter.itemId)) : undefined,
        filter.warehouseId ? allocated(eq(holdAllocations.warehouseId, filter.warehouseId)) : undefined,
        filter.createdBefore ? lt(holds.createdAt, filter.createdBefore) : undefined,
        after ? sql`${key} > (${after[0]}::bigint, ${after[1]})` : undefined,
      ),
    )
    .orderBy(asc(holds.createdAt), asc(holds.reservationId))
    .limit(limit);
  const allocations = await allocationsOf(
    db,
    found.map((f) => f.hold.reservationId),
  );
  return found.map((f) => ({
    stored: { hold: f.hold, allocations: allocations.filter((a) => a.reservationId === f.hold.reservationId) },
    cursor: [f.micros, f.hold.reservationId],
  }));
}

import { rows, valueList, type AuditOutboxRow, type Db } from "@inv/platform";
import { and, asc, eq, exists, inArray, lt, sql, type SQL } from "drizzle-orm";
import { holdAllocations, holds, type HoldAllocationRow, type HoldRow } from "./schema.js";

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

/** What a hold is planned from. */
export interface HoldPlanning {
  /** Whether the reservation has a hold already (then it is a retry, or lost a race). */
  held: boolean;
  /** The live items the lines name, by id or by SKU. */
  items: { id: string; sku: string; status: number }[];
  /** Every level of those items in the given warehouses. */
  levels: { id: string; itemId: string; warehouseId: string; locationId: string | null; available: number }[];
}

/** The reservation, the items (by id or by SKU) and the warehouses a hold is planned from. */
export interface PlanningQuery {
  reservationId: string;
  itemIds: string[];
  skus: string[];
  warehouseIds: string[];
}

/**
 * What each of `queries` is planned from, read in one statement (one snapshot) for all of them:
 * the union of what they name is read, then each gets its own part.
 */
export async function readHoldPlannings(db: Db, queries: PlanningQuery[]): Promise<HoldPlanning[]> {
  const union = (pick: (q: PlanningQuery) => string[]) => [...new Set(queries.flatMap(pick))];
  const reservationIds = union((q) => [q.reservationId]);
  const itemIds = union((q) => q.itemIds);
  const skus = union((q) => q.skus);
  const warehouseIds = union((q) => q.warehouseIds);
  const [row] = await rows<{ held: string[]; items: HoldPlanning["items"]; levels: LevelJson[] }>(
    db,
    sql`
    WITH found AS (
      SELECT i.id, i.sku, i.status FROM inventory.items i
      WHERE i.deleted_at IS NULL AND (i.id IN ${valueList(itemIds, "uuid")} OR i.sku IN ${valueList(skus)})
    )
    SELECT
      (SELECT coalesce(json_agg(h.reservation_id), '[]') FROM inventory.holds h WHERE h.reservation_id IN ${valueList(reservationIds)}) AS held,
      (SELECT coalesce(json_agg(found), '[]') FROM found) AS items,
      (SELECT coalesce(json_agg(json_build_object(
          'id', l.id, 'item_id', l.item_id, 'warehouse_id', l.warehouse_id, 'location_id', l.location_id,
          'available', l.on_hand - l.reserved)), '[]')
        FROM inventory.stock_levels l
        WHERE l.item_id IN (SELECT id FROM found) AND l.warehouse_id IN ${valueList(warehouseIds, "uuid")}) AS levels`,
  );
  if (!row) throw new Error("the hold planning read returned no row");
  const held = new Set(row.held);
  const levels = row.levels.map((l) => ({
    id: l.id,
    itemId: l.item_id,
    warehouseId: l.warehouse_id,
    locationId: l.location_id,
    available: Number(l.available),
  }));
  return queries.map((q) => {
    const items = row.items.filter((i) => q.itemIds.includes(i.id) || q.skus.includes(i.sku));
    return {
      held: held.has(q.reservationId),
      items,
      levels: levels.filter((l) => items.some((i) => i.id === l.itemId) && q.warehouseIds.includes(l.warehouseId)),
    };
  });
}

interface LevelJson {
  id: string;
  item_id: string;
  warehouse_id: string;
  location_id: string | null;
  available: number;
}

/** A planned hold, as take_holds records it. */
export interface HoldToTake {
  hold: Omit<typeof holds.$inferInsert, "createdAt" | "updatedAt">;
  /** In any order: the levels are changed in level id order. */
  allocations: (HoldAllocationRow & { movementId: string })[];
  actor: string;
  requestId: string;
  audit: AuditOutboxRow | undefined;
}

export type TakeOutcome = { taken: true; createdAt: Date } | { taken: false; why: "held" | "stale" };

/**
 * Records planned holds and reserves their allocations, in one statement (the database function
 * take_holds, migrations 0002 and 0004); each hold is taken whole or not at all. A hold is not
 * taken when its reservation has a hold already ("held"), or a level no longer has its planned
 * quantity ("stale"). The outcomes are in the order of `takes`.
 */
export async function takeHolds(db: Db, takes: HoldToTake[]): Promise<TakeOutcome[]> {
  const found = await rows<{ nth: number; outcome: string }>(
    db,
    sql`SELECT nth, outcome FROM inventory.take_holds(${JSON.stringify(takes.map(takeJson))}::jsonb)`,
  );
  const outcomes = new Map(found.map((r) => [Number(r.nth), r.outcome]));
  return takes.map((_, i) => {
    const outcome = outcomes.get(i + 1);
    if (outcome === undefined) throw new Error(`take_holds said nothing of hold ${i + 1} of ${takes.length}`);
    return outcome === "held" || outcome === "stale" ? { taken: false, why: outcome } : { taken: true, createdAt: new Date(outcome) };
  });
}

/** A hold as take_holds reads it: the rows with the tables' own column names. */
function takeJson(t: HoldToTake) {
  const h = t.hold;
  return {
    hold: {
      reservation_id: h.reservationId,
      state: h.state,
      payload_hash: h.payloadHash ?? "",
      strategy: h.strategy,
      allow_split: h.allowSplit,
      warehouse_ids: h.warehouseIds,
      lines: h.lines,
      shortages: h.shortages ?? [],
    },
    allocations: t.allocations.map((a) => ({
      reservation_id: a.reservationId,
      stock_level_id: a.stockLevelId,
      line_index: a.lineIndex,
      item_id: a.itemId,
      warehouse_id: a.warehouseId,
      warehouse_code: a.warehouseCode,
      location_id: a.locationId,
      quantity: a.quantity,
      rank: a.rank,
      warehouse_priority: a.warehousePriority,
      available_before: a.availableBefore,
      reason: a.reason,
      explanation: a.explanation,
      movement_id: a.movementId,
    })),
    actor: t.actor,
    request_id: t.requestId,
    ...(t.audit ? { audit: { id: t.audit.id, occur_time: t.audit.occurTime.toISOString(), event: t.audit.event } } : {}),
  };
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

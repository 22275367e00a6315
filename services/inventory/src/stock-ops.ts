import { Aborted, messageCodec, runOnce, type Cache, type Db } from "@inv/platform";
import type { Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import { itemDeleted, itemNotFound, refusalError } from "./domain/refusals.js";
import { applyAt, explainRefusal, type Applied, type Change, type NewLevel, type Place } from "./store/levels.js";
import type { StockLevel } from "@inv/gen/inventory/v1/stock_pb";
import { idempotentRequests, type ItemRow, type StockLevelRow } from "./store/schema.js";
import { lockItemByRef, type ItemRef } from "./store/stock-reads.js";
import type { ItemFields } from "./domain/item-rules.js";

/** How often a change is tried again when its condition failed but holds when looked at: a concurrent change made room. */
const ATTEMPTS = 5;

/** What a refused change was asked to do, for its error. */
export interface Wanted {
  /** The request field with the quantity (or delta). */
  field: string;
  /** The request field with the expected on_hand, for ABORTED. */
  expectedField: string;
  /** The change in words, e.g. "an adjustment of -5". */
  wanted: string;
}

/**
 * Applies one change to the level at a place, or throws the error that says why it cannot be
 * applied (ABORTED for a stale compare-and-set, FAILED_PRECONDITION for too little stock).
 */
export async function changeStock(tx: Db, place: Place, change: Change, create: NewLevel | undefined, wanted: Wanted): Promise<Applied> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const applied = await applyAt(tx, place, change, create);
    if (applied) return applied;
    const refusal = await explainRefusal(tx, place, change);
    if (refusal.kind !== "retry") throw refusalError(refusal, wanted);
  }
  throw new Aborted("the stock level kept changing while the change was applied; retry", undefined, "CONTENDED");
}

/** The live item a stock write names, key-share-locked for the rest of the transaction. */
export async function lockLiveItem(tx: Db, ref: ItemRef, fields: ItemFields): Promise<ItemRow> {
  const item = await lockItemByRef(tx, ref);
  if (!item) throw itemNotFound(ref, fields);
  if (item.deletedAt) throw itemDeleted(item.id, fields);
  return item;
}

/** What a level created by a write starts with: the item's default reorder settings. */
export const newLevelOf = (item: ItemRow): NewLevel => ({
  sku: item.sku,
  reorderPoint: item.defaultReorderPoint,
  reorderQuantity: item.defaultReorderQuantity,
});

/**
 * Runs a stock write once per idempotency key (kept 24 hours, per RPC): the first call does the
 * work and stores its response in the same transaction; a retry with the same payload gets that
 * response with `replayed` set, one with another payload ALREADY_EXISTS.
 */
export async function onceByKey<T extends Message & { replayed: boolean }>(
  db: Db,
  scope: string,
  key: string,
  payload: unknown,
  schema: GenMessage<T>,
  work: (tx: Db) => Promise<T>,
): Promise<T> {
  const codec = messageCodec(schema);
  const { value, replayed } = await runOnce(db, { table: idempotentRequests, scope, requestId: key, field: "idempotency_key", payload, codec }, work);
  if (replayed) value.replayed = true;
  return value;
}

/** Cache keys of stock reads, and their invalidation after a write. */
export const stockKeys = {
  level: (id: string) => `level:${id}`,
  place: (p: Place) => `place:${p.itemId}:${p.warehouseId}:${p.locationId ?? "-"}`,
  summary: (itemId: string) => `summary:${itemId}`,
};

export async function invalidateStock(cache: Cache, levels: readonly { id: string; itemId: string; warehouseId: string; locationId: string | null }[]) {
  const keys = levels.flatMap((l) => [stockKeys.level(l.id), stockKeys.place(l), stockKeys.summary(l.itemId)]);
  if (keys.length > 0) await cache.invalidate(...new Set(keys));
}

/** The audit facts of a change to a level. */
export const levelFacts = (level: StockLevelRow, details: Record<string, unknown>) => ({
  resourceType: "StockLevel",
  resourceId: level.id,
  details: { itemId: level.itemId, warehouseId: level.warehouseId, locationId: level.locationId ?? "", ...details },
});

/** Drops the cached reads of these levels (as answered to a caller), after a write changed them. */
export async function invalidateLevels(cache: Cache, ...levels: (StockLevel | undefined)[]) {
  await invalidateStock(
    cache,
    levels
      .filter((l): l is StockLevel => !!l && l.id !== "")
      .map((l) => ({ id: l.id, itemId: l.itemId, warehouseId: l.warehouseId, locationId: l.locationId || null })),
  );
}

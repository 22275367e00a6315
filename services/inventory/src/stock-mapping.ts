import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ItemStatus } from "@inv/gen/inventory/v1/item_pb";
import { MovementSchema, StockLevelSchema, StockStatus, type Movement, type StockLevel } from "@inv/gen/inventory/v1/stock_pb";
import type { MovementRow, StockLevelRow } from "./store/schema.js";

/**
 * The status rules: DISCONTINUED if the item is; else OUT_OF_STOCK with nothing available; else
 * LOW_STOCK at or below the reorder point; else IN_STOCK.
 */
export function stockStatus(available: number, reorderPoint: number, itemStatus: number): StockStatus {
  if (itemStatus === ItemStatus.DISCONTINUED) return StockStatus.DISCONTINUED;
  if (available <= 0) return StockStatus.OUT_OF_STOCK;
  if (available <= reorderPoint) return StockStatus.LOW_STOCK;
  return StockStatus.IN_STOCK;
}

export const toStockLevel = (row: StockLevelRow, itemStatus: number): StockLevel =>
  create(StockLevelSchema, {
    id: row.id,
    itemId: row.itemId,
    sku: row.sku,
    warehouseId: row.warehouseId,
    locationId: row.locationId ?? "",
    onHand: BigInt(row.onHand),
    reserved: BigInt(row.reserved),
    available: BigInt(row.onHand - row.reserved),
    reorderPoint: BigInt(row.reorderPoint),
    reorderQuantity: BigInt(row.reorderQuantity),
    status: stockStatus(row.onHand - row.reserved, row.reorderPoint, itemStatus),
    sequence: BigInt(row.sequence),
    createTime: timestampFromDate(row.createdAt),
    updateTime: timestampFromDate(row.updatedAt),
  });

export const toMovement = (row: MovementRow): Movement =>
  create(MovementSchema, {
    id: row.id,
    sequence: BigInt(row.sequence),
    kind: row.kind,
    stockLevelId: row.stockLevelId,
    levelSequence: BigInt(row.levelSequence),
    itemId: row.itemId,
    sku: row.sku,
    warehouseId: row.warehouseId,
    locationId: row.locationId ?? "",
    delta: BigInt(row.delta),
    reservedDelta: BigInt(row.reservedDelta),
    onHandBefore: BigInt(row.onHandBefore),
    onHandAfter: BigInt(row.onHandAfter),
    reservedBefore: BigInt(row.reservedBefore),
    reservedAfter: BigInt(row.reservedAfter),
    actor: row.actor,
    reason: row.reason,
    reference: row.reference,
    reservationId: row.reservationId,
    relatedMovementId: row.relatedMovementId ?? "",
    idempotencyKey: row.idempotencyKey,
    requestId: row.requestId,
    createTime: timestampFromDate(row.createdAt),
  });

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  InventoryStatusRowSchema,
  InventoryStatusTotalSchema,
  ItemCountRowSchema,
  LowStockRowSchema,
  MovementKindTotalSchema,
  MovementReportRowSchema,
  type InventoryStatusRow,
  type InventoryStatusTotal,
  type ItemCountRow,
  type LowStockRow,
  type MovementKindTotal,
  type MovementReportRow,
} from "@inv/gen/inventory/v1/report_pb";
import { toStockLevel } from "./stock-mapping.js";
import type * as store from "./store/reports.js";

/** Report rows as the database returns them → the contract's messages. Quantities arrive as text. */

export const toInventoryStatusRow = (r: store.InventoryStatusRow): InventoryStatusRow =>
  create(InventoryStatusRowSchema, {
    warehouseId: r.warehouse_id,
    warehouseCode: r.warehouse_code,
    locationId: r.location_id ?? "",
    locationPath: r.location_path,
    itemId: r.item_id,
    sku: r.sku,
    itemName: r.item_name,
    itemTypeId: r.item_type_id,
    onHand: BigInt(r.on_hand),
    reserved: BigInt(r.reserved),
    available: BigInt(r.available),
    status: Number(r.status),
    reorderPoint: BigInt(r.reorder_point),
    trackedUnitCount: BigInt(r.tracked_unit_count),
  });

export const toInventoryStatusTotal = (r: store.InventoryStatusTotalRow): InventoryStatusTotal =>
  create(InventoryStatusTotalSchema, {
    warehouseId: r.warehouse_id,
    warehouseCode: r.warehouse_code,
    locationId: r.location_id ?? "",
    locationPath: r.location_id ? r.location_path : "",
    itemCount: BigInt(r.item_count),
    onHand: BigInt(r.on_hand),
    reserved: BigInt(r.reserved),
    available: BigInt(r.available),
    lowStockCount: BigInt(r.low_stock_count),
    outOfStockCount: BigInt(r.out_of_stock_count),
    trackedUnitCount: BigInt(r.tracked_unit_count),
  });

export const toMovementReportRow = (r: store.MovementReportRow): MovementReportRow =>
  create(MovementReportRowSchema, {
    time: timestampFromDate(new Date(r.time)),
    source: Number(r.source),
    recordId: r.record_id,
    movementKind: Number(r.movement_kind),
    moveCause: Number(r.move_cause),
    itemId: r.item_id,
    sku: r.sku,
    itemName: r.item_name,
    unitId: r.unit_id ?? "",
    fromWarehouseId: r.from_warehouse_id ?? "",
    fromLocationId: r.from_location_id ?? "",
    warehouseId: r.warehouse_id,
    locationId: r.location_id ?? "",
    delta: BigInt(r.delta),
    reservedDelta: BigInt(r.reserved_delta),
    onHandAfter: BigInt(r.on_hand_after),
    actor: r.actor,
    reason: r.reason,
    reference: r.reference,
  });

export const toMovementKindTotal = (r: store.MovementTotalRow): MovementKindTotal =>
  create(MovementKindTotalSchema, {
    source: Number(r.source),
    movementKind: Number(r.movement_kind),
    moveCause: Number(r.move_cause),
    count: BigInt(r.count),
    deltaSum: BigInt(r.delta_sum ?? "0"),
  });

export const toItemCountRow = (r: store.ItemCountRow | undefined): ItemCountRow =>
  create(ItemCountRowSchema, {
    itemTypeId: r?.item_type_id ?? "",
    itemTypeName: r?.item_type_name ?? "",
    locationTypeId: r?.location_type_id ?? "",
    locationTypeName: r?.location_type_name ?? "",
    itemCount: BigInt(r?.item_count ?? "0"),
    onHand: BigInt(r?.on_hand ?? "0"),
    reserved: BigInt(r?.reserved ?? "0"),
    trackedUnitCount: BigInt(r?.tracked_unit_count ?? "0"),
  });

export const toLowStockRow = (r: store.LowStockRow): LowStockRow =>
  create(LowStockRowSchema, {
    stockLevel: toStockLevel(
      {
        id: r.id,
        itemId: r.item_id,
        sku: r.sku,
        warehouseId: r.warehouse_id,
        locationId: r.location_id,
        onHand: Number(r.on_hand),
        reserved: Number(r.reserved),
        reorderPoint: Number(r.reorder_point),
        reorderQuantity: Number(r.reorder_quantity),
        sequence: Number(r.sequence),
        createdAt: new Date(r.created_at),
        updatedAt: new Date(r.updated_at),
      },
      Number(r.item_status),
    ),
    itemName: r.item_name,
    itemTypeId: r.item_type_id,
    warehouseCode: r.warehouse_code,
    locationPath: r.location_path,
    shortfall: BigInt(r.shortfall),
    suggestedOrderQuantity: BigInt(r.suggested_order_quantity),
  });

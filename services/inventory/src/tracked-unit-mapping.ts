import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  TrackedUnitSchema,
  UnitAssignmentSchema,
  UnitMoveSchema,
  type AssignmentAction,
  type TrackedUnit,
  type UnitAssignment,
  type UnitMove,
  type UnitMoveCause,
} from "@inv/gen/inventory/v1/tracked_unit_pb";
import { etagOf } from "@inv/platform";
import type { UnitAssignmentRow, UnitMoveRow } from "./store/schema.js";
import type { UnitView } from "./store/tracked-units.js";

export const toTrackedUnit = (row: UnitView): TrackedUnit =>
  create(TrackedUnitSchema, {
    id: row.id,
    itemId: row.itemId,
    sku: row.sku,
    itemTypeId: row.itemTypeId,
    serialNumber: row.serialNumber,
    label: row.label,
    description: row.description,
    warehouseId: row.warehouseId,
    locationId: row.locationId ?? "",
    parentUnitId: row.parentId ?? "",
    childCount: row.childCount,
    attributes: row.attributes,
    ...(row.lastMovedAt ? { lastMoveTime: timestampFromDate(row.lastMovedAt) } : {}),
    createTime: timestampFromDate(row.createdAt),
    updateTime: timestampFromDate(row.updatedAt),
    ...(row.deletedAt ? { deleteTime: timestampFromDate(row.deletedAt) } : {}),
    createdBy: row.createdBy,
    etag: etagOf(row.id, row.version),
    rootUnitId: row.rootId,
    depth: row.depth,
  });

export const toUnitMove = (row: UnitMoveRow): UnitMove =>
  create(UnitMoveSchema, {
    id: row.id,
    unitId: row.unitId,
    itemId: row.itemId,
    fromWarehouseId: row.fromWarehouseId,
    fromLocationId: row.fromLocationId ?? "",
    toWarehouseId: row.toWarehouseId,
    toLocationId: row.toLocationId ?? "",
    cause: row.cause as UnitMoveCause,
    parentMoveId: row.parentMoveId ?? "",
    movedBy: row.movedBy,
    notes: row.notes,
    requestId: row.requestId,
    moveTime: timestampFromDate(row.movedAt),
    originMoveId: row.originMoveId,
  });

export const toUnitAssignment = (row: UnitAssignmentRow): UnitAssignment =>
  create(UnitAssignmentSchema, {
    id: row.id,
    childUnitId: row.childUnitId,
    previousParentUnitId: row.previousParentId ?? "",
    parentUnitId: row.parentId ?? "",
    action: row.action as AssignmentAction,
    actor: row.actor,
    notes: row.notes,
    requestId: row.requestId,
    createTime: timestampFromDate(row.createdAt),
  });

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { LocationSchema, LocationTypeSchema, WarehouseSchema, type Location, type LocationType, type Warehouse } from "@inv/gen/warehouse/v1/warehouse_pb";
import { etagOf } from "@inv/platform";
import type { LocationRow, LocationTypeRow, WarehouseRow } from "./store/schema.js";

/** The output fields every resource has: its times and its etag (from the row version). */
const lifecycle = (row: { id: string; version: number; createdAt: Date; updatedAt: Date; deletedAt: Date | null }) => ({
  createTime: timestampFromDate(row.createdAt),
  updateTime: timestampFromDate(row.updatedAt),
  ...(row.deletedAt ? { deleteTime: timestampFromDate(row.deletedAt) } : {}),
  etag: etagOf(row.id, row.version),
});

export const toWarehouse = (row: WarehouseRow): Warehouse =>
  create(WarehouseSchema, {
    id: row.id,
    code: row.code,
    name: row.name,
    address: row.address,
    priority: row.priority,
    active: row.active,
    ...lifecycle(row),
  });

export const toLocationType = (row: LocationTypeRow): LocationType =>
  create(LocationTypeSchema, { id: row.id, code: row.code, name: row.name, description: row.description, ...lifecycle(row) });

export const toLocation = (row: LocationRow): Location =>
  create(LocationSchema, {
    id: row.id,
    warehouseId: row.warehouseId,
    parentId: row.parentId ?? "",
    locationTypeId: row.locationTypeId,
    code: row.code,
    name: row.name,
    description: row.description,
    path: row.path,
    active: row.active,
    metadata: row.metadata,
    ...lifecycle(row),
  });

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { MoneySchema } from "@inv/gen/common/v1/money_pb";
import { ItemSchema, ItemTypeSchema, type Item, type ItemCategory, type ItemStatus, type ItemType } from "@inv/gen/inventory/v1/item_pb";
import { etagOf } from "@inv/platform";
import type { ItemRow, ItemTypeRow } from "./store/schema.js";

/** The output fields every resource has: its times and its etag (from the row version). */
const lifecycle = (row: { id: string; version: number; createdAt: Date; updatedAt: Date; deletedAt: Date | null }) => ({
  createTime: timestampFromDate(row.createdAt),
  updateTime: timestampFromDate(row.updatedAt),
  ...(row.deletedAt ? { deleteTime: timestampFromDate(row.deletedAt) } : {}),
  etag: etagOf(row.id, row.version),
});

export const toItemType = (row: ItemTypeRow): ItemType =>
  create(ItemTypeSchema, {
    id: row.id,
    name: row.name,
    description: row.description,
    category: row.category as ItemCategory,
    createdBy: row.createdBy,
    ...lifecycle(row),
  });

/** The price of a row as common.v1.Money, or undefined when the item has none (its columns are null). */
const priceOf = (row: ItemRow) =>
  row.priceCurrency === null || row.priceUnits === null || row.priceNanos === null
    ? undefined
    : create(MoneySchema, { currencyCode: row.priceCurrency, units: row.priceUnits, nanos: row.priceNanos });

export const toItem = (row: ItemRow): Item =>
  create(ItemSchema, {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    itemTypeId: row.itemTypeId,
    unitOfMeasure: row.unitOfMeasure,
    price: priceOf(row),
    imageUrl: row.imageUrl,
    attributes: row.attributes,
    status: row.status as ItemStatus,
    defaultReorderPoint: BigInt(row.defaultReorderPoint),
    defaultReorderQuantity: BigInt(row.defaultReorderQuantity),
    createdBy: row.createdBy,
    updatedBy: row.updatedBy,
    ...lifecycle(row),
  });

import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import {
  CACHE_TTL,
  checkFields,
  decodePageToken,
  fieldsToUpdate,
  invalid,
  messageCodec,
  notFound,
  pageSizeOf,
  readThrough,
  type Db,
  type ServiceImpl,
  pageFrom,
} from "@inv/platform";
import { registration } from "@inv/platform";
import { ItemStatus } from "@inv/gen/inventory/v1/item_pb";
import {
  AvailabilityStatus,
  StockLevelSchema,
  StockService,
  StockSummarySchema,
  WarehouseAvailabilitySchema,
  type LineAvailability,
  type StockSummary,
  type WarehouseStock,
  MovementKindSchema,
  StockStatusSchema,
} from "@inv/gen/inventory/v1/stock_pb";
import { checkReorder, checkSku, itemFields, checkItemRef } from "../domain/item-rules.js";
import { itemNotFound } from "../domain/refusals.js";
import { MAX_BASKET_LINES, checkQuantity, checkReference } from "../domain/stock-rules.js";
import { stockStatus, toMovement, toStockLevel } from "../stock-mapping.js";
import { invalidateLevels, levelFacts, stockKeys } from "../stock-ops.js";
import type { StockLevelRow } from "../store/schema.js";
import {
  findItemByRef,
  findLevel,
  findLevelAt,
  findMovement,
  itemsByRefs,
  levelCursorOf,
  levelsOfItem,
  listLevels,
  listMovements,
  totalsByWarehouse,
  updateReorder,
  type ItemRef,
  type LevelCursor,
  type MovementCursor,
} from "../store/stock-reads.js";
import type { WarehouseInfo } from "../warehouses.js";
import type { InventoryDeps } from "./deps.js";
import { stockMovementHandlers } from "./stock-movements.js";

type Impl = ServiceImpl<typeof StockService>;

const levelCodec = messageCodec(StockLevelSchema);
const summaryCodec = messageCodec(StockSummarySchema);
const REORDER_FIELDS = ["reorder_point", "reorder_quantity"];
const MOVEMENT_PAGE_DEFAULT = 100;
const MOVEMENT_PAGE_MAX = 1000;

export function stockHandlers({ db, cache, warehouses }: InventoryDeps) {
  const getStockLevel: Impl["getStockLevel"] = async ({ id }) => {
    const key = checkFields((v) => v.id("id", id));
    const level = await readThrough(
      cache,
      stockKeys.level(key),
      CACHE_TTL.stockLevel,
      async () => {
        const found = await findLevel(db, key);
        return found && toStockLevel(found.level, found.itemStatus);
      },
      levelCodec,
    );
    if (!level) throw notFound("stock level", key);
    return { stockLevel: level };
  };

  const lookupStockLevel: Impl["lookupStockLevel"] = async (req) => {
    const q = checkFields((v) => ({
      item: checkItemRef(v, itemFields(), req.itemId, req.sku),
      warehouseId: v.id("warehouse_id", req.warehouseId),
      locationId: v.optionalId("location_id", req.locationId),
    }));
    const item = await findItemByRef(db, q.item);
    if (!item) throw itemNotFound(q.item, itemFields());
    const place = { itemId: item.id, warehouseId: q.warehouseId, locationId: q.locationId };
    const level = await readThrough(
      cache,
      stockKeys.place(place),
      CACHE_TTL.stockLevel,
      async () => {
        const row = await findLevelAt(db, place);
        if (row) return toStockLevel(row, item.status);
        // Nothing recorded here yet: a level with no id, zero quantities and the item's defaults.
        const now = new Date();
        const empty: StockLevelRow = {
          id: "",
          ...place,
          sku: item.sku,
          onHand: 0,
          reserved: 0,
          sequence: 0,
          createdAt: now,
          updatedAt: now,
          ...reorderOf(item),
        };
        return { ...toStockLevel(empty, item.status), createTime: undefined, updateTime: undefined };
      },
      levelCodec,
    );
    return { stockLevel: level };
  };

  const listStockLevels: Impl["listStockLevels"] = async (req) => {
    const filter = checkFields((v) => ({
      itemId: req.itemId ? v.id("item_id", req.itemId) : undefined,
      sku: req.sku ? checkSku(v, "sku", req.sku) : undefined,
      warehouseId: req.warehouseId ? v.id("warehouse_id", req.warehouseId) : undefined,
      locationId: req.locationId ? v.id("location_id", req.locationId) : undefined,
      itemTypeId: req.itemTypeId ? v.id("item_type_id", req.itemTypeId) : undefined,
      statuses: v.enumFilter("statuses", req.statuses, StockStatusSchema),
      nonzeroOnly: req.nonzeroOnly,
    }));
    const size = pageSizeOf(req.pageSize);
    const after = decodePageToken(req.pageToken, filter) as LevelCursor | undefined;
    let itemId = filter.itemId;
    if (filter.sku) {
      const item = await findItemByRef(db, { sku: filter.sku });
      if (!item || (itemId && item.id !== itemId)) return { stockLevels: [], nextPageToken: "" };
      itemId = item.id;
    }
    const found = await listLevels(db, { ...filter, itemId }, after, size + 1);
    const { page, nextPageToken } = pageFrom(found, size, (f) => levelCursorOf(f.level), filter);
    return { stockLevels: page.map((f) => toStockLevel(f.level, f.itemStatus)), nextPageToken };
  };

  const getStockSummary: Impl["getStockSummary"] = async ({ itemId }) => {
    const id = checkFields((v) => v.id("item_id", itemId));
    const summary = await readThrough(
      cache,
      stockKeys.summary(id),
      CACHE_TTL.stockLevel,
      async () => {
        const item = await findItemByRef(db, { id });
        return item && summaryOf(item.id, item.sku, item.status, await levelsOfItem(db, item.id));
      },
      summaryCodec,
    );
    if (!summary) throw notFound("item", id, "item_id");
    return { summary };
  };

  const updateStockLevel: Impl["updateStockLevel"] = async ({ stockLevel: s, updateMask }, ctx) => {
    if (!s) throw invalid("stock_level", "required", "stock_level is required");
    const fields = updateMask?.paths.length ? fieldsToUpdate(updateMask.paths, { mutable: REORDER_FIELDS, present: () => true }) : REORDER_FIELDS;
    const { id, changes } = checkFields((v) => ({
      id: v.id("stock_level.id", s.id),
      changes: {
        ...(fields.includes("reorder_point") ? { reorderPoint: checkReorder(v, "stock_level.reorder_point", s.reorderPoint) } : {}),
        ...(fields.includes("reorder_quantity") ? { reorderQuantity: checkReorder(v, "stock_level.reorder_quantity", s.reorderQuantity) } : {}),
      },
    }));
    const updated = await db.transaction(async (t) => {
      const tx = t as unknown as Db;
      const row = await updateReorder(tx, id, changes);
      if (!row) throw notFound("stock level", id, "stock_level.id");
      await ctx.audit(tx, levelFacts(row, { fields }));
      return row;
    });
    const found = await findLevel(db, updated.id);
    const level = toStockLevel(updated, found?.itemStatus ?? ItemStatus.ACTIVE);
    await invalidateLevels(cache, level);
    return { stockLevel: level };
  };

  const checkAvailability: Impl["checkAvailability"] = async (req) => {
    const basket = checkFields((v) => {
      if (req.lines.length === 0) v.fail("lines", "required", "lines must have at least one line");
      if (req.lines.length > MAX_BASKET_LINES) v.fail("lines", "max_items", `lines must have at most ${MAX_BASKET_LINES} lines`, req.lines.length);
      if (req.warehouseIds.length > 100) v.fail("warehouse_ids", "max_items", "warehouse_ids must have at most 100 ids", req.warehouseIds.length);
      return {
        lines: req.lines.slice(0, MAX_BASKET_LINES).map((line, i) => ({
          item: checkItemRef(v, itemFields(`lines[${i}].`), line.itemId, line.sku),
          quantity: checkQuantity(v, `lines[${i}].quantity`, line.quantity),
        })),
        warehouseIds: [...new Set(req.warehouseIds.map((id, i) => v.id(`warehouse_ids[${i}]`, id)))],
      };
    });
    const found = await itemsByRefs(
      db,
      basket.lines.flatMap((l) => ("id" in l.item ? [l.item.id] : [])),
      basket.lines.flatMap((l) => ("sku" in l.item ? [l.item.sku] : [])),
    );
    const itemOf = (ref: ItemRef) => found.find((i) => ("id" in ref ? i.id === ref.id : i.sku === ref.sku && !i.deletedAt));
    const live = found.filter((i) => !i.deletedAt);
    const totals = await totalsByWarehouse(
      db,
      live.map((i) => i.id),
      basket.warehouseIds.length > 0 ? basket.warehouseIds : undefined,
    );
    const active = await activeWarehouses([...new Set(totals.map((t) => t.warehouseId))]);
    // Lines for one item are summed before checking; each reports the verdict of the sum.
    const wanted = new Map<string, number>();
    for (const line of basket.lines) {
      const item = itemOf(line.item);
      if (item) wanted.set(item.id, (wanted.get(item.id) ?? 0) + line.quantity);
    }
    const lines = basket.lines.map((line, i): Omit<LineAvailability, "$typeName"> => {
      const item = itemOf(line.item);
      const base = {
        lineIndex: i,
        itemId: item?.id ?? ("id" in line.item ? line.item.id : ""),
        sku: item?.sku ?? ("sku" in line.item ? line.item.sku : ""),
        requested: BigInt(line.quantity),
      };
      if (!item || item.deletedAt) return { ...base, available: 0n, status: AvailabilityStatus.UNKNOWN_ITEM, warehouses: [] };
      const perWarehouse = totals
        .filter((t) => t.itemId === item.id && active.has(t.warehouseId))
        .sort((a, b) => byPriority(active.get(a.warehouseId)!, active.get(b.warehouseId)!))
        .map((t) => ({ warehouseId: t.warehouseId, onHand: BigInt(t.onHand), reserved: BigInt(t.reserved), available: BigInt(t.onHand - t.reserved) }));
      const amounts = perWarehouse.map((w) => Number(w.available));
      const available = req.requireSingleWarehouse ? Math.max(0, ...amounts) : amounts.reduce((a, b) => a + b, 0);
      const warehousesOut = perWarehouse.map((w) => create(WarehouseAvailabilitySchema, w));
      if (item.status !== ItemStatus.ACTIVE) return { ...base, available: BigInt(available), status: AvailabilityStatus.NOT_ACTIVE, warehouses: warehousesOut };
      const enough = available >= (wanted.get(item.id) ?? line.quantity);
      return {
        ...base,
        available: BigInt(available),
        status: enough ? AvailabilityStatus.AVAILABLE : AvailabilityStatus.UNAVAILABLE,
        warehouses: warehousesOut,
      };
    });
    const all = lines.every((l) => l.status === AvailabilityStatus.AVAILABLE);
    return { lines, status: all ? AvailabilityStatus.AVAILABLE : AvailabilityStatus.UNAVAILABLE, allAvailable: all, checkTime: timestampNow() };
  };

  const getMovement: Impl["getMovement"] = async ({ id }) => {
    const key = checkFields((v) => v.id("id", id));
    const row = await findMovement(db, key);
    if (!row) throw notFound("movement", key);
    return { movement: toMovement(row) };
  };

  const listMovementsHandler: Impl["listMovements"] = async (req) => {
    const filter = checkFields((v) => {
      const { start, end } = v.timeRange({ start: "start_time", end: "end_time" }, req.startTime, req.endTime);
      return {
        itemId: req.itemId ? v.id("item_id", req.itemId) : undefined,
        sku: req.sku ? checkSku(v, "sku", req.sku) : undefined,
        warehouseId: req.warehouseId ? v.id("warehouse_id", req.warehouseId) : undefined,
        locationId: req.locationId ? v.id("location_id", req.locationId) : undefined,
        stockLevelId: req.stockLevelId ? v.id("stock_level_id", req.stockLevelId) : undefined,
        kinds: v.enumFilter("kinds", req.kinds, MovementKindSchema),
        start: start?.toISOString(),
        end: end?.toISOString(),
        reference: req.reference ? checkReference(v, "reference", req.reference) : undefined,
        reservationId: req.reservationId ? v.text("reservation_id", req.reservationId, { max: 128 }) : undefined,
        actor: req.actor ? v.text("actor", req.actor, { max: 200 }) : undefined,
        newestFirst: req.newestFirst,
      };
    });
    if (req.pageSize < 0 || req.pageSize > MOVEMENT_PAGE_MAX)
      throw invalid("page_size", "range", `page_size must be between 0 and ${MOVEMENT_PAGE_MAX}`, req.pageSize);
    const size = req.pageSize || MOVEMENT_PAGE_DEFAULT;
    const after = decodePageToken(req.pageToken, filter) as MovementCursor | undefined;
    let itemId = filter.itemId;
    if (filter.sku) {
      const item = await findItemByRef(db, { sku: filter.sku });
      if (!item || (itemId && item.id !== itemId)) return { movements: [], nextPageToken: "" };
      itemId = item.id;
    }
    const found = await listMovements(
      db,
      { ...filter, itemId, start: filter.start ? new Date(filter.start) : undefined, end: filter.end ? new Date(filter.end) : undefined },
      after,
      size + 1,
    );
    const { page, nextPageToken } = pageFrom(found, size, (f) => f.cursor, filter);
    return { movements: page.map((f) => toMovement(f.row)), nextPageToken };
  };

  /** The warehouses among these that are live and active, by id. */
  async function activeWarehouses(ids: string[]): Promise<Map<string, WarehouseInfo>> {
    const infos = await Promise.all(ids.map((id) => warehouses.warehouse(id)));
    return new Map(infos.filter((w): w is WarehouseInfo => !!w && w.active && !w.deleted).map((w) => [w.id, w]));
  }

  return {
    getStockLevel,
    lookupStockLevel,
    listStockLevels,
    getStockSummary,
    updateStockLevel,
    checkAvailability,
    getMovement,
    listMovements: listMovementsHandler,
  } satisfies Partial<Impl>;
}

/** StockService: the reads here, the writes that move stock in stock-movements.ts. */
export const stockService = (deps: InventoryDeps) => registration(StockService, { ...stockHandlers(deps), ...stockMovementHandlers(deps) });

const reorderOf = (item: { defaultReorderPoint: number; defaultReorderQuantity: number }) => ({
  reorderPoint: item.defaultReorderPoint,
  reorderQuantity: item.defaultReorderQuantity,
});

/** Higher priority first; ties by code. */
export const byPriority = (a: WarehouseInfo, b: WarehouseInfo) => b.priority - a.priority || a.code.localeCompare(b.code);

/** An item's totals over its levels, per warehouse, with statuses against summed reorder points. */
export function summaryOf(itemId: string, sku: string, itemStatus: number, levels: StockLevelRow[]): StockSummary {
  const byWarehouse = new Map<string, StockLevelRow[]>();
  for (const l of levels) byWarehouse.set(l.warehouseId, [...(byWarehouse.get(l.warehouseId) ?? []), l]);
  const totalOf = (ls: StockLevelRow[]) => {
    const onHand = ls.reduce((s, l) => s + l.onHand, 0);
    const reserved = ls.reduce((s, l) => s + l.reserved, 0);
    const reorder = ls.reduce((s, l) => s + l.reorderPoint, 0);
    return {
      onHand: BigInt(onHand),
      reserved: BigInt(reserved),
      available: BigInt(onHand - reserved),
      status: stockStatus(onHand - reserved, reorder, itemStatus),
    };
  };
  const warehousesOut: Omit<WarehouseStock, "$typeName">[] = [...byWarehouse.keys()].sort().map((warehouseId) => {
    const ls = byWarehouse.get(warehouseId)!;
    return { warehouseId, ...totalOf(ls), levels: ls.map((l) => toStockLevel(l, itemStatus)) };
  });
  return create(StockSummarySchema, { itemId, sku, ...totalOf(levels), warehouses: warehousesOut });
}

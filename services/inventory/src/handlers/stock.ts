import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import {
  actorOf,
  CACHE_TTL,
  DomainError,
  checkFields,
  decodePageToken,
  encodePageToken,
  fieldsToUpdate,
  invalid,
  messageCodec,
  notFound,
  pageSizeOf,
  readThrough,
  rpcStatusOf,
  type CallContext,
  type Db,
  type FieldChecker,
  type ServiceImpl,
} from "@inv/platform";
import { registration } from "@inv/platform";
import { ItemStatus } from "@inv/gen/inventory/v1/item_pb";
import {
  AdjustStockResponseSchema,
  AvailabilityStatus,
  BulkAdjustResultSchema,
  BulkAdjustStockResponseSchema,
  BulkMode,
  ReceiveStockResponseSchema,
  StockLevelSchema,
  StockService,
  StockSummarySchema,
  TransferStockResponseSchema,
  WarehouseAvailabilitySchema,
  type BulkAdjustResult,
  type LineAvailability,
  type StockLevel,
  type StockSummary,
  type WarehouseStock,
} from "@inv/gen/inventory/v1/stock_pb";
import { Code } from "@inv/gen/google/rpc/code_pb";
import { StatusSchema } from "@inv/gen/google/rpc/status_pb";
import { uuidv7 } from "uuidv7";
import { checkReorder, checkSku } from "../domain/item-rules.js";
import { itemFields, itemNotFound, type ItemFields } from "../domain/refusals.js";
import { MAX_BASKET_LINES, MAX_BULK_LINES, checkDelta, checkExpected, checkQuantity, checkReason, checkReference } from "../domain/stock-rules.js";
import { stockStatus, toMovement, toStockLevel } from "../stock-mapping.js";
import { changeStock, invalidateStock, lockLiveItem, newLevelOf, onceByKey, stockKeys } from "../stock-ops.js";
import { Kind, type Applied, type EntryFacts, type Place } from "../store/levels.js";
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
import { prefetchPlaces, requireActivePlace, type WarehouseInfo } from "../warehouses.js";
import type { InventoryDeps } from "./deps.js";

type Impl = ServiceImpl<typeof StockService>;

const levelCodec = messageCodec(StockLevelSchema);
const summaryCodec = messageCodec(StockSummarySchema);
const REORDER_FIELDS = ["reorder_point", "reorder_quantity"];
const MOVEMENT_PAGE_DEFAULT = 100;
const MOVEMENT_PAGE_MAX = 1000;

/** An item named by item_id or, when that is empty, by sku. */
export function checkItemRef(v: FieldChecker, fields: ItemFields, itemId: string, sku: string): ItemRef {
  if (itemId !== "") return { id: v.id(fields.id, itemId) };
  if (sku !== "") return { sku: checkSku(v, fields.sku, sku) };
  v.fail(fields.id, "required", `${fields.id} or ${fields.sku} is required`);
  return { id: "" };
}

const entryOf = (ctx: CallContext, reason: string, reference: string, idempotencyKey: string): EntryFacts => ({
  actor: actorOf(ctx.caller),
  reason,
  reference,
  idempotencyKey,
  requestId: ctx.requestId,
});

const PLACE_FIELDS = { warehouse: "warehouse_id", location: "location_id" };

/** Levels sort by (item, warehouse, location with none first): every multi-level write touches them in this order, so two writes never wait on each other in a cycle. */
const placeOrder = (a: Place, b: Place) =>
  a.itemId.localeCompare(b.itemId) || a.warehouseId.localeCompare(b.warehouseId) || (a.locationId ?? "").localeCompare(b.locationId ?? "");

export function stockHandlers({ db, cache, warehouses }: InventoryDeps) {
  const receiveStock: Impl["receiveStock"] = async (req, ctx) => {
    const cmd = checkFields((v) => ({
      item: checkItemRef(v, itemFields(), req.itemId, req.sku),
      warehouseId: v.id("warehouse_id", req.warehouseId),
      locationId: v.optionalId("location_id", req.locationId),
      quantity: checkQuantity(v, "quantity", req.quantity),
      reason: checkReason(v, "reason", req.reason) || "receipt",
      reference: checkReference(v, "reference", req.reference),
      key: v.idempotencyKey("idempotency_key", req.idempotencyKey),
    }));
    const { key, ...payload } = cmd;
    await prefetchPlaces(warehouses, [cmd]);
    const response = await onceByKey(db, "ReceiveStock", key, payload, ReceiveStockResponseSchema, async (tx) => {
      const item = await lockLiveItem(tx, cmd.item, itemFields());
      const place = { itemId: item.id, warehouseId: cmd.warehouseId, locationId: cmd.locationId };
      await requireActivePlace(warehouses, place, PLACE_FIELDS);
      const change = { kind: Kind.RECEIPT, onHand: cmd.quantity, reserved: 0, entry: entryOf(ctx, cmd.reason, cmd.reference, key) };
      const { level, movement } = await changeStock(tx, place, change, newLevelOf(item), {
        field: "quantity",
        expectedField: "",
        wanted: `a receipt of ${cmd.quantity}`,
      });
      await ctx.audit(tx, levelFacts(level, { kind: "RECEIPT", quantity: cmd.quantity, idempotencyKey: key }));
      return create(ReceiveStockResponseSchema, { stockLevel: toStockLevel(level, item.status), movement: toMovement(movement) });
    });
    await invalidateLevels(response.stockLevel);
    return response;
  };

  const adjustStock: Impl["adjustStock"] = async (req, ctx) => {
    const cmd = checkFields((v) => ({
      item: checkItemRef(v, itemFields(), req.itemId, req.sku),
      warehouseId: v.id("warehouse_id", req.warehouseId),
      locationId: v.optionalId("location_id", req.locationId),
      delta: checkDelta(v, "delta", req.delta),
      expectedOnHand: checkExpected(v, "expected_on_hand", req.expectedOnHand),
      reason: checkReason(v, "reason", req.reason, true),
      reference: checkReference(v, "reference", req.reference),
      key: v.idempotencyKey("idempotency_key", req.idempotencyKey),
    }));
    const { key, ...payload } = cmd;
    if (cmd.delta > 0) await prefetchPlaces(warehouses, [cmd]);
    const response = await onceByKey(db, "AdjustStock", key, payload, AdjustStockResponseSchema, async (tx) => {
      const item = await lockLiveItem(tx, cmd.item, itemFields());
      const place = { itemId: item.id, warehouseId: cmd.warehouseId, locationId: cmd.locationId };
      // Stock may only be put into an active place; taking it out of any place that has it is fine.
      if (cmd.delta > 0) await requireActivePlace(warehouses, place, PLACE_FIELDS);
      const change = {
        kind: Kind.ADJUSTMENT,
        onHand: cmd.delta,
        reserved: 0,
        expectedOnHand: cmd.expectedOnHand,
        entry: entryOf(ctx, cmd.reason, cmd.reference, key),
      };
      const { level, movement } = await changeStock(tx, place, change, newLevelOf(item), {
        field: "delta",
        expectedField: "expected_on_hand",
        wanted: `an adjustment of ${cmd.delta}`,
      });
      await ctx.audit(tx, levelFacts(level, { kind: "ADJUSTMENT", delta: cmd.delta, idempotencyKey: key }));
      return create(AdjustStockResponseSchema, { stockLevel: toStockLevel(level, item.status), movement: toMovement(movement) });
    });
    await invalidateLevels(response.stockLevel);
    return response;
  };

  const transferStock: Impl["transferStock"] = async (req, ctx) => {
    const cmd = checkFields((v) => {
      const checked = {
        item: checkItemRef(v, itemFields(), req.itemId, req.sku),
        fromWarehouseId: v.id("from_warehouse_id", req.fromWarehouseId),
        fromLocationId: v.optionalId("from_location_id", req.fromLocationId),
        toWarehouseId: v.id("to_warehouse_id", req.toWarehouseId),
        toLocationId: v.optionalId("to_location_id", req.toLocationId),
        quantity: checkQuantity(v, "quantity", req.quantity),
        expectedFromOnHand: checkExpected(v, "expected_from_on_hand", req.expectedFromOnHand),
        reason: checkReason(v, "reason", req.reason) || "transfer",
        reference: checkReference(v, "reference", req.reference),
        key: v.idempotencyKey("idempotency_key", req.idempotencyKey),
      };
      if (!v.has("to_warehouse_id") && checked.fromWarehouseId === checked.toWarehouseId && checked.fromLocationId === checked.toLocationId) {
        v.fail("to_location_id", "different_place", "a transfer must go to another warehouse or location than it comes from", req.toLocationId);
      }
      return checked;
    });
    const { key, ...payload } = cmd;
    await prefetchPlaces(warehouses, [{ warehouseId: cmd.toWarehouseId, locationId: cmd.toLocationId }]);
    const response = await onceByKey(db, "TransferStock", key, payload, TransferStockResponseSchema, async (tx) => {
      const item = await lockLiveItem(tx, cmd.item, itemFields());
      const from = { itemId: item.id, warehouseId: cmd.fromWarehouseId, locationId: cmd.fromLocationId };
      const to = { itemId: item.id, warehouseId: cmd.toWarehouseId, locationId: cmd.toLocationId };
      await requireActivePlace(warehouses, to, { warehouse: "to_warehouse_id", location: "to_location_id" });
      const entry = entryOf(ctx, cmd.reason, cmd.reference, key);
      const outId = uuidv7();
      const inId = uuidv7();
      const takeOut = () =>
        changeStock(
          tx,
          from,
          {
            kind: Kind.TRANSFER_OUT,
            onHand: -cmd.quantity,
            reserved: 0,
            expectedOnHand: cmd.expectedFromOnHand,
            entry,
            movementId: outId,
            relatedMovementId: inId,
          },
          undefined,
          { field: "quantity", expectedField: "expected_from_on_hand", wanted: `a transfer of ${cmd.quantity}` },
        );
      const putIn = () =>
        changeStock(
          tx,
          to,
          { kind: Kind.TRANSFER_IN, onHand: cmd.quantity, reserved: 0, entry, movementId: inId, relatedMovementId: outId },
          newLevelOf(item),
          {
            field: "quantity",
            expectedField: "",
            wanted: `a transfer of ${cmd.quantity}`,
          },
        );
      // Both levels in key order; a failure on either side rolls back both.
      let sent: Applied;
      let into: Applied;
      if (placeOrder(from, to) < 0) {
        sent = await takeOut();
        into = await putIn();
      } else {
        into = await putIn();
        sent = await takeOut();
      }
      await ctx.audit(tx, levelFacts(sent.level, { kind: "TRANSFER", quantity: cmd.quantity, toStockLevelId: into.level.id, idempotencyKey: key }));
      return create(TransferStockResponseSchema, {
        fromStockLevel: toStockLevel(sent.level, item.status),
        toStockLevel: toStockLevel(into.level, item.status),
        outMovement: toMovement(sent.movement),
        inMovement: toMovement(into.movement),
      });
    });
    await invalidateLevels(response.fromStockLevel, response.toStockLevel);
    return response;
  };

  const bulkAdjustStock: Impl["bulkAdjustStock"] = async (req, ctx) => {
    const cmd = checkFields((v) => {
      if (req.lines.length === 0) v.fail("lines", "required", "lines must have at least one line");
      if (req.lines.length > MAX_BULK_LINES) v.fail("lines", "max_items", `lines must have at most ${MAX_BULK_LINES} lines`, req.lines.length);
      const defaultReason = checkReason(v, "reason", req.reason);
      const lines = req.lines.slice(0, MAX_BULK_LINES).map((line, i) => {
        const at = `lines[${i}].`;
        const reason = checkReason(v, `${at}reason`, line.reason) || defaultReason;
        if (reason === "" && !v.has(`${at}reason`)) v.fail(`${at}reason`, "required", `${at}reason is required when the request has no reason`);
        return {
          index: i,
          item: checkItemRef(v, itemFields(at), line.itemId, line.sku),
          warehouseId: v.id(`${at}warehouse_id`, line.warehouseId),
          locationId: v.optionalId(`${at}location_id`, line.locationId),
          delta: checkDelta(v, `${at}delta`, line.delta),
          expectedOnHand: checkExpected(v, `${at}expected_on_hand`, line.expectedOnHand),
          reason,
          reference: checkReference(v, `${at}reference`, line.reference),
        };
      });
      return {
        lines,
        mode: req.mode === BulkMode.BEST_EFFORT ? BulkMode.BEST_EFFORT : BulkMode.ALL_OR_NOTHING,
        key: v.idempotencyKey("idempotency_key", req.idempotencyKey),
      };
    });
    const { key, ...payload } = cmd;
    const touched: StockLevel[] = [];
    await prefetchPlaces(
      warehouses,
      cmd.lines.filter((l) => l.delta > 0),
    );
    const response = await onceByKey(db, "BulkAdjustStock", key, payload, BulkAdjustStockResponseSchema, async (tx) => {
      const results: BulkAdjustResult[] = cmd.lines.map((line) => create(BulkAdjustResultSchema, { lineIndex: line.index }));
      type Line = (typeof cmd.lines)[number];
      const applyLine = async (sp: Db, line: Line) => {
        const fields = itemFields(`lines[${line.index}].`);
        const item = await lockLiveItem(sp, line.item, fields);
        const place = { itemId: item.id, warehouseId: line.warehouseId, locationId: line.locationId };
        if (line.delta > 0)
          await requireActivePlace(warehouses, place, { warehouse: `lines[${line.index}].warehouse_id`, location: `lines[${line.index}].location_id` });
        const change = {
          kind: Kind.ADJUSTMENT,
          onHand: line.delta,
          reserved: 0,
          expectedOnHand: line.expectedOnHand,
          entry: entryOf(ctx, line.reason, line.reference, key),
        };
        const { level, movement } = await changeStock(sp, place, change, newLevelOf(item), {
          field: `lines[${line.index}].delta`,
          expectedField: `lines[${line.index}].expected_on_hand`,
          wanted: `an adjustment of ${line.delta}`,
        });
        results[line.index] = { ...results[line.index]!, status: okStatus(), stockLevel: toStockLevel(level, item.status), movement: toMovement(movement) };
      };
      const failed = (line: Line, err: unknown) => {
        if (!(err instanceof DomainError)) throw err;
        results[line.index] = { ...results[line.index]!, status: rpcStatusOf(err) };
      };
      // Lines in key order (by item reference, then place): concurrent bulk calls touch levels in one order.
      const ordered = [...cmd.lines].sort(
        (a, b) => refKey(a.item).localeCompare(refKey(b.item)) || placeOrder({ itemId: "", ...a }, { itemId: "", ...b }) || a.index - b.index,
      );
      if (cmd.mode === BulkMode.BEST_EFFORT) {
        for (const line of ordered) {
          try {
            await tx.transaction((sp) => applyLine(sp as unknown as Db, line));
          } catch (err) {
            failed(line, err);
          }
        }
      } else {
        let anyFailed = false;
        try {
          await tx.transaction(async (sp) => {
            for (const line of ordered) {
              try {
                await applyLine(sp as unknown as Db, line);
              } catch (err) {
                failed(line, err);
                anyFailed = true;
              }
            }
            if (anyFailed) throw ROLL_BACK;
          });
        } catch (err) {
          if (err !== ROLL_BACK) throw err;
        }
        if (anyFailed) {
          for (const r of results) {
            if (r.status?.code === Code.OK) {
              results[r.lineIndex] = create(BulkAdjustResultSchema, { lineIndex: r.lineIndex, status: notApplied() });
            }
          }
        }
      }
      const applied = results.filter((r) => r.status?.code === Code.OK).length;
      await ctx.audit(tx, {
        resourceType: "StockLevel",
        resourceId: "",
        details: { kind: "BULK_ADJUSTMENT", lines: cmd.lines.length, applied, idempotencyKey: key },
      });
      return create(BulkAdjustStockResponseSchema, { results, mode: cmd.mode, appliedCount: applied, failedCount: results.length - applied });
    });
    for (const r of response.results) if (r.stockLevel) touched.push(r.stockLevel);
    await invalidateLevels(...touched);
    return response;
  };

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
      statuses: [...new Set(req.statuses)].sort(),
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
    const page = found.slice(0, size);
    const last = page[page.length - 1];
    return {
      stockLevels: page.map((f) => toStockLevel(f.level, f.itemStatus)),
      nextPageToken: found.length > size && last ? encodePageToken(levelCursorOf(last.level), filter) : "",
    };
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
    await invalidateLevels(level);
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
      const start = v.timestamp("start_time", req.startTime);
      const end = v.timestamp("end_time", req.endTime);
      if (start && end && end <= start) v.fail("end_time", "after_start", "end_time must be after start_time");
      return {
        itemId: req.itemId ? v.id("item_id", req.itemId) : undefined,
        sku: req.sku ? checkSku(v, "sku", req.sku) : undefined,
        warehouseId: req.warehouseId ? v.id("warehouse_id", req.warehouseId) : undefined,
        locationId: req.locationId ? v.id("location_id", req.locationId) : undefined,
        stockLevelId: req.stockLevelId ? v.id("stock_level_id", req.stockLevelId) : undefined,
        kinds: [...new Set(req.kinds)].sort(),
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
    const page = found.slice(0, size);
    const last = page[page.length - 1];
    return {
      movements: page.map((f) => toMovement(f.row)),
      nextPageToken: found.length > size && last ? encodePageToken(last.cursor, filter) : "",
    };
  };

  /** The warehouses among these that are live and active, by id. */
  async function activeWarehouses(ids: string[]): Promise<Map<string, WarehouseInfo>> {
    const infos = await Promise.all(ids.map((id) => warehouses.warehouse(id)));
    return new Map(infos.filter((w): w is WarehouseInfo => !!w && w.active && !w.deleted).map((w) => [w.id, w]));
  }

  async function invalidateLevels(...levels: (StockLevel | undefined)[]) {
    await invalidateStock(
      cache,
      levels
        .filter((l): l is StockLevel => !!l && l.id !== "")
        .map((l) => ({ id: l.id, itemId: l.itemId, warehouseId: l.warehouseId, locationId: l.locationId || null })),
    );
  }

  return {
    getStockLevel,
    lookupStockLevel,
    listStockLevels,
    getStockSummary,
    updateStockLevel,
    receiveStock,
    adjustStock,
    transferStock,
    bulkAdjustStock,
    checkAvailability,
    getMovement,
    listMovements: listMovementsHandler,
  } satisfies Partial<Impl>;
}

export const stockService = (deps: InventoryDeps) => registration(StockService, stockHandlers(deps));

/** Thrown inside an all-or-nothing bulk call's savepoint to undo its lines; never leaves the handler. */
class RollBack extends Error {}
const ROLL_BACK = new RollBack("roll back the lines of an all-or-nothing bulk adjustment");

const okStatus = () => create(StatusSchema, { code: Code.OK, message: "" });
const notApplied = () => create(StatusSchema, { code: Code.ABORTED, message: "not applied because another line failed (mode ALL_OR_NOTHING)" });

const refKey = (ref: ItemRef) => ("id" in ref ? `i:${ref.id}` : `s:${ref.sku}`);

const reorderOf = (item: { defaultReorderPoint: number; defaultReorderQuantity: number }) => ({
  reorderPoint: item.defaultReorderPoint,
  reorderQuantity: item.defaultReorderQuantity,
});

/** Higher priority first; ties by code. */
export const byPriority = (a: WarehouseInfo, b: WarehouseInfo) => b.priority - a.priority || a.code.localeCompare(b.code);

const levelFacts = (level: StockLevelRow, details: Record<string, unknown>) => ({
  resourceType: "StockLevel",
  resourceId: level.id,
  details: { itemId: level.itemId, warehouseId: level.warehouseId, locationId: level.locationId ?? "", ...details },
});

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

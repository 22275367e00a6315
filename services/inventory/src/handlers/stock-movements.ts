import { create } from "@bufbuild/protobuf";
import { actorOf, DomainError, checkFields, rpcStatusOf, type CallContext, type Db, type ServiceImpl } from "@inv/platform";
import {
  AdjustStockResponseSchema,
  BulkAdjustResultSchema,
  BulkAdjustStockResponseSchema,
  BulkMode,
  ReceiveStockResponseSchema,
  type StockService,
  TransferStockResponseSchema,
  type BulkAdjustResult,
  type StockLevel,
} from "@inv/gen/inventory/v1/stock_pb";
import { Code } from "@inv/gen/google/rpc/code_pb";
import { StatusSchema } from "@inv/gen/google/rpc/status_pb";
import { uuidv7 } from "uuidv7";
import { MAX_BULK_LINES, checkDelta, checkExpected, checkQuantity, checkReason, checkReference } from "../domain/stock-rules.js";
import { toMovement, toStockLevel } from "../stock-mapping.js";
import { changeStock, invalidateLevels, levelFacts, lockLiveItem, newLevelOf, onceByKey } from "../stock-ops.js";
import { Kind, type Applied, type EntryFacts, type Place } from "../store/levels.js";
import type { ItemRef } from "../store/stock-reads.js";
import { prefetchPlaces, requireActivePlace } from "../warehouses.js";
import type { InventoryDeps } from "./deps.js";
import { itemFields, checkItemRef } from "../domain/item-rules.js";

type Impl = ServiceImpl<typeof StockService>;
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

/**
 * The StockService writes that move stock: receive, adjust, transfer and bulk adjust. Each is
 * idempotent by its key, changes each level with one conditional statement and its ledger entry
 * (changeStock), and drops the cached reads of the levels it changed.
 */
export function stockMovementHandlers({ db, cache, warehouses }: InventoryDeps) {
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
    await invalidateLevels(cache, response.stockLevel);
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
    await invalidateLevels(cache, response.stockLevel);
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
    await invalidateLevels(cache, response.fromStockLevel, response.toStockLevel);
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
    await invalidateLevels(cache, ...touched);
    return response;
  };

  return { receiveStock, adjustStock, transferStock, bulkAdjustStock } satisfies Partial<Impl>;
}

/** Thrown inside an all-or-nothing bulk call's savepoint to undo its lines; never leaves the handler. */
class RollBack extends Error {}
const ROLL_BACK = new RollBack("roll back the lines of an all-or-nothing bulk adjustment");

const okStatus = () => create(StatusSchema, { code: Code.OK, message: "" });
const notApplied = () => create(StatusSchema, { code: Code.ABORTED, message: "not applied because another line failed (mode ALL_OR_NOTHING)" });

const refKey = (ref: ItemRef) => ("id" in ref ? `i:${ref.id}` : `s:${ref.sku}`);

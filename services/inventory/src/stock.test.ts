import { failure } from "@inv/platform/testing";
import { BulkMode, MovementKind, StockStatus } from "@inv/gen/inventory/v1/stock_pb";
import { Code } from "@inv/gen/google/rpc/code_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcile } from "./store/reconcile.js";
import { startTestInventory, type TestInventory } from "./testing.js";

let inv: TestInventory;
let seq = 0;
const key = () => `k-${process.pid}-${Date.now().toString(36)}-${++seq}`;

beforeAll(async () => {
  inv = await startTestInventory();
});
afterAll(() => inv?.stop());

describe("receive, adjust and read", () => {
  it("receives into a new level, adjusts it, and every change has its ledger entry", async () => {
    const w = inv.directory.addWarehouse();
    const item = await inv.newItem({ defaultReorderPoint: 5n });
    const r = await inv.stock.receiveStock({ sku: item.sku, warehouseId: w.id, quantity: 10n, idempotencyKey: key(), reference: "PO-1" });
    expect(r.stockLevel).toMatchObject({ onHand: 10n, reserved: 0n, available: 10n, reorderPoint: 5n, status: StockStatus.IN_STOCK, sequence: 1n });
    expect(r.movement).toMatchObject({
      kind: MovementKind.RECEIPT,
      delta: 10n,
      onHandBefore: 0n,
      onHandAfter: 10n,
      reference: "PO-1",
      reason: "receipt",
      levelSequence: 1n,
    });

    const a = await inv.stock.adjustStock({ itemId: item.id, warehouseId: w.id, delta: -6n, reason: "damaged", idempotencyKey: key() });
    expect(a.stockLevel).toMatchObject({ onHand: 4n, status: StockStatus.LOW_STOCK, sequence: 2n });
    expect(a.movement).toMatchObject({ kind: MovementKind.ADJUSTMENT, delta: -6n, onHandBefore: 10n, onHandAfter: 4n });

    // Read right after the write: the cache was invalidated (property 2).
    expect((await inv.stock.getStockLevel({ id: r.stockLevel!.id })).stockLevel?.onHand).toBe(4n);
    expect((await inv.stock.lookupStockLevel({ sku: item.sku, warehouseId: w.id })).stockLevel?.onHand).toBe(4n);
    await inv.stock.adjustStock({ itemId: item.id, warehouseId: w.id, delta: -4n, reason: "count", idempotencyKey: key() });
    expect((await inv.stock.getStockLevel({ id: r.stockLevel!.id })).stockLevel).toMatchObject({ onHand: 0n, status: StockStatus.OUT_OF_STOCK });
    const summary = await inv.stock.getStockSummary({ itemId: item.id });
    expect(summary.summary).toMatchObject({ onHand: 0n, warehouses: [{ warehouseId: w.id, onHand: 0n }] });

    const ledger = await inv.stock.listMovements({ itemId: item.id });
    expect(ledger.movements.map((m) => m.delta)).toEqual([10n, -6n, -4n]);
    expect(await reconcile(inv.db)).toEqual([]);
  });

  it("looks up a place with no stock as an empty level with the item's defaults", async () => {
    const w = inv.directory.addWarehouse();
    const item = await inv.newItem({ defaultReorderPoint: 3n });
    const { stockLevel } = await inv.stock.lookupStockLevel({ itemId: item.id, warehouseId: w.id });
    expect(stockLevel).toMatchObject({ id: "", onHand: 0n, reorderPoint: 3n, status: StockStatus.OUT_OF_STOCK, sku: item.sku });
    // ... and a receipt right after the lookup is seen at once.
    await inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: 2n, idempotencyKey: key() });
    expect((await inv.stock.lookupStockLevel({ itemId: item.id, warehouseId: w.id })).stockLevel?.onHand).toBe(2n);
  });
});

describe("idempotency keys", () => {
  it("a retry returns the first result and changes nothing; another payload under the key is refused", async () => {
    const w = inv.directory.addWarehouse();
    const item = await inv.newItem();
    const k = key();
    const first = await inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: 7n, idempotencyKey: k });
    const again = await Promise.all(
      Array.from({ length: 10 }, () => inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: 7n, idempotencyKey: k })),
    );
    for (const r of again) {
      expect(r.replayed).toBe(true);
      expect(r.movement?.id).toBe(first.movement?.id);
    }
    expect((await inv.stock.lookupStockLevel({ itemId: item.id, warehouseId: w.id })).stockLevel?.onHand).toBe(7n);
    expect(await failure(inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: 8n, idempotencyKey: k }))).toMatchObject({
      code: "ALREADY_EXISTS",
      reason: "IDEMPOTENCY_KEY_REUSED",
      field: "idempotency_key",
    });
  });
});

describe("compare-and-set", () => {
  it("applies with the current on_hand, and a stale one is ABORTED and changes nothing", async () => {
    const w = inv.directory.addWarehouse();
    const item = await inv.newItem();
    // A level that does not exist yet counts as on_hand 0.
    await inv.stock.adjustStock({ itemId: item.id, warehouseId: w.id, delta: 5n, expectedOnHand: 0n, reason: "first count", idempotencyKey: key() });
    const stale = await failure(
      inv.stock.adjustStock({ itemId: item.id, warehouseId: w.id, delta: 1n, expectedOnHand: 4n, reason: "count", idempotencyKey: key() }),
    );
    expect(stale).toMatchObject({ code: "ABORTED", reason: "ON_HAND_CHANGED", field: "expected_on_hand" });
    const ok = await inv.stock.adjustStock({ itemId: item.id, warehouseId: w.id, delta: 1n, expectedOnHand: 5n, reason: "count", idempotencyKey: key() });
    expect(ok.stockLevel?.onHand).toBe(6n);
    expect(
      await failure(inv.stock.adjustStock({ itemId: item.id, warehouseId: w.id, delta: 1n, expectedOnHand: 5n, reason: "count", idempotencyKey: key() })),
    ).toMatchObject({
      code: "ABORTED",
    });
    expect((await inv.stock.lookupStockLevel({ itemId: item.id, warehouseId: w.id })).stockLevel?.onHand).toBe(6n);
  });
});

describe("transfers", () => {
  it("moves stock in one transaction with two linked ledger entries", async () => {
    const a = inv.directory.addWarehouse();
    const b = inv.directory.addWarehouse();
    const item = await inv.newItem();
    await inv.stock.receiveStock({ itemId: item.id, warehouseId: a.id, quantity: 10n, idempotencyKey: key() });
    const t = await inv.stock.transferStock({ itemId: item.id, fromWarehouseId: a.id, toWarehouseId: b.id, quantity: 4n, idempotencyKey: key() });
    expect(t.fromStockLevel?.onHand).toBe(6n);
    expect(t.toStockLevel?.onHand).toBe(4n);
    expect(t.outMovement).toMatchObject({ kind: MovementKind.TRANSFER_OUT, delta: -4n, relatedMovementId: t.inMovement?.id });
    expect(t.inMovement).toMatchObject({ kind: MovementKind.TRANSFER_IN, delta: 4n, relatedMovementId: t.outMovement?.id });
    expect(await reconcile(inv.db)).toEqual([]);
  });

  it("to a missing, deleted or inactive warehouse fails and leaves both sides as they were (property 5)", async () => {
    const a = inv.directory.addWarehouse();
    const inactive = inv.directory.addWarehouse({ active: false });
    const deleted = inv.directory.addWarehouse({ deleted: true });
    const item = await inv.newItem();
    await inv.stock.receiveStock({ itemId: item.id, warehouseId: a.id, quantity: 10n, idempotencyKey: key() });
    const to = (toWarehouseId: string) =>
      inv.stock.transferStock({ itemId: item.id, fromWarehouseId: a.id, toWarehouseId, quantity: 4n, idempotencyKey: key() });
    expect(await failure(to(crypto.randomUUID()))).toMatchObject({ code: "NOT_FOUND", field: "to_warehouse_id" });
    expect(await failure(to(inactive.id))).toMatchObject({ code: "FAILED_PRECONDITION", field: "to_warehouse_id" });
    expect(await failure(to(deleted.id))).toMatchObject({ code: "FAILED_PRECONDITION", field: "to_warehouse_id" });
    expect(
      await failure(inv.stock.transferStock({ itemId: item.id, fromWarehouseId: a.id, toWarehouseId: a.id, quantity: 1n, idempotencyKey: key() })),
    ).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "to_location_id",
    });
    expect(
      await failure(
        to(inv.directory.addWarehouse().id)
          .then(() => to(inv.directory.addWarehouse().id))
          .then(() => to(inv.directory.addWarehouse().id)),
      ),
    ).toMatchObject({
      code: "FAILED_PRECONDITION",
      reason: "INSUFFICIENT_STOCK",
    });
    const levels = await inv.stock.listStockLevels({ itemId: item.id });
    expect(levels.stockLevels.map((l) => [l.warehouseId, l.onHand])).toEqual(expect.arrayContaining([[a.id, 2n]]));
    expect(levels.stockLevels.reduce((s, l) => s + l.onHand, 0n)).toBe(10n);
    expect(await reconcile(inv.db)).toEqual([]);
  });
});

describe("bulk adjustments", () => {
  it("all or nothing: a failing line leaves every line unapplied, and a retry returns the same results", async () => {
    const w = inv.directory.addWarehouse();
    const [x, y] = [await inv.newItem(), await inv.newItem()];
    const k = key();
    const request = {
      idempotencyKey: k,
      reason: "cycle count",
      lines: [
        { itemId: x.id, warehouseId: w.id, delta: 5n },
        { itemId: y.id, warehouseId: w.id, delta: -1n },
      ],
    };
    const res = await inv.stock.bulkAdjustStock(request);
    expect(res).toMatchObject({ mode: BulkMode.ALL_OR_NOTHING, appliedCount: 0, failedCount: 2 });
    expect(res.results[0]?.status?.code).toBe(Code.ABORTED);
    expect(res.results[1]?.status?.code).toBe(Code.FAILED_PRECONDITION);
    expect((await inv.stock.lookupStockLevel({ itemId: x.id, warehouseId: w.id })).stockLevel?.onHand).toBe(0n);
    const again = await inv.stock.bulkAdjustStock(request);
    expect(again.replayed).toBe(true);
    expect(again.results.map((r) => r.status?.code)).toEqual(res.results.map((r) => r.status?.code));
  });

  it("best effort: applies the lines that can be, in key order, and reports the rest", async () => {
    const w = inv.directory.addWarehouse();
    const [x, y] = [await inv.newItem(), await inv.newItem()];
    const res = await inv.stock.bulkAdjustStock({
      idempotencyKey: key(),
      mode: BulkMode.BEST_EFFORT,
      reason: "count",
      lines: [
        { itemId: x.id, warehouseId: w.id, delta: 5n },
        { itemId: y.id, warehouseId: w.id, delta: -1n },
        { itemId: x.id, warehouseId: w.id, delta: -2n, reason: "damaged" },
        { sku: "NO-SUCH-SKU", warehouseId: w.id, delta: 1n },
      ],
    });
    expect(res).toMatchObject({ appliedCount: 2, failedCount: 2 });
    expect(res.results.map((r) => r.status?.code)).toEqual([Code.OK, Code.FAILED_PRECONDITION, Code.OK, Code.NOT_FOUND]);
    expect(res.results[2]?.stockLevel?.onHand).toBe(3n);
    expect(await reconcile(inv.db)).toEqual([]);
  });

  it("refuses a malformed request as a whole, naming each bad line", async () => {
    const w = inv.directory.addWarehouse();
    const e = await failure(
      inv.stock.bulkAdjustStock({
        idempotencyKey: key(),
        lines: [
          { sku: "has space", warehouseId: w.id, delta: 1n, reason: "r" },
          { sku: "OK-1", warehouseId: w.id, delta: 0n, reason: "r" },
        ],
      }),
    );
    expect(e).toMatchObject({ code: "INVALID_ARGUMENT", field: "lines[0].sku" });
  });
});

describe("bad input changes nothing", () => {
  it.each([
    ["zero quantity", { quantity: 0n }, "quantity"],
    ["negative quantity", { quantity: -3n }, "quantity"],
    ["SKU with spaces", { sku: "A B", itemId: "" }, "sku"],
    ["SKU over the length limit", { sku: "X".repeat(65), itemId: "" }, "sku"],
    ["missing idempotency key", { idempotencyKey: "" }, "idempotency_key"],
    ["malformed warehouse id", { warehouseId: "nope" }, "warehouse_id"],
  ])("%s", async (_name, over, field) => {
    const w = inv.directory.addWarehouse();
    const item = await inv.newItem();
    const e = await failure(inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: 1n, idempotencyKey: key(), ...over }));
    expect(e).toMatchObject({ code: "INVALID_ARGUMENT", field });
    expect((await inv.stock.lookupStockLevel({ itemId: item.id, warehouseId: w.id })).stockLevel?.onHand).toBe(0n);
  });

  it("an unknown SKU or warehouse is NOT_FOUND; an adjustment below reserved or zero is FAILED_PRECONDITION", async () => {
    const w = inv.directory.addWarehouse();
    const item = await inv.newItem();
    expect(await failure(inv.stock.receiveStock({ sku: "NOPE-404", warehouseId: w.id, quantity: 1n, idempotencyKey: key() }))).toMatchObject({
      code: "NOT_FOUND",
      field: "sku",
    });
    expect(await failure(inv.stock.receiveStock({ itemId: item.id, warehouseId: crypto.randomUUID(), quantity: 1n, idempotencyKey: key() }))).toMatchObject({
      code: "NOT_FOUND",
      field: "warehouse_id",
    });
    await inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: 3n, idempotencyKey: key() });
    expect(await failure(inv.stock.adjustStock({ itemId: item.id, warehouseId: w.id, delta: -4n, reason: "loss", idempotencyKey: key() }))).toMatchObject({
      code: "FAILED_PRECONDITION",
      reason: "INSUFFICIENT_STOCK",
      field: "delta",
    });
    expect((await inv.stock.lookupStockLevel({ itemId: item.id, warehouseId: w.id })).stockLevel?.onHand).toBe(3n);
  });
});

import { failure } from "@inv/platform/testing";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { HoldState } from "@inv/gen/inventory/v1/hold_pb";
import { ItemStatus } from "@inv/gen/inventory/v1/item_pb";
import { AvailabilityStatus, MovementKind, StockStatus } from "@inv/gen/inventory/v1/stock_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestInventory, type TestInventory } from "./testing.js";

let inv: TestInventory;
let seq = 0;
const key = () => `k-${process.pid}-${Date.now().toString(36)}-${++seq}`;

beforeAll(async () => {
  inv = await startTestInventory();
});
afterAll(() => inv?.stop());

describe("the ledger", () => {
  it("lists entries in order, a page at a time, filtered by kind and time, oldest or newest first", async () => {
    const w = inv.directory.addWarehouse();
    const other = inv.directory.addWarehouse();
    const item = await inv.newItem();
    const before = new Date();
    for (let i = 1; i <= 5; i++) await inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: BigInt(i), idempotencyKey: key() });
    await inv.stock.adjustStock({ itemId: item.id, warehouseId: w.id, delta: -1n, reason: "count", idempotencyKey: key() });
    await inv.stock.transferStock({ itemId: item.id, fromWarehouseId: w.id, toWarehouseId: other.id, quantity: 2n, idempotencyKey: key() });

    const pages = [];
    let pageToken = "";
    do {
      const page = await inv.stock.listMovements({ itemId: item.id, pageSize: 3, pageToken });
      pages.push(page.movements.length);
      pageToken = page.nextPageToken;
      if (pages.length === 1) expect(page.movements.map((m) => m.delta)).toEqual([1n, 2n, 3n]);
    } while (pageToken);
    expect(pages).toEqual([3, 3, 2]);

    const all = (await inv.stock.listMovements({ itemId: item.id })).movements;
    expect(all.map((m) => m.sequence)).toEqual([...all.map((m) => m.sequence)].sort((a, b) => Number(a - b)));
    const newest = (await inv.stock.listMovements({ itemId: item.id, newestFirst: true, pageSize: 2 })).movements;
    expect(newest.map((m) => m.id)).toEqual([all[7]!.id, all[6]!.id]);

    const receipts = await inv.stock.listMovements({ itemId: item.id, kinds: [MovementKind.RECEIPT] });
    expect(receipts.movements).toHaveLength(5);
    const inOther = await inv.stock.listMovements({ itemId: item.id, warehouseId: other.id });
    expect(inOther.movements.map((m) => m.kind)).toEqual([MovementKind.TRANSFER_IN]);

    const window = await inv.stock.listMovements({
      itemId: item.id,
      startTime: timestampFromDate(before),
      endTime: timestampFromDate(new Date(Date.now() + 60_000)),
    });
    expect(window.movements).toHaveLength(8);
    const future = await inv.stock.listMovements({ itemId: item.id, startTime: timestampFromDate(new Date(Date.now() + 60_000)) });
    expect(future.movements).toHaveLength(0);
    expect(await failure(inv.stock.listMovements({ startTime: timestampFromDate(new Date()), endTime: timestampFromDate(before) }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "end_time",
    });
    expect((await inv.stock.getMovement({ id: all[0]!.id })).movement).toEqual(all[0]);
    // A token is bound to its filters.
    const first = await inv.stock.listMovements({ itemId: item.id, pageSize: 1 });
    expect(
      await failure(inv.stock.listMovements({ itemId: item.id, kinds: [MovementKind.RECEIPT], pageSize: 1, pageToken: first.nextPageToken })),
    ).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "page_token",
    });
  });
});

describe("stock levels", () => {
  it("list by warehouse and status, change reorder settings, and report statuses by the rules", async () => {
    const w = inv.directory.addWarehouse();
    const [a, b, c] = [await inv.newItem(), await inv.newItem(), await inv.newItem()];
    await inv.stock.receiveStock({ itemId: a.id, warehouseId: w.id, quantity: 10n, idempotencyKey: key() });
    const low = await inv.stock.receiveStock({ itemId: b.id, warehouseId: w.id, quantity: 2n, idempotencyKey: key() });
    await inv.stock.receiveStock({ itemId: c.id, warehouseId: w.id, quantity: 1n, idempotencyKey: key() });
    await inv.stock.adjustStock({ itemId: c.id, warehouseId: w.id, delta: -1n, reason: "sold out", idempotencyKey: key() });

    const updated = await inv.stock.updateStockLevel({ stockLevel: { id: low.stockLevel!.id, reorderPoint: 5n }, updateMask: { paths: ["reorder_point"] } });
    expect(updated.stockLevel).toMatchObject({ reorderPoint: 5n, status: StockStatus.LOW_STOCK, onHand: 2n });
    expect((await inv.stock.getStockLevel({ id: low.stockLevel!.id })).stockLevel?.status).toBe(StockStatus.LOW_STOCK);

    const inW = await inv.stock.listStockLevels({ warehouseId: w.id });
    expect(inW.stockLevels).toHaveLength(3);
    expect(inW.stockLevels.map((l) => l.sku)).toEqual([a.sku, b.sku, c.sku].sort());
    expect((await inv.stock.listStockLevels({ warehouseId: w.id, statuses: [StockStatus.OUT_OF_STOCK] })).stockLevels.map((l) => l.itemId)).toEqual([c.id]);
    expect((await inv.stock.listStockLevels({ warehouseId: w.id, nonzeroOnly: true })).stockLevels).toHaveLength(2);
    const page1 = await inv.stock.listStockLevels({ warehouseId: w.id, pageSize: 2 });
    const page2 = await inv.stock.listStockLevels({ warehouseId: w.id, pageSize: 2, pageToken: page1.nextPageToken });
    expect([...page1.stockLevels, ...page2.stockLevels].map((l) => l.id)).toEqual(inW.stockLevels.map((l) => l.id));
    expect(page2.nextPageToken).toBe("");

    // The cached reads of a's level (warmed here) show its item's new status at once.
    const aLevel = (await inv.stock.lookupStockLevel({ itemId: a.id, warehouseId: w.id })).stockLevel!;
    expect((await inv.stock.getStockLevel({ id: aLevel.id })).stockLevel?.status).not.toBe(StockStatus.DISCONTINUED);
    await inv.items.updateItem({ item: { id: a.id, status: ItemStatus.DISCONTINUED }, updateMask: { paths: ["status"] } });
    expect((await inv.stock.listStockLevels({ itemId: a.id })).stockLevels[0]?.status).toBe(StockStatus.DISCONTINUED);
    expect((await inv.stock.getStockLevel({ id: aLevel.id })).stockLevel?.status).toBe(StockStatus.DISCONTINUED);
    expect((await inv.stock.lookupStockLevel({ itemId: a.id, warehouseId: w.id })).stockLevel?.status).toBe(StockStatus.DISCONTINUED);

    expect(
      await failure(inv.stock.updateStockLevel({ stockLevel: { id: low.stockLevel!.id, onHand: 100n }, updateMask: { paths: ["on_hand"] } })),
    ).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "update_mask",
    });
    expect(await failure(inv.stock.getStockLevel({ id: crypto.randomUUID() }))).toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("availability", () => {
  it("answers per line and overall, sums lines of one item, and counts only active warehouses", async () => {
    const w1 = inv.directory.addWarehouse({ priority: 1 });
    const w2 = inv.directory.addWarehouse({ priority: 9 });
    const closed = inv.directory.addWarehouse({ priority: 5 });
    const [a, b] = [await inv.newItem(), await inv.newItem()];
    await inv.stock.receiveStock({ itemId: a.id, warehouseId: w1.id, quantity: 4n, idempotencyKey: key() });
    await inv.stock.receiveStock({ itemId: a.id, warehouseId: w2.id, quantity: 3n, idempotencyKey: key() });
    await inv.stock.receiveStock({ itemId: b.id, warehouseId: closed.id, quantity: 50n, idempotencyKey: key() });
    closed.active = false;

    const res = await inv.stock.checkAvailability({
      lines: [
        { sku: a.sku, quantity: 3n },
        { itemId: a.id, quantity: 3n },
        { itemId: b.id, quantity: 1n },
        { sku: "NO-SUCH-ITEM", quantity: 1n },
      ],
    });
    expect(res.lines.map((l) => l.status)).toEqual([
      AvailabilityStatus.AVAILABLE,
      AvailabilityStatus.AVAILABLE,
      AvailabilityStatus.UNAVAILABLE,
      AvailabilityStatus.UNKNOWN_ITEM,
    ]);
    expect(res.lines[0]?.available).toBe(7n);
    // Highest priority first.
    expect(res.lines[0]?.warehouses.map((w) => w.warehouseId)).toEqual([w2.id, w1.id]);
    expect(res).toMatchObject({ status: AvailabilityStatus.UNAVAILABLE, allAvailable: false });

    const single = await inv.stock.checkAvailability({ lines: [{ itemId: a.id, quantity: 5n }], requireSingleWarehouse: true });
    expect(single.lines[0]).toMatchObject({ status: AvailabilityStatus.UNAVAILABLE, available: 4n });
    const onlyW2 = await inv.stock.checkAvailability({ lines: [{ itemId: a.id, quantity: 3n }], warehouseIds: [w2.id] });
    expect(onlyW2).toMatchObject({ status: AvailabilityStatus.AVAILABLE, allAvailable: true });
    expect(await failure(inv.stock.checkAvailability({ lines: [{ itemId: a.id, quantity: 0n }] }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "lines[0].quantity",
    });
  });
});

describe("holds, read back", () => {
  it("GetHold and ListHolds by state, item and warehouse", async () => {
    const w = inv.directory.addWarehouse();
    const item = await inv.newItem();
    await inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: 10n, idempotencyKey: key() });
    const ids = [key(), key(), key()];
    for (const reservationId of ids) await inv.holds.holdStock({ reservationId, lines: [{ itemId: item.id, quantity: 1n }], warehouseIds: [w.id] });
    await inv.holds.releaseHold({ reservationId: ids[1]! });
    expect((await inv.holds.getHold({ reservationId: ids[0]! })).hold?.state).toBe(HoldState.HELD);
    const held = await inv.holds.listHolds({ itemId: item.id, states: [HoldState.HELD] });
    expect(held.holds.map((h) => h.reservationId)).toEqual([ids[0], ids[2]]);
    const page = await inv.holds.listHolds({ warehouseId: w.id, pageSize: 2 });
    const rest = await inv.holds.listHolds({ warehouseId: w.id, pageSize: 2, pageToken: page.nextPageToken });
    expect([...page.holds, ...rest.holds].map((h) => h.reservationId)).toEqual(ids);
    expect(await failure(inv.holds.getHold({ reservationId: key() }))).toMatchObject({ code: "NOT_FOUND", field: "reservation_id" });
  });
});

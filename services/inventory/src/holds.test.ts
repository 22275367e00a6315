import { failure } from "@inv/platform/testing";
import { status } from "@grpc/grpc-js";
import type { RemoteError } from "@inv/platform";
import { AllocationReason, AllocationStrategy, ShortageReason } from "@inv/gen/common/v1/allocation_pb";
import { HoldState } from "@inv/gen/inventory/v1/hold_pb";
import { ItemStatus } from "@inv/gen/inventory/v1/item_pb";
import { MovementKind } from "@inv/gen/inventory/v1/stock_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcile } from "./store/reconcile.js";
import { startTestInventory, type TestInventory } from "./testing.js";

let inv: TestInventory;
let seq = 0;
const key = () => `k-${process.pid}-${Date.now().toString(36)}-${++seq}`;
const reservation = () => `res-${process.pid}-${Date.now().toString(36)}-${++seq}`;

beforeAll(async () => {
  inv = await startTestInventory();
});
afterAll(() => inv?.stop());

async function stocked(quantities: number[], priorities = quantities.map((_, i) => 100 - i)) {
  const item = await inv.newItem();
  const warehouses = [];
  for (const [i, q] of quantities.entries()) {
    const w = inv.directory.addWarehouse({ priority: priorities[i]! });
    if (q > 0) await inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: BigInt(q), idempotencyKey: key() });
    warehouses.push(w);
  }
  return { item, warehouses, ids: warehouses.map((w) => w.id) };
}

const available = async (itemId: string, warehouseId: string) => (await inv.stock.lookupStockLevel({ itemId, warehouseId })).stockLevel!;

describe("holding stock", () => {
  it("holds from the first warehouse in priority order that covers the line, then releases", async () => {
    const { item, warehouses, ids } = await stocked([2, 10, 10]);
    const r = reservation();
    const { hold, replayed } = await inv.holds.holdStock({ reservationId: r, lines: [{ itemId: item.id, quantity: 5n }], warehouseIds: ids });
    expect(replayed).toBe(false);
    expect(hold?.state).toBe(HoldState.HELD);
    expect(hold?.lines[0]?.allocations).toMatchObject([
      { warehouseId: warehouses[1]!.id, quantity: 5n, rank: 2, reason: AllocationReason.PRIORITY, availableBefore: 10n },
    ]);
    expect(await available(item.id, warehouses[1]!.id)).toMatchObject({ reserved: 5n, available: 5n });

    const released = await inv.holds.releaseHold({ reservationId: r, reason: "cancelled" });
    expect(released.hold).toMatchObject({ state: HoldState.RELEASED, releaseReason: "cancelled" });
    expect(await available(item.id, warehouses[1]!.id)).toMatchObject({ reserved: 0n, available: 10n });
    // Releasing again changes nothing.
    expect((await inv.holds.releaseHold({ reservationId: r })).hold?.state).toBe(HoldState.RELEASED);
    expect(await reconcile(inv.db)).toEqual([]);
  });

  it("splits over warehouses only when allowed, and fails with shortages otherwise", async () => {
    const { item, ids } = await stocked([3, 4]);
    const whole = await inv.holds.holdStock({ reservationId: reservation(), lines: [{ sku: item.sku, quantity: 6n }], warehouseIds: ids });
    expect(whole.hold?.state).toBe(HoldState.FAILED);
    expect(whole.hold?.shortages).toMatchObject([{ lineIndex: 0, requested: 6n, available: 4n, reason: ShortageReason.INSUFFICIENT_STOCK }]);

    const split = await inv.holds.holdStock({ reservationId: reservation(), lines: [{ sku: item.sku, quantity: 6n }], warehouseIds: ids, allowSplit: true });
    expect(split.hold?.state).toBe(HoldState.HELD);
    expect(split.hold?.lines[0]?.allocations.map((a) => [a.quantity, a.reason])).toEqual([
      [3n, AllocationReason.SPLIT],
      [3n, AllocationReason.SPLIT],
    ]);
  });

  it("MOST_STOCK takes from the warehouse with the most available", async () => {
    const { item, warehouses, ids } = await stocked([3, 9, 5]);
    const { hold } = await inv.holds.holdStock({
      reservationId: reservation(),
      lines: [{ itemId: item.id, quantity: 2n }],
      warehouseIds: ids,
      strategy: AllocationStrategy.MOST_STOCK,
    });
    expect(hold?.lines[0]?.allocations).toMatchObject([{ warehouseId: warehouses[1]!.id, reason: AllocationReason.MOST_STOCK, rank: 1 }]);
  });

  it("is idempotent by reservation id; other lines under the same id are refused", async () => {
    const { item, ids } = await stocked([10]);
    const r = reservation();
    const request = { reservationId: r, lines: [{ itemId: item.id, quantity: 2n }], warehouseIds: ids };
    const results = await Promise.all(Array.from({ length: 10 }, () => inv.holds.holdStock(request)));
    expect(results.filter((x) => !x.replayed)).toHaveLength(1);
    expect(new Set(results.map((x) => x.hold?.state))).toEqual(new Set([HoldState.HELD]));
    expect((await available(item.id, ids[0]!)).reserved).toBe(2n);
    expect(await failure(inv.holds.holdStock({ ...request, lines: [{ itemId: item.id, quantity: 3n }] }))).toMatchObject({
      code: "ALREADY_EXISTS",
      field: "reservation_id",
    });
  });

  it("commit takes the goods out; restock puts them back; wrong states are refused", async () => {
    const { item, ids } = await stocked([10]);
    const r = reservation();
    await inv.holds.holdStock({ reservationId: r, lines: [{ itemId: item.id, quantity: 4n }], warehouseIds: ids });
    const committed = await inv.holds.commitHold({ reservationId: r, reference: "SHIP-1" });
    expect(committed.hold).toMatchObject({ state: HoldState.COMMITTED, commitReference: "SHIP-1" });
    expect(await available(item.id, ids[0]!)).toMatchObject({ onHand: 6n, reserved: 0n });
    expect((await inv.holds.commitHold({ reservationId: r })).hold?.state).toBe(HoldState.COMMITTED);
    expect(await failure(inv.holds.releaseHold({ reservationId: r }))).toMatchObject({ code: "FAILED_PRECONDITION", reason: "HOLD_STATE" });
    const restocked = await inv.holds.restockHold({ reservationId: r, reason: "returned" });
    expect(restocked.hold?.state).toBe(HoldState.RESTOCKED);
    expect(await available(item.id, ids[0]!)).toMatchObject({ onHand: 10n, reserved: 0n });
    const kinds = (await inv.stock.listMovements({ reservationId: r })).movements.map((m) => m.kind);
    expect(kinds).toEqual([MovementKind.HOLD, MovementKind.COMMIT, MovementKind.RESTOCK]);
    expect(await failure(inv.holds.commitHold({ reservationId: reservation() }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await reconcile(inv.db)).toEqual([]);
  });

  it("a release that arrives before its hold makes the late hold hold nothing", async () => {
    const { item, ids } = await stocked([10]);
    const r = reservation();
    await inv.holds.releaseHold({ reservationId: r, reason: "timed out" });
    const late = await inv.holds.holdStock({ reservationId: r, lines: [{ itemId: item.id, quantity: 1n }], warehouseIds: ids });
    expect(late).toMatchObject({ replayed: true, hold: { state: HoldState.RELEASED } });
    expect((await available(item.id, ids[0]!)).reserved).toBe(0n);
  });

  it("unknown items, inactive items and inactive warehouses are shortages, and nothing is held", async () => {
    const { item, ids } = await stocked([10]);
    const other = await inv.newItem();
    await inv.items.updateItem({ item: { id: other.id, status: ItemStatus.DISCONTINUED }, updateMask: { paths: ["status"] } });
    const { hold } = await inv.holds.holdStock({
      reservationId: reservation(),
      lines: [
        { itemId: item.id, quantity: 1n },
        { sku: "NOT-A-SKU", quantity: 1n },
        { itemId: other.id, quantity: 1n },
      ],
      warehouseIds: ids,
    });
    expect(hold?.state).toBe(HoldState.FAILED);
    expect(hold?.shortages.map((s) => s.reason)).toEqual([ShortageReason.UNKNOWN_ITEM, ShortageReason.ITEM_NOT_ACTIVE]);
    expect((await available(item.id, ids[0]!)).reserved).toBe(0n);

    const closed = inv.directory.addWarehouse({ active: false });
    const none = await inv.holds.holdStock({ reservationId: reservation(), lines: [{ itemId: item.id, quantity: 1n }], warehouseIds: [closed.id] });
    expect(none.hold?.shortages[0]?.reason).toBe(ShortageReason.NO_ACTIVE_WAREHOUSE);
  });
});

describe("contention", () => {
  it("50 clients holding the last units of one SKU at once: exactly the available quantity is granted, no error reaches a caller", async () => {
    const { item, ids } = await stocked([10]);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => inv.holds.holdStock({ reservationId: reservation(), lines: [{ itemId: item.id, quantity: 1n }], warehouseIds: ids })),
    );
    const held = results.filter((r) => r.hold?.state === HoldState.HELD);
    expect(held).toHaveLength(10);
    expect(results.filter((r) => r.hold?.state === HoldState.FAILED)).toHaveLength(40);
    expect(await available(item.id, ids[0]!)).toMatchObject({ onHand: 10n, reserved: 10n, available: 0n });
    expect(await reconcile(inv.db)).toEqual([]);
  });

  it("concurrent holds, adjustments and transfers on a few hot SKUs keep every invariant", async () => {
    const hot = await Promise.all([stocked([20, 20]), stocked([20, 20])]);
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 120; i++) {
      const { item, ids } = hot[i % 2]!;
      const pick = i % 4;
      if (pick === 0)
        calls.push(inv.holds.holdStock({ reservationId: reservation(), lines: [{ itemId: item.id, quantity: 2n }], warehouseIds: ids, allowSplit: true }));
      else if (pick === 1) calls.push(inv.stock.adjustStock({ itemId: item.id, warehouseId: ids[i % 2]!, delta: -1n, reason: "loss", idempotencyKey: key() }));
      else if (pick === 2)
        calls.push(inv.stock.transferStock({ itemId: item.id, fromWarehouseId: ids[0]!, toWarehouseId: ids[1]!, quantity: 1n, idempotencyKey: key() }));
      else calls.push(inv.stock.receiveStock({ itemId: item.id, warehouseId: ids[1]!, quantity: 1n, idempotencyKey: key() }));
    }
    const settled = await Promise.allSettled(calls);
    for (const s of settled) {
      if (s.status === "rejected") expect(["FAILED_PRECONDITION"]).toContain(status[(s.reason as RemoteError).code]);
    }
    expect(await reconcile(inv.db)).toEqual([]);
  });
});

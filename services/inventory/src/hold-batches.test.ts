import { rows } from "@inv/platform";
import { sql } from "drizzle-orm";
import { HoldState } from "@inv/gen/inventory/v1/hold_pb";
import { uuidv7 } from "uuidv7";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { holdBatches, planningReads } from "./hold-batches.js";
import { findHold, type HoldToTake } from "./store/holds.js";
import { reconcile } from "./store/reconcile.js";
import { startTestInventory, type TestInventory } from "./testing.js";

let inv: TestInventory;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;

beforeAll(async () => {
  inv = await startTestInventory();
});
afterAll(() => inv?.stop());

interface Stocked {
  levelId: string;
  itemId: string;
  sku: string;
  warehouseId: string;
}

/** An item with `quantity` on hand in a new warehouse, and its level. */
async function stocked(quantity: number): Promise<Stocked> {
  const item = await inv.newItem();
  const w = inv.directory.addWarehouse();
  await inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: BigInt(quantity), idempotencyKey: unique("k") });
  const { stockLevel } = await inv.stock.lookupStockLevel({ itemId: item.id, warehouseId: w.id });
  return { levelId: stockLevel!.id, itemId: item.id, sku: item.sku, warehouseId: w.id };
}

/** A planned hold of `quantity` from one level, as the HoldStock handler hands it over. */
function planned(at: Stocked, quantity = 1, over: { reservationId?: string; state?: number } = {}): HoldToTake {
  const reservationId = over.reservationId ?? unique("res");
  return {
    hold: {
      reservationId,
      state: over.state ?? HoldState.HELD,
      payloadHash: "",
      strategy: 1,
      allowSplit: false,
      warehouseIds: [at.warehouseId],
      lines: [{ lineIndex: 0, itemId: at.itemId, sku: at.sku, quantity }],
      shortages: [],
    },
    allocations: [
      {
        reservationId,
        stockLevelId: at.levelId,
        lineIndex: 0,
        itemId: at.itemId,
        warehouseId: at.warehouseId,
        warehouseCode: "W",
        locationId: null,
        quantity,
        rank: 1,
        warehousePriority: 0,
        availableBefore: 0,
        reason: 1,
        explanation: "test",
        movementId: uuidv7(),
      },
    ],
    actor: "test",
    requestId: unique("req"),
    audit: undefined,
  };
}

/** Straight from the database: these holds bypass the service, and so its cache's invalidation. */
const reservedAt = async (at: Stocked) => {
  const [level] = await rows<{ reserved: string }>(inv.db, sql`SELECT reserved::text FROM inventory.stock_levels WHERE id = ${at.levelId}`);
  return BigInt(level!.reserved);
};

describe("hold batches", () => {
  it("takes holds that arrive together in few statements, each on its own: exactly the stock there is", async () => {
    const hot = await stocked(25);
    const batches = holdBatches(inv.db, { lanes: 1, maxBatch: 8 });
    const outcomes = await Promise.all(Array.from({ length: 40 }, () => batches.take(planned(hot))));

    expect(outcomes.filter((o) => o.taken)).toHaveLength(25);
    expect(outcomes.filter((o) => !o.taken && o.why === "stale")).toHaveLength(15);
    // The first goes alone at once; the other 39 queue behind it and go 8 at a time.
    expect(batches.stats()).toEqual({ batches: 6, items: 40 });
    expect(await reservedAt(hot)).toBe(25n);
    expect(await reconcile(inv.db)).toEqual([]);
  });

  it("takes a reservation named twice in one batch once", async () => {
    const at = await stocked(10);
    const batches = holdBatches(inv.db, { lanes: 1 });
    const first = batches.take(planned(at));
    const reservationId = unique("res");
    const [a, b] = await Promise.all([batches.take(planned(at, 2, { reservationId })), batches.take(planned(at, 3, { reservationId })), first]);

    expect([a, b].filter((o) => o.taken)).toHaveLength(1);
    expect([a, b].find((o) => !o.taken)).toEqual({ taken: false, why: "held" });
    expect(batches.stats().batches).toBe(2);
    expect(await reservedAt(at)).toBe(1n + (a?.taken ? 2n : 3n));
    expect(await reconcile(inv.db)).toEqual([]);
  });

  it("rejects every hold of a batch whose statement fails, and writes none of them", async () => {
    const at = await stocked(10);
    const batches = holdBatches(inv.db, { lanes: 1 });
    const first = batches.take(planned(at));
    const good = planned(at, 2);
    // A hold state the table refuses: the statement fails as a whole.
    const bad = planned(at, 3, { state: 99 });
    const results = await Promise.allSettled([batches.take(good), batches.take(bad)]);

    expect((await first).taken).toBe(true);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(await findHold(inv.db, good.hold.reservationId)).toBeUndefined();
    expect(await reservedAt(at)).toBe(1n);
    expect(await reconcile(inv.db)).toEqual([]);
  });

  it("takes a hold of several levels in a batch only when every level still has its part", async () => {
    const [a, b] = await Promise.all([stocked(5), stocked(1)]);
    /** One hold of 1 from each of a and b, as the handler plans a two-line basket. */
    const fromBoth = (reservationId: string) => {
      const take = planned(a, 1, { reservationId });
      take.hold.lines = [...take.hold.lines!, { lineIndex: 1, itemId: b.itemId, sku: b.sku, quantity: 1 }];
      take.allocations.push({ ...planned(b, 1, { reservationId }).allocations[0]!, lineIndex: 1 });
      return take;
    };
    const batches = holdBatches(inv.db, { lanes: 1 });
    const first = batches.take(planned(a));
    // Queued behind the first, these three go as one batch, taken in reservation id order.
    const base = unique("batch");
    const ids = [`${base}-1`, `${base}-2`, `${base}-3`];
    const [both, late, aOnly] = await Promise.all([
      batches.take(fromBoth(ids[0]!)),
      batches.take(fromBoth(ids[1]!)),
      batches.take(planned(a, 2, { reservationId: ids[2]! })),
    ]);

    expect((await first).taken).toBe(true);
    expect([both?.taken, late, aOnly?.taken]).toEqual([true, { taken: false, why: "stale" }, true]);
    expect(batches.stats()).toEqual({ batches: 2, items: 4 });
    expect(await findHold(inv.db, ids[1]!)).toBeUndefined();
    expect(await reservedAt(a)).toBe(4n);
    expect(await reservedAt(b)).toBe(1n);
    expect(await reconcile(inv.db)).toEqual([]);
  });

  it("takes holds on different levels in one batch, whatever order their levels come in", async () => {
    const levels = await Promise.all([stocked(5), stocked(5), stocked(5)]);
    const batches = holdBatches(inv.db, { lanes: 1 });
    const outcomes = await Promise.all([...levels, ...levels.reverse()].map((at) => batches.take(planned(at, 2))));

    expect(outcomes.every((o) => o.taken)).toBe(true);
    for (const at of levels) expect(await reservedAt(at)).toBe(4n);
    expect(await reconcile(inv.db)).toEqual([]);
  });
});

describe("planning reads", () => {
  it("reads the holds that arrive together in one statement, each getting only what it names", async () => {
    const [a, b] = await Promise.all([stocked(5), stocked(7)]);
    const held = planned(a, 1);
    expect((await holdBatches(inv.db).take(held)).taken).toBe(true);
    const reads = planningReads(inv.db, { lanes: 1 });
    const first = reads.read({ reservationId: unique("res"), itemIds: [a.itemId], skus: [], warehouseIds: [a.warehouseId] });
    // Queued behind the first, these go as one statement.
    const [again, bySku, unknown] = await Promise.all([
      reads.read({ reservationId: held.hold.reservationId, itemIds: [a.itemId], skus: [], warehouseIds: [a.warehouseId] }),
      reads.read({ reservationId: unique("res"), itemIds: [], skus: [b.sku], warehouseIds: [a.warehouseId, b.warehouseId] }),
      reads.read({ reservationId: unique("res"), itemIds: [crypto.randomUUID()], skus: ["NO-SUCH-SKU"], warehouseIds: [b.warehouseId] }),
    ]);

    expect(reads.stats()).toEqual({ batches: 2, items: 4 });
    const levelOf = (at: Stocked, available: number) => ({ id: at.levelId, itemId: at.itemId, warehouseId: at.warehouseId, locationId: null, available });
    expect(await first).toMatchObject({ held: false, items: [{ id: a.itemId, sku: a.sku }], levels: [levelOf(a, 4)] });
    expect(again).toMatchObject({ held: true, items: [{ id: a.itemId }], levels: [levelOf(a, 4)] });
    // b has no level in a's warehouse, and a's level is not b's.
    expect(bySku).toMatchObject({ held: false, items: [{ id: b.itemId, sku: b.sku }], levels: [levelOf(b, 7)] });
    expect(unknown).toEqual({ held: false, items: [], levels: [] });
  });
});

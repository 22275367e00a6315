import { randomUUID } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AllocationStrategy, ShortageReason } from "@inv/gen/common/v1/allocation_pb";
import { FailureReason, ReservationStatus } from "@inv/gen/reservation/v1/reservation_pb";
import { reconcile } from "@inv/inventory-service/testing";
import { failure } from "@inv/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invariantProblems } from "./invariants.js";
import { Status } from "./store/schema.js";
import { transition } from "./store/reservations.js";
import { startTestReservations, type TestReservations } from "./testing.js";

let t: TestReservations;
let seq = 0;
const order = () => `order-${process.pid}-${++seq}`;

beforeAll(async () => {
  t = await startTestReservations({ RESERVATION_TTL_MIN_SECONDS: 1 });
});
afterAll(() => t?.stop());

/** An item with stock in new warehouses (priorities in order, highest first by default). */
async function stocked(quantities: number[], priorities = quantities.map((_, i) => 900 - i * 100)) {
  const item = await t.inv.newItem();
  const warehouses = [];
  for (const [i, q] of quantities.entries()) {
    const w = t.inv.directory.addWarehouse({ priority: priorities[i]! });
    if (q > 0) await t.inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: BigInt(q), idempotencyKey: randomUUID() });
    warehouses.push(w);
  }
  return { item, warehouses, ids: warehouses.map((w) => w.id) };
}

const level = async (itemId: string, warehouseId: string) => (await t.inv.stock.lookupStockLevel({ itemId, warehouseId })).stockLevel!;

/** Waits for what the sweeper does: after the pending grace (6 s, TEST_CONFIG) and on a loaded machine. */
const eventually = async (check: () => Promise<boolean>, ms = 20_000) => {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe("the life of a reservation", () => {
  it("holds by priority and explains it; confirming commits the stock; fulfilling records the shipment", async () => {
    const { item, warehouses, ids } = await stocked([3, 10]);
    const { reservation, replayed } = await t.reservations.reserve({
      orderId: order(),
      customerId: "c-1",
      lines: [{ sku: item.sku, quantity: 5n }],
      warehouseIds: ids,
    });
    expect(replayed).toBe(false);
    expect(reservation).toMatchObject({ status: ReservationStatus.ACTIVE, customerId: "c-1" });
    expect(reservation?.expireTime).toBeDefined();
    const line = reservation!.lines[0]!;
    expect(line).toMatchObject({ itemId: item.id, sku: item.sku, quantity: 5n });
    expect(line.allocations).toMatchObject([{ warehouseId: warehouses[1]!.id, quantity: 5n }]);
    expect(line.explanation).toBe(`5 held: 5 from ${warehouses[1]!.code} (priority 800)`);
    expect(await level(item.id, warehouses[1]!.id)).toMatchObject({ onHand: 10n, reserved: 5n });
    // Recorded in the audit trail with the reservation, in the same statement.
    await eventually(async () => t.svc.auditEvents.some((e) => e.method.endsWith("/Reserve") && e.resourceId === reservation!.id));

    const confirmed = (await t.reservations.confirmReservation({ id: reservation!.id })).reservation!;
    expect(confirmed.status).toBe(ReservationStatus.CONFIRMED);
    expect(confirmed.expireTime).toBeUndefined();
    expect(confirmed.confirmTime).toBeDefined();
    expect(await level(item.id, warehouses[1]!.id)).toMatchObject({ onHand: 5n, reserved: 0n });
    // Confirming again changes nothing.
    expect((await t.reservations.confirmReservation({ id: reservation!.id })).reservation?.status).toBe(ReservationStatus.CONFIRMED);

    const fulfilled = (await t.reservations.fulfillReservation({ id: reservation!.id, reference: "SHIP-1" })).reservation!;
    expect(fulfilled).toMatchObject({ status: ReservationStatus.FULFILLED, fulfillReference: "SHIP-1" });
    expect(await level(item.id, warehouses[1]!.id)).toMatchObject({ onHand: 5n, reserved: 0n });
    expect(await failure(t.reservations.cancelReservation({ id: reservation!.id, reason: "too late" }))).toMatchObject({
      code: "FAILED_PRECONDITION",
      reason: "RESERVATION_FULFILLED",
      field: "id",
    });
    expect(await reconcile(t.inv.db)).toEqual([]);
  });

  it("splits only when allowed, and fails holding nothing when stock is short", async () => {
    const { item, warehouses, ids } = await stocked([3, 4]);
    const short = (await t.reservations.reserve({ orderId: order(), customerId: "c", lines: [{ itemId: item.id, quantity: 6n }], warehouseIds: ids }))
      .reservation!;
    expect(short).toMatchObject({ status: ReservationStatus.FAILED, failureReason: FailureReason.SHORTAGE });
    expect(short.expireTime).toBeUndefined();
    expect(short.shortages).toMatchObject([{ lineIndex: 0, requested: 6n, reason: ShortageReason.INSUFFICIENT_STOCK }]);
    expect(short.lines[0]).toMatchObject({ itemId: item.id, sku: item.sku, allocations: [] });
    expect((await level(item.id, warehouses[0]!.id)).reserved + (await level(item.id, warehouses[1]!.id)).reserved).toBe(0n);

    const split = (
      await t.reservations.reserve({ orderId: order(), customerId: "c", lines: [{ itemId: item.id, quantity: 6n }], warehouseIds: ids, allowSplit: true })
    ).reservation!;
    expect(split.status).toBe(ReservationStatus.ACTIVE);
    expect(split.lines[0]!.allocations.map((a) => a.quantity)).toEqual([3n, 3n]);
    expect(split.lines[0]!.explanation).toBe(
      `6 held: 3 from ${warehouses[0]!.code} (priority 900), 3 from ${warehouses[1]!.code} (priority 800); split allowed`,
    );
  });

  it("takes every active warehouse by priority when none are named, and MOST_STOCK when asked", async () => {
    const { item, warehouses } = await stocked([2, 9], [100, 50]);
    const byPriority = (await t.reservations.reserve({ orderId: order(), customerId: "c", lines: [{ itemId: item.id, quantity: 2n }] })).reservation!;
    expect(byPriority.lines[0]!.allocations[0]!.warehouseId).toBe(warehouses[0]!.id);
    const most = (
      await t.reservations.reserve({ orderId: order(), customerId: "c", lines: [{ itemId: item.id, quantity: 1n }], strategy: AllocationStrategy.MOST_STOCK })
    ).reservation!;
    expect(most.lines[0]!.allocations[0]!.warehouseId).toBe(warehouses[1]!.id);
  });

  it("cancels: an active one releases its hold, a confirmed one puts its stock back", async () => {
    const { item, warehouses, ids } = await stocked([10]);
    const w = warehouses[0]!.id;
    const a = (await t.reservations.reserve({ orderId: order(), customerId: "c", lines: [{ itemId: item.id, quantity: 4n }], warehouseIds: ids })).reservation!;
    const cancelled = (await t.reservations.cancelReservation({ id: a.id, reason: "cart abandoned" })).reservation!;
    expect(cancelled).toMatchObject({ status: ReservationStatus.CANCELLED, cancelReason: "cart abandoned" });
    expect(await level(item.id, w)).toMatchObject({ onHand: 10n, reserved: 0n });
    expect((await t.reservations.cancelReservation({ id: a.id, reason: "again" })).reservation?.cancelReason).toBe("cart abandoned");

    const b = (await t.reservations.reserve({ orderId: order(), customerId: "c", lines: [{ itemId: item.id, quantity: 3n }], warehouseIds: ids })).reservation!;
    await t.reservations.confirmReservation({ id: b.id });
    expect(await level(item.id, w)).toMatchObject({ onHand: 7n, reserved: 0n });
    await t.reservations.cancelReservation({ id: b.id, reason: "returned" });
    expect(await level(item.id, w)).toMatchObject({ onHand: 10n, reserved: 0n });
    expect(await failure(t.reservations.confirmReservation({ id: b.id }))).toMatchObject({ code: "FAILED_PRECONDITION", reason: "RESERVATION_CANCELLED" });
    expect(await failure(t.reservations.fulfillReservation({ id: b.id }))).toMatchObject({ code: "FAILED_PRECONDITION", reason: "RESERVATION_CANCELLED" });
    expect(await reconcile(t.inv.db)).toEqual([]);
  });

  it("extends to an absolute time, safely retried, never earlier and never past the longest time to live", async () => {
    const { item, ids } = await stocked([5]);
    const r = (await t.reservations.reserve({ orderId: order(), customerId: "c", lines: [{ itemId: item.id, quantity: 1n }], warehouseIds: ids })).reservation!;
    const later = new Date(Date.now() + 3_600_000);
    const extended = (await t.reservations.extendReservation({ id: r.id, expireTime: timestampFromDate(later) })).reservation!;
    expect(extended.expireTime).toEqual(timestampFromDate(later));
    expect((await t.reservations.extendReservation({ id: r.id, expireTime: timestampFromDate(later) })).reservation?.expireTime).toEqual(
      timestampFromDate(later),
    );
    expect(await failure(t.reservations.extendReservation({ id: r.id, expireTime: timestampFromDate(new Date(Date.now() + 60_000)) }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "expire_time",
      constraint: "not_earlier",
    });
    expect(await failure(t.reservations.extendReservation({ id: r.id, expireTime: timestampFromDate(new Date(Date.now() - 1000)) }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      constraint: "future",
    });
    expect(await failure(t.reservations.extendReservation({ id: r.id, expireTime: timestampFromDate(new Date(Date.now() + 8 * 86_400_000)) }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      constraint: "range",
    });
    await t.reservations.confirmReservation({ id: r.id });
    expect(await failure(t.reservations.extendReservation({ id: r.id, expireTime: timestampFromDate(later) }))).toMatchObject({
      code: "FAILED_PRECONDITION",
      reason: "RESERVATION_CONFIRMED",
    });
  });

  it("expires on read at once, and the sweeper releases the hold within seconds", async () => {
    const { item, warehouses, ids } = await stocked([5]);
    const r = (
      await t.reservations.reserve({ orderId: order(), customerId: "c", lines: [{ itemId: item.id, quantity: 2n }], warehouseIds: ids, ttl: { seconds: 1n } })
    ).reservation!;
    expect(r.status).toBe(ReservationStatus.ACTIVE);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const read = (await t.reservations.getReservation({ id: r.id })).reservation!;
    expect(read).toMatchObject({ status: ReservationStatus.EXPIRED, cancelReason: "expired" });
    expect(await failure(t.reservations.confirmReservation({ id: r.id }))).toMatchObject({ code: "FAILED_PRECONDITION", reason: "RESERVATION_EXPIRED" });
    await eventually(async () => (await level(item.id, warehouses[0]!.id)).reserved === 0n);
    expect((await t.reservations.listReservations({ statuses: [ReservationStatus.EXPIRED], customerId: "c" })).reservations.map((x) => x.id)).toContain(r.id);
  });
});

describe("idempotency", () => {
  it("replays the same order and payload, refuses another payload while live, and reserves again once ended", async () => {
    const { item, ids } = await stocked([10]);
    const req = { orderId: order(), customerId: "c", lines: [{ itemId: item.id, quantity: 2n }], warehouseIds: ids };
    const first = await t.reservations.reserve(req);
    const again = await t.reservations.reserve(req);
    expect(again).toMatchObject({ replayed: true, reservation: { id: first.reservation!.id } });
    expect(await failure(t.reservations.reserve({ ...req, lines: [{ itemId: item.id, quantity: 3n }] }))).toMatchObject({
      code: "ALREADY_EXISTS",
      reason: "ORDER_ALREADY_RESERVED",
      field: "order_id",
    });
    expect((await t.reservations.getReservationByOrderId({ orderId: req.orderId })).reservation?.id).toBe(first.reservation!.id);

    await t.reservations.cancelReservation({ id: first.reservation!.id, reason: "try again" });
    const second = await t.reservations.reserve({ ...req, lines: [{ itemId: item.id, quantity: 3n }] });
    expect(second.replayed).toBe(false);
    expect(second.reservation?.id).not.toBe(first.reservation!.id);
    expect((await t.reservations.getReservationByOrderId({ orderId: req.orderId })).reservation?.id).toBe(second.reservation!.id);
  });

  it("replays a request id, and refuses it with another payload", async () => {
    const { item, ids } = await stocked([10]);
    const requestId = randomUUID();
    const req = { orderId: order(), customerId: "c", lines: [{ itemId: item.id, quantity: 1n }], warehouseIds: ids, requestId };
    const first = await t.reservations.reserve(req);
    await t.reservations.cancelReservation({ id: first.reservation!.id, reason: "x" });
    // The request id still finds its reservation, ended or not.
    expect(await t.reservations.reserve(req)).toMatchObject({
      replayed: true,
      reservation: { id: first.reservation!.id, status: ReservationStatus.CANCELLED },
    });
    expect(await failure(t.reservations.reserve({ ...req, customerId: "other" }))).toMatchObject({ code: "ALREADY_EXISTS", field: "request_id" });
  });

  it("makes one reservation of one order sent 100 times at once", async () => {
    const { item, warehouses, ids } = await stocked([1000]);
    const req = { orderId: order(), customerId: "c", lines: [{ itemId: item.id, quantity: 3n }], warehouseIds: ids };
    const answers = await Promise.all(Array.from({ length: 100 }, () => t.reservations.reserve(req)));
    expect(new Set(answers.map((a) => a.reservation?.id)).size).toBe(1);
    expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
    expect((await t.reservations.listReservations({ customerId: "c", pageSize: 500 })).reservations.filter((r) => r.orderId === req.orderId)).toHaveLength(1);
    expect((await level(item.id, warehouses[0]!.id)).reserved).toBe(3n);
  });
});

describe("bad input holds nothing", () => {
  it("refuses an empty basket, bad quantities, a duplicate item and a time to live out of bounds, naming each field", async () => {
    const { item, ids } = await stocked([10]);
    const base = { orderId: order(), customerId: "c", warehouseIds: ids };
    expect(await failure(t.reservations.reserve({ ...base, lines: [] }))).toMatchObject({ code: "INVALID_ARGUMENT", field: "lines", constraint: "required" });
    expect(await failure(t.reservations.reserve({ ...base, lines: [{ sku: item.sku, quantity: 0n }] }))).toMatchObject({ field: "lines[0].quantity" });
    expect(await failure(t.reservations.reserve({ ...base, lines: [{ sku: item.sku, quantity: -3n }] }))).toMatchObject({ field: "lines[0].quantity" });
    expect(
      await failure(
        t.reservations.reserve({
          ...base,
          lines: [
            { sku: item.sku, quantity: 1n },
            { sku: item.sku, quantity: 2n },
          ],
        }),
      ),
    ).toMatchObject({
      field: "lines[1].sku",
      constraint: "unique",
    });
    expect(await failure(t.reservations.reserve({ ...base, lines: [{ sku: item.sku, quantity: 1n }], ttl: { seconds: 8n * 86_400n } }))).toMatchObject({
      field: "ttl",
      constraint: "range",
    });
    expect(await failure(t.reservations.reserve({ ...base, orderId: "", customerId: "", lines: [{ quantity: 1n }] }))).toMatchObject({
      fields: ["order_id", "customer_id", "lines[0].item_id"],
    });
    expect((await level(item.id, ids[0]!)).reserved).toBe(0n);
    expect(await failure(t.reservations.getReservationByOrderId({ orderId: base.orderId }))).toMatchObject({ code: "NOT_FOUND" });
  });

  it("answers NOT_FOUND for an unknown SKU, naming the line, and holds nothing", async () => {
    const { item, ids } = await stocked([10]);
    const answer = await failure(
      t.reservations.reserve({
        orderId: order(),
        customerId: "c",
        lines: [
          { itemId: item.id, quantity: 1n },
          { sku: "NO-SUCH-SKU", quantity: 1n },
        ],
        warehouseIds: ids,
      }),
    );
    expect(answer).toMatchObject({ code: "NOT_FOUND", reason: "UNKNOWN_ITEM", field: "lines[1].sku" });
    expect((await level(item.id, ids[0]!)).reserved).toBe(0n);
  });
});

describe("faults", () => {
  it("answers UNAVAILABLE when inventory is down, holds nothing, and the sweeper settles the reservation once it is back", async () => {
    const { item, warehouses, ids } = await stocked([10]);
    const orderId = order();
    t.faults.inventoryDown = true;
    try {
      expect(await failure(t.reservations.reserve({ orderId, customerId: "c", lines: [{ itemId: item.id, quantity: 2n }], warehouseIds: ids }))).toMatchObject({
        code: "UNAVAILABLE",
        reason: "INVENTORY_UNAVAILABLE",
      });
    } finally {
      t.faults.inventoryDown = false;
    }
    await eventually(async () => (await t.reservations.getReservationByOrderId({ orderId })).reservation?.status === ReservationStatus.FAILED);
    const settled = (await t.reservations.getReservationByOrderId({ orderId })).reservation!;
    expect(settled.failureReason).toBe(FailureReason.INVENTORY_ERROR);
    expect((await level(item.id, warehouses[0]!.id)).reserved).toBe(0n);
    // The order may be reserved again.
    expect(
      (await t.reservations.reserve({ orderId, customerId: "c", lines: [{ itemId: item.id, quantity: 2n }], warehouseIds: ids })).reservation?.status,
    ).toBe(ReservationStatus.ACTIVE);
  });

  it("finishes a reservation whose process died after the hold, before recording it", async () => {
    const { item, warehouses, ids } = await stocked([10]);
    const orderId = order();
    t.faults.crashAfterHold = true;
    try {
      expect(await failure(t.reservations.reserve({ orderId, customerId: "c", lines: [{ itemId: item.id, quantity: 4n }], warehouseIds: ids }))).toMatchObject({
        code: "INTERNAL",
      });
    } finally {
      t.faults.crashAfterHold = false;
    }
    expect((await t.reservations.getReservationByOrderId({ orderId })).reservation?.status).toBe(ReservationStatus.PENDING);
    await eventually(async () => (await t.reservations.getReservationByOrderId({ orderId })).reservation?.status === ReservationStatus.ACTIVE);
    const finished = (await t.reservations.getReservationByOrderId({ orderId })).reservation!;
    expect(finished.lines[0]!.allocations).toMatchObject([{ warehouseId: warehouses[0]!.id, quantity: 4n }]);
    expect((await level(item.id, warehouses[0]!.id)).reserved).toBe(4n);
  });

  it("never leaves a reservation ACTIVE without its hold when a repair records it ACTIVE while a timed-out Reserve undoes it", async () => {
    const { item, warehouses, ids } = await stocked([1]);
    const orderId = order();
    // Inventory takes the hold but the answer is lost (a deadline), so the Reserve undoes it: it
    // releases the hold. Before the release lands, a repair (the sweeper) reads the hold as HELD
    // and records the reservation ACTIVE, as settle does.
    t.faults.holdAnswerLost = true;
    t.faults.beforeRelease = async (reservationId) => {
      await transition(t.db, reservationId, [Status.PENDING], { status: Status.ACTIVE });
    };
    try {
      // Inventory could not be reached, as far as this Reserve knows: UNAVAILABLE, nothing held.
      expect(await failure(t.reservations.reserve({ orderId, customerId: "c", lines: [{ itemId: item.id, quantity: 1n }], warehouseIds: ids }))).toMatchObject({
        code: "UNAVAILABLE",
      });
    } finally {
      t.faults.holdAnswerLost = false;
      t.faults.beforeRelease = undefined;
    }
    // The hold is gone, so the reservation is not ACTIVE: FAILED, and the unit is free for the next order.
    expect((await t.reservations.getReservationByOrderId({ orderId })).reservation).toMatchObject({
      status: ReservationStatus.FAILED,
      failureReason: FailureReason.INVENTORY_ERROR,
    });
    expect((await level(item.id, warehouses[0]!.id)).reserved).toBe(0n);
    expect(await invariantProblems(t.db, t.inv.db)).toEqual([]);
    const next = await t.reservations.reserve({ orderId: order(), customerId: "c", lines: [{ itemId: item.id, quantity: 1n }], warehouseIds: ids });
    expect(next.reservation?.status).toBe(ReservationStatus.ACTIVE);
  });

  it("records a reservation cut off after its hold failed as FAILED, even once past its expiry", async () => {
    const { item, ids } = await stocked([1]);
    const orderId = order();
    t.faults.crashAfterHold = true;
    try {
      await failure(t.reservations.reserve({ orderId, customerId: "c", lines: [{ itemId: item.id, quantity: 5n }], warehouseIds: ids, ttl: { seconds: 1n } }));
    } finally {
      t.faults.crashAfterHold = false;
    }
    await eventually(async () => (await t.reservations.getReservationByOrderId({ orderId })).reservation?.status === ReservationStatus.FAILED);
    expect((await t.reservations.getReservationByOrderId({ orderId })).reservation).toMatchObject({ failureReason: FailureReason.SHORTAGE });
  });

  it("refuses to fulfil while a cancel is under way (ABORTED), and once it is finished (FAILED_PRECONDITION)", async () => {
    const { item, warehouses, ids } = await stocked([10]);
    const r = (await t.reservations.reserve({ orderId: order(), customerId: "c", lines: [{ itemId: item.id, quantity: 2n }], warehouseIds: ids })).reservation!;
    await t.reservations.confirmReservation({ id: r.id });
    t.faults.crashAfterSettle = true;
    try {
      // The stock is put back, and the process dies before recording it: the reservation still says CONFIRMED.
      await failure(t.reservations.cancelReservation({ id: r.id, reason: "returned" }));
    } finally {
      t.faults.crashAfterSettle = false;
    }
    expect(await failure(t.reservations.fulfillReservation({ id: r.id }))).toMatchObject({ code: "ABORTED", reason: "STEP_UNDER_WAY" });
    await eventually(async () => (await t.reservations.getReservation({ id: r.id })).reservation?.status === ReservationStatus.CANCELLED);
    expect(await failure(t.reservations.fulfillReservation({ id: r.id }))).toMatchObject({ code: "FAILED_PRECONDITION", reason: "RESERVATION_CANCELLED" });
    expect(await level(item.id, warehouses[0]!.id)).toMatchObject({ onHand: 10n, reserved: 0n });
  });

  it("finishes a confirm and a cancel whose process died after inventory settled the hold, before recording it", async () => {
    const { item, warehouses, ids } = await stocked([10]);
    const w = warehouses[0]!.id;
    const reserve = async () =>
      (await t.reservations.reserve({ orderId: order(), customerId: "c", lines: [{ itemId: item.id, quantity: 3n }], warehouseIds: ids })).reservation!;
    const confirming = await reserve();
    const cancelling = await reserve();
    t.faults.crashAfterSettle = true;
    try {
      expect(await failure(t.reservations.confirmReservation({ id: confirming.id }))).toMatchObject({ code: "INTERNAL" });
      expect(await failure(t.reservations.cancelReservation({ id: cancelling.id, reason: "abandoned" }))).toMatchObject({ code: "INTERNAL" });
    } finally {
      t.faults.crashAfterSettle = false;
    }
    // Inventory committed one and released the other; the reservations still say ACTIVE until the sweeper finishes the steps.
    expect(await level(item.id, w)).toMatchObject({ onHand: 7n, reserved: 0n });
    await eventually(async () => (await t.reservations.getReservation({ id: confirming.id })).reservation?.status === ReservationStatus.CONFIRMED);
    await eventually(async () => (await t.reservations.getReservation({ id: cancelling.id })).reservation?.status === ReservationStatus.CANCELLED);
    expect((await t.reservations.getReservation({ id: cancelling.id })).reservation?.cancelReason).toBe("abandoned");
    expect(await level(item.id, w)).toMatchObject({ onHand: 7n, reserved: 0n });
    expect(await reconcile(t.inv.db)).toEqual([]);
  });
});

/**
 * The invariants across the two services under any interleaving: random batches of reserve,
 * confirm, cancel, fulfil, extend, expiry (the clock jumping past a reservation's expiry) and stock
 * adjustments, sent concurrently, must end with every level's reserved equal to the quantities of
 * the ACTIVE reservations allocated there, each reservation's hold in the state its status says
 * (so committed stock is the CONFIRMED and FULFILLED ones', no ACTIVE reservation lacks a hold and
 * no hold outlives its reservation), and the ledger reconciled.
 */
import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ReservationStatus } from "@inv/gen/reservation/v1/reservation_pb";
import { RemoteError, rows } from "@inv/platform";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invariantProblems } from "./invariants.js";
import { startTestReservations, type TestReservations } from "./testing.js";
import { propertyRuns } from "@inv/platform/testing";

let t: TestReservations;
let seq = 0;
const order = () => `prop-${process.pid}-${++seq}`;

beforeAll(async () => {
  // Every call here runs to its end: a slow machine (200 reservations at once on PGlite) must not
  // turn a hold still in flight into a repair by the sweeper or a deadline, which would answer
  // FAILED where stock was there (those paths have tests of their own in reservation.test.ts).
  t = await startTestReservations({ RESERVATION_PENDING_GRACE_MS: 60_000, RESERVATION_INVENTORY_DEADLINE_MS: 60_000 });
});
afterAll(() => t?.stop());

const which = fc.nat();
const op = fc.oneof(
  fc.record({ kind: fc.constant("reserve" as const), item: fc.integer({ min: 0, max: 1 }), quantity: fc.integer({ min: 1, max: 5 }), split: fc.boolean() }),
  fc.record({ kind: fc.constant("confirm" as const), which }),
  fc.record({ kind: fc.constant("cancel" as const), which }),
  fc.record({ kind: fc.constant("fulfil" as const), which }),
  fc.record({ kind: fc.constant("extend" as const), which }),
  fc.record({ kind: fc.constant("expire" as const), which }),
  fc.record({ kind: fc.constant("adjust" as const), item: fc.integer({ min: 0, max: 1 }), delta: fc.integer({ min: -4, max: 6 }).filter((d) => d !== 0) }),
);

/** What a refused call may answer; anything else (INTERNAL, UNKNOWN, a deadlock) fails the property. */
const EXPECTED = new Set(["FAILED_PRECONDITION", "ALREADY_EXISTS", "ABORTED"]);

let world: { items: { id: string }[]; warehouses: string[] } | undefined;
const made: string[] = [];

async function settled(): Promise<string[]> {
  // The sweeper may be half-way through an expiry (hold released, reservation not yet recorded).
  let last: string[] = [];
  for (let i = 0; i < 30; i++) {
    last = await invariantProblems(t.db, t.inv.db);
    if (last.length === 0) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

describe("invariants across reservation and inventory", () => {
  it("hold under any concurrent interleaving of reservation transitions and stock adjustments", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }), async (batches) => {
        if (!world) {
          const items = [await t.inv.newItem(), await t.inv.newItem()];
          const warehouses = [t.inv.directory.addWarehouse({ priority: 2 }), t.inv.directory.addWarehouse({ priority: 1 })].map((w) => w.id);
          for (const i of items)
            for (const w of warehouses) await t.inv.stock.receiveStock({ itemId: i.id, warehouseId: w, quantity: 8n, idempotencyKey: randomUUID() });
          world = { items, warehouses };
        }
        const { items, warehouses } = world;
        const pick = (n: number) => made[n % Math.max(made.length, 1)];
        for (const batch of batches) {
          await Promise.all(
            batch.map(async (o) => {
              try {
                switch (o.kind) {
                  case "reserve": {
                    const r = await t.reservations.reserve({
                      orderId: order(),
                      customerId: "prop",
                      lines: [{ itemId: items[o.item]!.id, quantity: BigInt(o.quantity) }],
                      allowSplit: o.split,
                    });
                    made.push(r.reservation!.id);
                    return;
                  }
                  case "confirm":
                    if (pick(o.which)) await t.reservations.confirmReservation({ id: pick(o.which)! });
                    return;
                  case "cancel":
                    if (pick(o.which)) await t.reservations.cancelReservation({ id: pick(o.which)!, reason: "property" });
                    return;
                  case "fulfil":
                    if (pick(o.which)) await t.reservations.fulfillReservation({ id: pick(o.which)! });
                    return;
                  case "extend":
                    if (pick(o.which))
                      await t.reservations.extendReservation({ id: pick(o.which)!, expireTime: timestampFromDate(new Date(Date.now() + 3_600_000)) });
                    return;
                  case "expire":
                    // The clock jumps past its expiry: reads say EXPIRED at once, the sweeper releases the hold.
                    if (pick(o.which))
                      await rows(
                        t.db,
                        sql`UPDATE reservation.reservations SET expire_at = now() - interval '1 second' WHERE id = ${pick(o.which)!} AND status IN (1, 2)`,
                      );
                    return;
                  case "adjust":
                    await t.inv.stock.adjustStock({
                      itemId: items[o.item]!.id,
                      warehouseId: warehouses[seq % 2]!,
                      delta: BigInt(o.delta),
                      reason: "count",
                      idempotencyKey: randomUUID(),
                    });
                    return;
                }
              } catch (err) {
                if (!(err instanceof RemoteError) || !EXPECTED.has(status[err.code])) throw err;
              }
            }),
          );
        }
        expect(await settled()).toEqual([]);
      }),
      { numRuns: propertyRuns() },
    );
  });

  it("grants exactly the last 50 units to 200 clients reserving one each at once", async () => {
    const item = await t.inv.newItem();
    const w = t.inv.directory.addWarehouse({ priority: 5 });
    await t.inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: 50n, idempotencyKey: randomUUID() });
    const answers = await Promise.all(
      Array.from({ length: 200 }, () =>
        t.reservations.reserve({ orderId: order(), customerId: "rush", lines: [{ itemId: item.id, quantity: 1n }], warehouseIds: [w.id] }),
      ),
    );
    expect(answers.filter((a) => a.reservation?.status === ReservationStatus.ACTIVE)).toHaveLength(50);
    expect(answers.filter((a) => a.reservation?.status === ReservationStatus.FAILED)).toHaveLength(150);
    expect((await t.inv.stock.lookupStockLevel({ itemId: item.id, warehouseId: w.id })).stockLevel).toMatchObject({ onHand: 50n, reserved: 50n });
    expect(await settled()).toEqual([]);
  });
});

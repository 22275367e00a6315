/**
 * The stock invariants under any interleaving: random sequences of receive, adjust, transfer,
 * hold, release, commit and restock, sent in concurrent batches (and some sent twice with the
 * same idempotency key), must leave every level with on_hand equal to its ledger sum, reserved
 * equal to its active holds, nothing negative, and the reconcile query empty.
 */
import { status } from "@grpc/grpc-js";
import type { RemoteError } from "@inv/platform";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcile } from "./store/reconcile.js";
import { startTestInventory, type TestInventory } from "./testing.js";
import { propertyRuns } from "@inv/platform/testing";

let inv: TestInventory;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;

beforeAll(async () => {
  inv = await startTestInventory();
});
afterAll(() => inv?.stop());

const item = fc.integer({ min: 0, max: 1 });
const warehouse = fc.integer({ min: 0, max: 1 });
const quantity = fc.integer({ min: 1, max: 6 });

const op = fc.oneof(
  fc.record({ kind: fc.constant("receive" as const), item, warehouse, quantity, twice: fc.boolean() }),
  fc.record({
    kind: fc.constant("adjust" as const),
    item,
    warehouse,
    delta: fc.integer({ min: -6, max: 6 }).filter((d) => d !== 0),
    guess: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
    twice: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("transfer" as const), item, from: warehouse, quantity, twice: fc.boolean() }),
  fc.record({ kind: fc.constant("hold" as const), item, quantity, split: fc.boolean(), twice: fc.boolean() }),
  fc.record({ kind: fc.constant("release" as const), which: fc.nat() }),
  fc.record({ kind: fc.constant("commit" as const), which: fc.nat() }),
  fc.record({ kind: fc.constant("restock" as const), which: fc.nat() }),
);

let places: { items: { id: string }[]; warehouses: string[] } | undefined;

type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

/** What a refused call may answer; anything else (INTERNAL, UNKNOWN, a deadlock) fails the property. */
const EXPECTED_REFUSALS = new Set(["FAILED_PRECONDITION", "ABORTED", "NOT_FOUND"]);

describe("stock invariants (properties 1, 3, 4)", () => {
  it("hold under any concurrent sequence of stock writes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }), async (batches) => {
        // The same two items in the same two warehouses for every run: each run starts from what
        // the runs before it left, which the invariants must survive as well as an empty start.
        places ??= {
          items: [await inv.newItem(), await inv.newItem()],
          warehouses: [inv.directory.addWarehouse({ priority: 2 }), inv.directory.addWarehouse({ priority: 1 })].map((w) => w.id),
        };
        const { items, warehouses } = places;
        const reservations: string[] = [];
        const send = (o: Op): Promise<unknown>[] => {
          const key = unique("k");
          const times = "twice" in o && o.twice ? 2 : 1;
          const repeat = (call: () => Promise<unknown>) => Array.from({ length: times }, call);
          switch (o.kind) {
            case "receive":
              return repeat(() =>
                inv.stock.receiveStock({ itemId: items[o.item]!.id, warehouseId: warehouses[o.warehouse]!, quantity: BigInt(o.quantity), idempotencyKey: key }),
              );
            case "adjust":
              return repeat(() =>
                inv.stock.adjustStock({
                  itemId: items[o.item]!.id,
                  warehouseId: warehouses[o.warehouse]!,
                  delta: BigInt(o.delta),
                  ...(o.guess === undefined ? {} : { expectedOnHand: BigInt(o.guess) }),
                  reason: "property",
                  idempotencyKey: key,
                }),
              );
            case "transfer":
              return repeat(() =>
                inv.stock.transferStock({
                  itemId: items[o.item]!.id,
                  fromWarehouseId: warehouses[o.from]!,
                  toWarehouseId: warehouses[1 - o.from]!,
                  quantity: BigInt(o.quantity),
                  idempotencyKey: key,
                }),
              );
            case "hold": {
              const reservationId = unique("r");
              reservations.push(reservationId);
              return repeat(() =>
                inv.holds.holdStock({
                  reservationId,
                  lines: [{ itemId: items[o.item]!.id, quantity: BigInt(o.quantity) }],
                  warehouseIds: warehouses,
                  allowSplit: o.split,
                }),
              );
            }
            default: {
              const reservationId = reservations.length > 0 ? reservations[o.which % reservations.length]! : unique("none");
              if (o.kind === "release") return [inv.holds.releaseHold({ reservationId, reason: "property" })];
              if (o.kind === "commit") return [inv.holds.commitHold({ reservationId })];
              return [inv.holds.restockHold({ reservationId })];
            }
          }
        };
        for (const batch of batches) {
          const settled = await Promise.allSettled(batch.flatMap(send));
          for (const s of settled) {
            if (s.status === "rejected") expect(EXPECTED_REFUSALS, String(s.reason)).toContain(status[(s.reason as RemoteError).code]);
          }
        }
        expect(await reconcile(inv.db)).toEqual([]);
      }),
      { numRuns: propertyRuns() },
    );
  });
});

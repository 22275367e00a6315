/**
 * Stock through the whole cluster, as an outside client drives it: 160 concurrent calls on a few
 * hot SKUs, holds and releases over gRPC (as the reservation service makes them), adjustments and
 * transfers over REST through the edge; then every invariant, checked from the ledger and the holds.
 */
import { HoldService, HoldState } from "@inv/gen/inventory/v1/hold_pb";
import { StockService } from "@inv/gen/inventory/v1/stock_pb";
import type { ServiceIdentity } from "@inv/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCluster, type TestCluster } from "./testing.js";

let cluster: TestCluster;
let reservation: ServiceIdentity;
beforeAll(async () => {
  cluster = await startTestCluster();
  reservation = await cluster.serviceIdentity("reservation");
});
afterAll(() => cluster?.stop());

let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;

/** A warehouse code: upper case, at most 32 characters. */
const warehouseCode = () => unique("HOT").toUpperCase().slice(-32);

const rest = (method: string, path: string, body?: unknown) => cluster.rest(method, path, body);

async function created(path: string, body: unknown) {
  const res = await rest("POST", path, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

describe("stock through the cluster", () => {
  it("keeps every invariant under concurrent REST adjustments and transfers and gRPC holds on hot SKUs", async () => {
    const type = await created("/v1/item-types", { name: unique("Hot type") });
    const warehouses = [
      await created("/v1/warehouses", { code: warehouseCode(), name: "Hot A", priority: 10 }),
      await created("/v1/warehouses", { code: warehouseCode(), name: "Hot B", priority: 5 }),
    ];
    const ids = warehouses.map((w) => w["id"] as string);
    const items = [];
    for (let i = 0; i < 3; i++) {
      const item = await created("/v1/items", { sku: unique("HOT"), name: "Hot item", itemTypeId: type["id"] });
      items.push(item["id"] as string);
      for (const w of ids) {
        await created("/v1/stock-levels:receive", { itemId: item["id"], warehouseId: w, quantity: "30", idempotencyKey: unique("seed") });
      }
    }

    const holds = cluster.clientWith(HoldService, "inventory", {});
    const asReservation = () => ({ metadata: { "x-service-token": reservation.tokenFor("inventory") } });
    const calls: Promise<{ kind: string; status: number | string }>[] = [];
    const reservations: string[] = [];
    for (let i = 0; i < 160; i++) {
      const itemId = items[i % items.length]!;
      const kind = ["hold", "adjust", "transfer", "release"][i % 4]!;
      if (kind === "hold" || (kind === "release" && reservations.length === 0)) {
        const reservationId = unique("res");
        reservations.push(reservationId);
        calls.push(
          holds
            .holdStock({ reservationId, lines: [{ itemId, quantity: 3n }], warehouseIds: ids, allowSplit: true }, asReservation())
            .then((r) => ({ kind, status: HoldState[r.hold!.state] })),
        );
      } else if (kind === "release") {
        const reservationId = reservations[i % reservations.length]!;
        calls.push(holds.releaseHold({ reservationId, reason: "test" }, asReservation()).then((r) => ({ kind, status: HoldState[r.hold!.state] })));
      } else if (kind === "adjust") {
        calls.push(
          rest("POST", "/v1/stock-levels:adjust", {
            itemId,
            warehouseId: ids[i % 2],
            delta: i % 3 === 0 ? "2" : "-2",
            reason: "count",
            idempotencyKey: unique("adj"),
          }).then((r) => ({
            kind,
            status: r.status,
          })),
        );
      } else {
        calls.push(
          rest("POST", "/v1/stock-levels:transfer", {
            itemId,
            fromWarehouseId: ids[i % 2],
            toWarehouseId: ids[(i + 1) % 2],
            quantity: "2",
            idempotencyKey: unique("tr"),
          }).then((r) => ({ kind, status: r.status })),
        );
      }
    }
    const outcomes = await Promise.all(calls);
    // Refusals are answers (400 FAILED_PRECONDITION for too little stock), never a server error.
    for (const o of outcomes) expect([200, 400, "HELD", "FAILED", "RELEASED"]).toContain(o.status);
    expect(outcomes.filter((o) => o.status === 200).length).toBeGreaterThan(0);

    const stock = cluster.clientWith(StockService, "inventory", { authorization: cluster.authorization });
    for (const itemId of items) {
      const { stockLevels } = await stock.listStockLevels({ itemId });
      for (const level of stockLevels) {
        expect(level.reserved).toBeGreaterThanOrEqual(0n);
        expect(level.reserved).toBeLessThanOrEqual(level.onHand);
        // on_hand and reserved are the sums of the level's ledger.
        let onHand = 0n;
        let reserved = 0n;
        let pageToken = "";
        do {
          const page = await stock.listMovements({ stockLevelId: level.id, pageSize: 1000, pageToken });
          for (const m of page.movements) {
            onHand += m.delta;
            reserved += m.reservedDelta;
          }
          pageToken = page.nextPageToken;
        } while (pageToken);
        expect([onHand, reserved]).toEqual([level.onHand, level.reserved]);
      }
      // reserved is what the held holds have taken.
      const { holds: held } = await holds.listHolds({ itemId, states: [HoldState.HELD], pageSize: 500 }, asReservation());
      const byLevel = new Map<string, bigint>();
      for (const h of held)
        for (const line of h.lines) for (const a of line.allocations) byLevel.set(a.stockLevelId, (byLevel.get(a.stockLevelId) ?? 0n) + a.quantity);
      for (const level of stockLevels) expect(level.reserved).toBe(byLevel.get(level.id) ?? 0n);
    }
  });
});

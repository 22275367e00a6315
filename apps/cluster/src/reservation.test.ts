/**
 * Reservations through the whole cluster, as an outside client drives them: over REST through the
 * edge (which transcodes to the reservation service, which holds stock in inventory over gRPC and
 * asks the warehouse service which warehouses are active), and over Connect.
 */
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ReservationService, ReservationStatus } from "@inv/gen/reservation/v1/reservation_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCluster, type TestCluster } from "./testing.js";

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(() => cluster?.stop());

let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;

const rest = (method: string, path: string, body?: unknown) => cluster.rest(method, path, body);

async function ok(method: string, path: string, body?: unknown) {
  const res = await rest(method, path, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function stocked(quantity: number) {
  const type = await ok("POST", "/v1/item-types", { name: unique("Reserved type") });
  const warehouse = await ok("POST", "/v1/warehouses", { code: unique("RSV").toUpperCase().slice(-32), name: "Reserve here", priority: 700 });
  const item = await ok("POST", "/v1/items", { sku: unique("RSV"), name: "Reserved item", itemTypeId: type["id"] });
  await ok("POST", "/v1/stock-levels:receive", {
    itemId: item["id"],
    warehouseId: warehouse["id"],
    quantity: String(quantity),
    idempotencyKey: unique("seed"),
  });
  const level = async () => (await ok("GET", `/v1/stock-levels:lookup?itemId=${item["id"]}&warehouseId=${warehouse["id"]}`)) as Record<string, string>;
  return { warehouse, item, level };
}

describe("reservations through the edge", () => {
  it("reserve, confirm and fulfil over REST move the stock as they say", async () => {
    const { warehouse, item, level } = await stocked(10);
    const orderId = unique("order");
    const reserved = await ok("POST", "/v1/reservations", { orderId, customerId: "cust-1", lines: [{ sku: item["sku"], quantity: "4" }], ttl: "600s" });
    expect(reserved).toMatchObject({ replayed: false, reservation: { status: "RESERVATION_STATUS_ACTIVE", orderId } });
    const id = reserved["reservation"].id as string;
    expect(reserved["reservation"].lines[0].explanation).toBe(`4 held: 4 from ${warehouse["code"]} (priority 700)`);
    expect(await level()).toMatchObject({ onHand: "10", reserved: "4" });

    // The same order and payload again: the same reservation.
    expect(await ok("POST", "/v1/reservations", { orderId, customerId: "cust-1", lines: [{ sku: item["sku"], quantity: "4" }], ttl: "600s" })).toMatchObject({
      replayed: true,
      reservation: { id },
    });

    expect(await ok("POST", `/v1/reservations/${id}:confirm`, {})).toMatchObject({ status: "RESERVATION_STATUS_CONFIRMED" });
    expect(await level()).toMatchObject({ onHand: "6", reserved: "0" });
    expect(await ok("POST", `/v1/reservations/${id}:fulfill`, { reference: "SHIP-9" })).toMatchObject({
      status: "RESERVATION_STATUS_FULFILLED",
      fulfillReference: "SHIP-9",
    });
    expect(await ok("GET", `/v1/reservations:byOrderId?orderId=${orderId}`)).toMatchObject({ id, status: "RESERVATION_STATUS_FULFILLED" });
    expect(
      (await ok("GET", `/v1/reservations?customerId=cust-1&statuses=RESERVATION_STATUS_FULFILLED`))["reservations"].map((r: { id: string }) => r.id),
    ).toContain(id);

    const refused = await rest("POST", `/v1/reservations/${id}:cancel`, { reason: "changed my mind" });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: "FAILED_PRECONDITION", details: { field: "id", constraint: "status" } } });
  });

  it("answers bad input with the error body and holds nothing", async () => {
    const { item, level } = await stocked(5);
    const empty = await rest("POST", "/v1/reservations", { orderId: unique("order"), customerId: "c", lines: [] });
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ error: { code: "INVALID_ARGUMENT", details: { field: "lines" } } });
    const unknown = await rest("POST", "/v1/reservations", {
      orderId: unique("order"),
      customerId: "c",
      lines: [{ sku: "NO-SUCH-SKU-ANYWHERE", quantity: "1" }],
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: "NOT_FOUND", details: { field: "lines[0].sku" } } });
    const short = await ok("POST", "/v1/reservations", { orderId: unique("order"), customerId: "c", lines: [{ sku: item["sku"], quantity: "6" }] });
    expect(short["reservation"]).toMatchObject({ status: "RESERVATION_STATUS_FAILED", failureReason: "FAILURE_REASON_SHORTAGE" });
    expect(await level()).toMatchObject({ onHand: "5", reserved: "0" });
  });

  it("cancels over Connect, releasing the hold", async () => {
    const { item, level } = await stocked(3);
    const client = createClient(
      ReservationService,
      createConnectTransport({
        baseUrl: cluster.baseUrl,
        httpVersion: "1.1",
        interceptors: [
          (next) => (req) => {
            req.header.set("authorization", cluster.authorization);
            return next(req);
          },
        ],
      }),
    );
    const { reservation } = await client.reserve({ orderId: unique("order"), customerId: "c", lines: [{ itemId: item["id"], quantity: 3n }] });
    expect({ status: reservation?.status, failure: reservation?.failureMessage, shortages: reservation?.shortages.length }).toEqual({
      status: ReservationStatus.ACTIVE,
      failure: "",
      shortages: 0,
    });
    expect(await level()).toMatchObject({ reserved: "3" });
    const cancelled = await client.cancelReservation({ id: reservation!.id, reason: "abandoned" });
    expect(cancelled.reservation?.status).toBe(ReservationStatus.CANCELLED);
    expect(await level()).toMatchObject({ reserved: "0" });
  });
});

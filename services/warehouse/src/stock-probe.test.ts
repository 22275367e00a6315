/**
 * The warehouse service's side of its conversation with the inventory service: a delete asks
 * the stock probe (and fails closed when inventory cannot answer), and every change of a
 * warehouse or a location is announced on the bus. The real inventory service is in
 * apps/cluster/src/warehouse-inventory.test.ts.
 */
import { randomBytes } from "node:crypto";
import { createBus, GrpcChannel, type Bus, type GrpcClient } from "@inv/platform";
import { startTestService, testRedisUrl, type TestService, failure } from "@inv/platform/testing";
import { WAREHOUSE_CHANGED_CHANNEL } from "@inv/service-catalog";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { warehouseDefinition } from "./index.js";
import { storageUsageProbe, type StockProbe } from "./stock-probe.js";

const ZONE = "00000000-0000-7000-8000-000000000001";
let seq = 0;
const code = () => `SP-${++seq}`;

/** Places holding stock, by warehouse id or location id; what the probe was asked. */
const stocked = new Set<string>();
const asked: [string, string][] = [];
const fake: StockProbe = {
  warehouseHasStock: async (warehouseId) => {
    asked.push([warehouseId, ""]);
    return stocked.has(warehouseId);
  },
  locationHasStock: async (warehouseId, locationId) => {
    asked.push([warehouseId, locationId]);
    return stocked.has(locationId);
  },
};
/** The real probe, pointed at an address where no inventory service answers. */
let unreachable: StockProbe;
let probe: StockProbe = fake;

const busNamespace = `test:${randomBytes(4).toString("hex")}:`;
let svc: TestService;
let client: GrpcClient<typeof WarehouseService>;
let listener: Bus;
const announced: string[] = [];
const nowhere = new GrpcChannel("dns:///127.0.0.1:1", { deadlineMs: 2_000 });

beforeAll(async () => {
  svc = await startTestService(
    warehouseDefinition({
      stock: (resources) => {
        unreachable = storageUsageProbe({ channel: () => nowhere, identity: resources.identity, log: resources.log });
        return {
          warehouseHasStock: (...args) => probe.warehouseHasStock(...args),
          locationHasStock: (...args) => probe.locationHasStock(...args),
        };
      },
    }),
    { busNamespace },
  );
  client = svc.client(WarehouseService);
  listener = createBus({ redisUrl: testRedisUrl(), namespace: busNamespace });
  listener.subscribe(WAREHOUSE_CHANGED_CHANNEL, (id) => announced.push(id));
  await listener.ready();
});
afterAll(async () => {
  nowhere.close();
  await listener?.close();
  await svc?.stop();
});
beforeEach(() => {
  probe = fake;
  stocked.clear();
  asked.length = 0;
});

const newWarehouse = async () => (await client.createWarehouse({ warehouse: { code: code(), name: "w" } })).warehouse!;

describe("deleting a place that holds stock", () => {
  it("refuses a warehouse while the probe finds stock there, and deletes it once it is empty", async () => {
    const w = await newWarehouse();
    stocked.add(w.id);
    expect(await failure(client.deleteWarehouse({ id: w.id }))).toMatchObject({
      code: "FAILED_PRECONDITION",
      reason: "IN_USE",
      field: "id",
      constraint: "has_stock",
    });
    expect((await client.getWarehouse({ id: w.id })).warehouse?.deleteTime).toBeUndefined();
    stocked.delete(w.id);
    expect((await client.deleteWarehouse({ id: w.id })).warehouse?.deleteTime).toBeDefined();
    expect(asked).toEqual([
      [w.id, ""],
      [w.id, ""],
    ]);
  });

  it("refuses a location while stock is there, asking with the location's own warehouse", async () => {
    const w = await newWarehouse();
    const { location } = await client.createLocation({ location: { warehouseId: w.id, code: "A1", locationTypeId: ZONE } });
    stocked.add(location!.id);
    expect(await failure(client.deleteLocation({ id: location!.id }))).toMatchObject({ code: "FAILED_PRECONDITION", reason: "IN_USE" });
    expect(asked).toEqual([[w.id, location!.id]]);
    stocked.clear();
    expect((await client.deleteLocation({ id: location!.id })).location?.deleteTime).toBeDefined();
  });

  it("fails closed: when the inventory service cannot be asked, the delete is UNAVAILABLE and changes nothing", async () => {
    const w = await newWarehouse();
    const { location } = await client.createLocation({ location: { warehouseId: w.id, code: "A1", locationTypeId: ZONE } });
    probe = unreachable;
    expect(await failure(client.deleteLocation({ id: location!.id }))).toMatchObject({ code: "UNAVAILABLE", reason: "INVENTORY_UNAVAILABLE" });
    expect((await client.getLocation({ id: location!.id })).location?.deleteTime).toBeUndefined();
    probe = fake;
    await client.deleteLocation({ id: location!.id });
    probe = unreachable;
    expect(await failure(client.deleteWarehouse({ id: w.id }))).toMatchObject({ code: "UNAVAILABLE", reason: "INVENTORY_UNAVAILABLE" });
    const unchanged = (await client.getWarehouse({ id: w.id })).warehouse!;
    expect([unchanged.active, unchanged.deleteTime]).toEqual([true, undefined]);
  });
});

describe("announcing changes on the bus", () => {
  it("publishes the id of every warehouse made, and of every warehouse and location updated or deleted, once the change is made", async () => {
    announced.length = 0;
    const w = await newWarehouse();
    const { location } = await client.createLocation({ location: { warehouseId: w.id, code: "A1", locationTypeId: ZONE } });
    // A new warehouse changes the list of active ones (the reservation service keeps it); a new
    // location changes nothing anyone cached: no id is cached before it is made.
    await expect.poll(() => announced, { timeout: 2_000 }).toEqual([w.id]);
    expect(announced).not.toContain(location!.id);
    announced.length = 0;
    await client.updateWarehouse({ warehouse: { id: w.id, active: false }, updateMask: { paths: ["active"] } });
    await client.updateLocation({ location: { id: location!.id, active: false }, updateMask: { paths: ["active"] } });
    await client.deleteLocation({ id: location!.id });
    await client.deleteWarehouse({ id: w.id });
    await expect.poll(() => announced, { timeout: 2_000 }).toEqual([w.id, location!.id, location!.id, w.id]);
  });

  it("announces nothing for a refused change", async () => {
    const w = await newWarehouse();
    stocked.add(w.id);
    // Its creation is announced (above), on the bus's time: once that has arrived, nothing else may.
    await expect.poll(() => announced, { timeout: 2_000 }).toContain(w.id);
    announced.length = 0;
    await failure(client.deleteWarehouse({ id: w.id }));
    await failure(client.updateWarehouse({ warehouse: { id: w.id, name: "x", etag: "stale" }, updateMask: { paths: ["name"] } }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(announced).toEqual([]);
  });
});

import type { GrpcClient } from "@inv/platform";
import { startTestService, type TestService, failure } from "@inv/platform/testing";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nothingStored, warehouseDefinition } from "./index.js";

let svc: TestService;
let client: GrpcClient<typeof WarehouseService>;
let seq = 0;
const code = (prefix = "W") => `${prefix}${process.pid % 1000}-${Date.now() % 1e6}-${seq++}`;

beforeAll(async () => {
  svc = await startTestService(warehouseDefinition({ stock: () => nothingStored }));
  client = svc.client(WarehouseService);
});
afterAll(() => svc?.stop());

describe("warehouses", () => {
  it("creates, reads, updates with a field mask and soft-deletes", async () => {
    const c = code();
    const { warehouse } = await client.createWarehouse({
      warehouse: { code: c, name: " Main DC ", priority: 10, address: { city: "Utrecht", countryCode: "NL" } },
    });
    expect(warehouse).toMatchObject({ code: c, name: "Main DC", priority: 10, active: true, address: { city: "Utrecht" } });

    const got = await client.getWarehouse({ id: warehouse!.id });
    expect(got.warehouse?.name).toBe("Main DC");

    const updated = await client.updateWarehouse({
      warehouse: { id: warehouse!.id, name: "ignored", priority: 20, address: { postalCode: "3511 AA" } },
      updateMask: { paths: ["priority", "address.postal_code"] },
    });
    expect(updated.warehouse).toMatchObject({ name: "Main DC", priority: 20, address: { city: "Utrecht", postalCode: "3511 AA" } });
    // The read cache was invalidated by the update.
    expect((await client.getWarehouse({ id: warehouse!.id })).warehouse?.priority).toBe(20);

    const deleted = await client.deleteWarehouse({ id: warehouse!.id });
    expect(deleted.warehouse?.deleteTime).toBeDefined();
    expect((await client.getWarehouse({ id: warehouse!.id })).warehouse?.deleteTime).toBeDefined();
    const live = await client.listWarehouses({ code: c });
    expect(live.warehouses).toHaveLength(0);
    // The code is free again once the warehouse is deleted.
    await client.createWarehouse({ warehouse: { code: c, name: "Successor" } });
  });

  it.each([
    [{ code: "", name: "x" }, "warehouse.code", "required"],
    [{ code: "lower", name: "x" }, "warehouse.code", "pattern"],
    [{ code: "OK-1", name: "" }, "warehouse.name", "required"],
    [{ code: "OK-2", name: "x", priority: 1001 }, "warehouse.priority", "range"],
    [{ code: "OK-3", name: "x", priority: -1 }, "warehouse.priority", "range"],
    [{ code: "OK-4", name: "x", address: { countryCode: "Netherlands" } }, "warehouse.address.country_code", "max_length"],
    [{ code: "OK-5", name: "x", address: { countryCode: "nl" } }, "warehouse.address.country_code", "pattern"],
    [{ code: "OK-6", name: "a\u0007b" }, "warehouse.name", "no_control_characters"],
  ])("refuses %j with INVALID_ARGUMENT on %s and writes nothing", async (warehouse, field, constraint) => {
    expect(await failure(client.createWarehouse({ warehouse }))).toMatchObject({ code: "INVALID_ARGUMENT", field, constraint });
    if (warehouse.code) expect((await client.listWarehouses({ code: warehouse.code })).warehouses).toHaveLength(0);
  });

  it("refuses a duplicate code with ALREADY_EXISTS", async () => {
    const c = code();
    await client.createWarehouse({ warehouse: { code: c, name: "one" } });
    expect(await failure(client.createWarehouse({ warehouse: { code: c, name: "two" } }))).toMatchObject({
      code: "ALREADY_EXISTS",
      field: "warehouse.code",
      constraint: "unique",
    });
    expect((await client.listWarehouses({ code: c })).warehouses.map((w) => w.name)).toEqual(["one"]);
  });

  it("answers NOT_FOUND for unknown ids and INVALID_ARGUMENT for malformed ones", async () => {
    const unknown = "0190a0a0-0000-7000-8000-000000000000";
    expect(await failure(client.getWarehouse({ id: unknown }))).toMatchObject({ code: "NOT_FOUND", field: "id" });
    expect(await failure(client.getWarehouse({ id: "nope" }))).toMatchObject({ code: "INVALID_ARGUMENT", field: "id", constraint: "format" });
    expect(await failure(client.updateWarehouse({ warehouse: { id: unknown, name: "x" } }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await failure(client.deleteWarehouse({ id: unknown }))).toMatchObject({ code: "NOT_FOUND" });
  });

  it("refuses update masks naming immutable or unknown fields", async () => {
    const { warehouse } = await client.createWarehouse({ warehouse: { code: code(), name: "masked" } });
    for (const path of ["code", "id", "create_time", "nonsense", "address.nonsense"]) {
      expect(await failure(client.updateWarehouse({ warehouse: { id: warehouse!.id, code: "NEW" }, updateMask: { paths: [path] } }))).toMatchObject({
        code: "INVALID_ARGUMENT",
        field: "update_mask",
      });
    }
    expect((await client.getWarehouse({ id: warehouse!.id })).warehouse?.code).toBe(warehouse!.code);
  });

  it("deactivates through the mask and filters by active", async () => {
    const { warehouse } = await client.createWarehouse({ warehouse: { code: code(), name: "to deactivate" } });
    await client.updateWarehouse({ warehouse: { id: warehouse!.id, active: false }, updateMask: { paths: ["active"] } });
    const inactive = await client.listWarehouses({ active: false, pageSize: 500 });
    expect(inactive.warehouses.map((w) => w.id)).toContain(warehouse!.id);
  });

  it("refuses page sizes out of range and tokens made for other filters", async () => {
    expect(await failure(client.listWarehouses({ pageSize: 501 }))).toMatchObject({ code: "INVALID_ARGUMENT", field: "page_size" });
    await client.createWarehouse({ warehouse: { code: code(), name: "a" } });
    await client.createWarehouse({ warehouse: { code: code(), name: "b" } });
    const first = await client.listWarehouses({ pageSize: 1 });
    expect(first.nextPageToken).not.toBe("");
    expect(await failure(client.listWarehouses({ pageSize: 1, pageToken: first.nextPageToken, active: true }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "page_token",
    });
    expect(await failure(client.listWarehouses({ pageToken: "garbage" }))).toMatchObject({ code: "INVALID_ARGUMENT", field: "page_token" });
  });
});

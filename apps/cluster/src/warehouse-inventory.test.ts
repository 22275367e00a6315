/**
 * The warehouse and inventory services, each the real thing on its own database, wired to each
 * other through their peer channels (ServiceSettings.targets) and one bus, as in a cluster:
 * - inventory's warehouse directory asks the warehouse service, caches the answers, and drops
 *   them at once when the warehouse service announces a change;
 * - the warehouse service refuses to delete a warehouse or a location that holds stock, asking
 *   inventory's StorageUsageService, and fails closed when inventory cannot be asked.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { StorageUsageService } from "@inv/gen/inventory/v1/storage_usage_pb";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { inventoryDefinition, requireActivePlace, warehouseDirectory, warehousesById, type WarehouseDirectory } from "@inv/inventory-service";
import { GrpcChannel, type RemoteError, ServiceIdentity, createGrpcClient, type Db, type DomainError, type GrpcClient, type PeerTargets } from "@inv/platform";
import { startTestService, type TestService } from "@inv/platform/testing";
import { processNames } from "@inv/service-catalog";
import { warehouseServiceDefinition } from "@inv/warehouse-service";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const ZONE = "00000000-0000-7000-8000-000000000001";
const serviceSecret = randomBytes(32).toString("hex");
const busNamespace = `test:${randomBytes(4).toString("hex")}:`;
// Filled in once both services are up: each reads the other's target at its first call.
const targets: PeerTargets = {};

let warehouse: TestService;
let inventory: TestService;
let inventoryStopped = false;
/** The directory inside the running inventory service, and that service's database. */
let directory: WarehouseDirectory;
let inventoryDb: Db;
let warehouses: GrpcClient<typeof WarehouseService>;
/** StorageUsageService is internal: the test calls it as the warehouse service would. */
let asWarehouse: ServiceIdentity;
let usageChannel: GrpcChannel;
let usage: GrpcClient<typeof StorageUsageService>;

beforeAll(async () => {
  warehouse = await startTestService(warehouseServiceDefinition, { serviceSecret, busNamespace, targets });
  const definition = inventoryDefinition({
    directory: (resources) => {
      directory = warehouseDirectory(resources);
      return directory;
    },
  });
  inventory = await startTestService(
    {
      ...definition,
      onStart: async (resources) => {
        inventoryDb = resources.db;
        return definition.onStart?.(resources);
      },
    },
    { serviceSecret, busNamespace, targets, authority: warehouse.authority },
  );
  Object.assign(targets, { warehouse: warehouse.target, inventory: inventory.target });
  warehouses = warehouse.client(WarehouseService);
  asWarehouse = await ServiceIdentity.start("warehouse", serviceSecret, processNames);
  usageChannel = new GrpcChannel(inventory.target, { deadlineMs: 10_000, metadata: () => ({ "x-service-token": asWarehouse.tokenFor("inventory") }) });
  usage = createGrpcClient(StorageUsageService, usageChannel);
});
afterAll(async () => {
  usageChannel?.close();
  asWarehouse?.close();
  if (!inventoryStopped) await inventory?.stop();
  await warehouse?.stop();
});

let seq = 0;
const newWarehouse = async () => (await warehouses.createWarehouse({ warehouse: { code: `WI-${++seq}`, name: "w", priority: seq } })).warehouse!;
const newLocation = async (warehouseId: string) =>
  (await warehouses.createLocation({ location: { warehouseId, code: `L${++seq}`, locationTypeId: ZONE } })).location!;

/** The status, reason and first field of a refusal. */
async function refusal(call: Promise<unknown>) {
  const err = await call.then(
    () => expect.fail("the call succeeded"),
    (e: unknown) => e as DomainError,
  );
  return { code: status[err.code], reason: err.reason, field: err.violation?.field, constraint: err.violation?.constraint };
}

/**
 * A stock level written straight into inventory's tables, with the ledger entry the deferred
 * trigger (migration 0001) asks for in the same transaction; a fresh item each, so levels never
 * collide. onHand 0 and reserved 0 make a level that has never moved (sequence 0, no entry).
 */
async function placeStock(place: { warehouseId: string; locationId?: string }, onHand: number, reserved = 0) {
  const [typeId, itemId, levelId] = [randomUUID(), randomUUID(), randomUUID()];
  const sku = `SKU-${++seq}`;
  const location = place.locationId ? `'${place.locationId}'` : "NULL";
  const sequence = onHand === 0 && reserved === 0 ? 0 : 1;
  await inventoryDb.transaction(async (tx) => {
    await tx.execute(`INSERT INTO inventory.item_types (id, name, category) VALUES ('${typeId}', 'type ${typeId}', 1)`);
    await tx.execute(`INSERT INTO inventory.items (id, sku, name, item_type_id) VALUES ('${itemId}', '${sku}', 'item', '${typeId}')`);
    await tx.execute(
      `INSERT INTO inventory.stock_levels (id, item_id, sku, warehouse_id, location_id, on_hand, reserved, sequence)
       VALUES ('${levelId}', '${itemId}', '${sku}', '${place.warehouseId}', ${location}, ${onHand}, ${reserved}, ${sequence})`,
    );
    if (sequence === 0) return;
    await tx.execute(
      `INSERT INTO inventory.movements (id, kind, stock_level_id, level_sequence, item_id, sku, warehouse_id, location_id,
         delta, reserved_delta, on_hand_before, on_hand_after, reserved_before, reserved_after, actor)
       VALUES ('${randomUUID()}', 1, '${levelId}', 1, '${itemId}', '${sku}', '${place.warehouseId}', ${location},
         ${onHand}, ${reserved}, 0, ${onHand}, 0, ${reserved}, 'test')`,
    );
  });
  return levelId;
}

/** Takes every unit out of a level (and releases what was reserved), with its ledger entry. */
async function emptyLevel(levelId: string) {
  await inventoryDb.transaction(async (tx) => {
    await tx.execute(
      `INSERT INTO inventory.movements (id, kind, stock_level_id, level_sequence, item_id, sku, warehouse_id, location_id,
         delta, reserved_delta, on_hand_before, on_hand_after, reserved_before, reserved_after, actor)
       SELECT '${randomUUID()}', 2, id, sequence + 1, item_id, sku, warehouse_id, location_id, -on_hand, -reserved, on_hand, 0, reserved, 0, 'test'
       FROM inventory.stock_levels WHERE id = '${levelId}'`,
    );
    await tx.execute(`UPDATE inventory.stock_levels SET on_hand = 0, reserved = 0, sequence = sequence + 1 WHERE id = '${levelId}'`);
  });
}

const getWarehouseCalls = (spy: { mock: { calls: unknown[][] } }) =>
  spy.mock.calls.filter(([method]) => method === WarehouseService.method.getWarehouse).length;

describe("inventory's warehouse directory, over the real warehouse service", () => {
  it("answers what the warehouse service knows, and asks it once while the answer is fresh", async () => {
    const w = await newWarehouse();
    const l = await newLocation(w.id);
    const unary = vi.spyOn(GrpcChannel.prototype, "unary");
    try {
      expect(await directory.warehouse(w.id)).toEqual({ id: w.id, code: w.code, priority: w.priority, active: true, deleted: false });
      expect(await directory.location(l.id)).toEqual({
        id: l.id,
        warehouseId: w.id,
        code: l.code,
        path: l.path,
        locationTypeId: ZONE,
        active: true,
        deleted: false,
      });
      expect(await directory.locationType(ZONE)).toMatchObject({ id: ZONE });
      expect(await requireActivePlace(directory, { warehouseId: w.id, locationId: l.id })).toMatchObject({ warehouse: { id: w.id }, location: { id: l.id } });
      const missing = randomUUID();
      expect([...(await warehousesById(directory, [w.id, missing])).keys()]).toEqual([w.id]);
      expect(await refusal(requireActivePlace(directory, { warehouseId: missing }))).toMatchObject({ code: "NOT_FOUND", field: "warehouse_id" });
      // w and `missing` once each, however often they were asked.
      expect(getWarehouseCalls(unary)).toBe(2);
    } finally {
      unary.mockRestore();
    }
  });

  it("sees a warehouse deactivated through the warehouse service as inactive at once, not after its time to live", async () => {
    const w = await newWarehouse();
    expect((await directory.warehouse(w.id))?.active).toBe(true);
    const started = Date.now();
    await warehouses.updateWarehouse({ warehouse: { id: w.id, active: false }, updateMask: { paths: ["active"] } });
    // The announcement crosses Redis (or the in-process bus) in milliseconds; answers are kept up to 30 s.
    await expect.poll(() => directory.warehouse(w.id).then((info) => info?.active), { timeout: 5_000, interval: 10 }).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await refusal(requireActivePlace(directory, { warehouseId: w.id }))).toMatchObject({
      code: "FAILED_PRECONDITION",
      reason: "WAREHOUSE_INACTIVE",
      field: "warehouse_id",
    });
  });

  it("sees a location deactivated, then deleted, at once", async () => {
    const w = await newWarehouse();
    const l = await newLocation(w.id);
    expect((await directory.location(l.id))?.active).toBe(true);
    await warehouses.updateLocation({ location: { id: l.id, active: false }, updateMask: { paths: ["active"] } });
    await expect
      .poll(() => refusal(requireActivePlace(directory, { warehouseId: w.id, locationId: l.id })), { timeout: 5_000, interval: 10 })
      .toMatchObject({
        reason: "LOCATION_INACTIVE",
        field: "location_id",
      });
    await warehouses.deleteLocation({ id: l.id });
    await expect.poll(() => directory.location(l.id).then((info) => info?.deleted), { timeout: 5_000, interval: 10 }).toBe(true);
  });
});

describe("StorageUsageService", () => {
  it("sums the stock of a warehouse, or of one location of it", async () => {
    const [w, other] = [await newWarehouse(), await newWarehouse()];
    const [l1, l2] = [await newLocation(w.id), await newLocation(w.id)];
    await placeStock({ warehouseId: w.id, locationId: l1.id }, 5);
    await placeStock({ warehouseId: w.id, locationId: l1.id }, 7, 2);
    await placeStock({ warehouseId: w.id }, 4, 4); // at the warehouse, at no location
    await placeStock({ warehouseId: w.id, locationId: l2.id }, 0); // a level that never held anything
    await placeStock({ warehouseId: other.id }, 100);

    const whole = { nonzeroStockLevelCount: 3n, onHand: 16n, reserved: 6n, trackedUnitCount: 0n, empty: false };
    expect(await usage.getStorageUsage({ warehouseId: w.id })).toMatchObject(whole);
    expect(await usage.getStorageUsage({ warehouseId: w.id, locationId: l1.id })).toMatchObject({
      nonzeroStockLevelCount: 2n,
      onHand: 12n,
      reserved: 2n,
      empty: false,
    });
    expect(await usage.getStorageUsage({ warehouseId: w.id, locationId: l2.id })).toMatchObject({
      nonzeroStockLevelCount: 0n,
      onHand: 0n,
      reserved: 0n,
      empty: true,
    });
    expect(await usage.getStorageUsage({ warehouseId: randomUUID() })).toMatchObject({ nonzeroStockLevelCount: 0n, onHand: 0n, empty: true });
  });

  it("names malformed ids, and takes calls from platform services only", async () => {
    const err = (await usage.getStorageUsage({ warehouseId: "", locationId: "nope" }).catch((e: unknown) => e)) as RemoteError;
    expect([status[err.code], err.violations.map((v) => v.field)]).toEqual(["INVALID_ARGUMENT", ["warehouse_id", "location_id"]]);
    // An administrator is not a service: internal methods are for the platform's services alone.
    expect(await refusal(inventory.client(StorageUsageService).getStorageUsage({ warehouseId: randomUUID() }))).toMatchObject({ code: "PERMISSION_DENIED" });
  });
});

describe("deleting a place that holds stock", () => {
  it("refuses a location holding stock, and deletes it once it is empty", async () => {
    const w = await newWarehouse();
    const l = await newLocation(w.id);
    const level = await placeStock({ warehouseId: w.id, locationId: l.id }, 3, 1);
    expect(await refusal(warehouses.deleteLocation({ id: l.id }))).toEqual({
      code: "FAILED_PRECONDITION",
      reason: "IN_USE",
      field: "id",
      constraint: "has_stock",
    });
    expect((await warehouses.getLocation({ id: l.id })).location?.deleteTime).toBeUndefined();
    await emptyLevel(level);
    expect((await warehouses.deleteLocation({ id: l.id })).location?.deleteTime).toBeDefined();
  });

  it("refuses a warehouse holding stock (even at no location), and deletes it once it is empty", async () => {
    const w = await newWarehouse();
    const level = await placeStock({ warehouseId: w.id }, 9);
    expect(await refusal(warehouses.deleteWarehouse({ id: w.id }))).toEqual({
      code: "FAILED_PRECONDITION",
      reason: "IN_USE",
      field: "id",
      constraint: "has_stock",
    });
    expect((await warehouses.getWarehouse({ id: w.id })).warehouse?.deleteTime).toBeUndefined();
    await emptyLevel(level);
    const deleted = (await warehouses.deleteWarehouse({ id: w.id })).warehouse!;
    expect([deleted.deleteTime !== undefined, deleted.active]).toEqual([true, false]);
    // The delete was announced: inventory's directory sees it deleted at once.
    await expect
      .poll(() => refusal(requireActivePlace(directory, { warehouseId: w.id })), { timeout: 5_000, interval: 10 })
      .toMatchObject({ reason: "DELETED" });
  });

  it("fails closed while the inventory service is down: UNAVAILABLE, and nothing deleted", async () => {
    const w = await newWarehouse();
    const l = await newLocation(w.id);
    await inventory.stop();
    inventoryStopped = true;
    expect(await refusal(warehouses.deleteLocation({ id: l.id }))).toMatchObject({ code: "UNAVAILABLE", reason: "INVENTORY_UNAVAILABLE" });
    expect((await warehouses.getLocation({ id: l.id })).location?.deleteTime).toBeUndefined();
    const live = (await warehouses.getWarehouse({ id: w.id })).warehouse!;
    expect([live.deleteTime, live.active]).toEqual([undefined, true]);
  });
});

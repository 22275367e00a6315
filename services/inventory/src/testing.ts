import { randomBytes, randomUUID } from "node:crypto";
import { GrpcChannel, ServiceIdentity, createGrpcClient, type Db } from "@inv/platform";
import { processNames } from "@inv/service-catalog";
import { startTestService, type TestService } from "@inv/platform/testing";
import { HoldService } from "@inv/gen/inventory/v1/hold_pb";
import { ItemService } from "@inv/gen/inventory/v1/item_pb";
import { StockService } from "@inv/gen/inventory/v1/stock_pb";
import { TrackedUnitService } from "@inv/gen/inventory/v1/tracked_unit_pb";
import { inventoryDefinition } from "./index.js";
import type { LocationInfo, LocationTypeInfo, WarehouseDirectory, WarehouseInfo } from "./warehouses.js";

/**
 * A warehouse directory held in memory, for tests of the stock rules that do not need the
 * warehouse service itself: tests add warehouses and locations and change them at will.
 * (The directory over the real warehouse service is tested on its own.)
 */
export class MemoryDirectory implements WarehouseDirectory {
  readonly warehouses = new Map<string, WarehouseInfo>();
  readonly locations = new Map<string, LocationInfo>();
  readonly locationTypes = new Map<string, LocationTypeInfo>();
  #seq = 0;

  async warehouse(id: string) {
    return this.warehouses.get(id);
  }

  async location(id: string) {
    return this.locations.get(id);
  }

  async locationType(id: string) {
    return this.locationTypes.get(id);
  }

  addWarehouse(over: Partial<WarehouseInfo> = {}): WarehouseInfo {
    const w = { id: randomUUID(), code: `W${++this.#seq}`, priority: 0, active: true, deleted: false, ...over };
    this.warehouses.set(w.id, w);
    return w;
  }

  addLocation(warehouseId: string, over: Partial<LocationInfo> = {}): LocationInfo {
    const code = over.code ?? `L${++this.#seq}`;
    const l = { id: randomUUID(), warehouseId, code, path: code, locationTypeId: "", active: true, deleted: false, ...over };
    this.locations.set(l.id, l);
    return l;
  }

  addLocationType(name = `Type ${++this.#seq}`): LocationTypeInfo {
    const t = { id: randomUUID(), name };
    this.locationTypes.set(t.id, t);
    return t;
  }
}

export interface TestInventory {
  svc: TestService;
  /** The service's own database, for checks made directly in it (the reconcile query). */
  db: Db;
  directory: MemoryDirectory;
  items: ReturnType<typeof itemClient>;
  stock: ReturnType<typeof stockClient>;
  holds: ReturnType<typeof holdClient>;
  units: ReturnType<typeof unitClient>;
  /** An item type and an item with a fresh SKU; returns the item. */
  newItem(over?: { sku?: string; defaultReorderPoint?: bigint }): Promise<{ id: string; sku: string }>;
  stop(): Promise<void>;
}

const itemClient = (svc: TestService) => svc.client(ItemService);
const stockClient = (svc: TestService) => svc.client(StockService);
const unitClient = (svc: TestService) => svc.client(TrackedUnitService);
/** HoldService is internal: its test client calls as the reservation service, with a fresh service token on every call. */
const holdClient = (channel: GrpcChannel) => createGrpcClient(HoldService, channel);

/** The inventory service over its own database, with warehouses from a MemoryDirectory. */
export async function startTestInventory(opts: { serviceSecret?: string } = {}): Promise<TestInventory> {
  const directory = new MemoryDirectory();
  const def = inventoryDefinition({ directory: () => directory });
  const serviceSecret = opts.serviceSecret ?? randomBytes(32).toString("hex");
  const svc = await startTestService(def, { serviceSecret });
  const reservation = await ServiceIdentity.start("reservation", serviceSecret, processNames);
  const asReservation = new GrpcChannel(svc.target, { deadlineMs: 30_000, metadata: () => ({ "x-service-token": reservation.tokenFor("inventory") }) });
  const items = itemClient(svc);
  let typeId: string | undefined;
  let seq = 0;
  return {
    svc,
    db: svc.db,
    directory,
    items,
    stock: stockClient(svc),
    holds: holdClient(asReservation),
    units: unitClient(svc),
    async newItem(over = {}) {
      typeId ??= (await items.createItemType({ itemType: { name: `Type ${randomUUID()}` } })).itemType!.id;
      const sku = over.sku ?? `SKU-${process.pid}-${Date.now().toString(36)}-${++seq}`;
      const { item } = await items.createItem({ item: { sku, name: sku, itemTypeId: typeId, defaultReorderPoint: over.defaultReorderPoint ?? 0n } });
      return { id: item!.id, sku };
    },
    async stop() {
      asReservation.close();
      reservation.close();
      await svc.stop();
    },
  };
}
export { reconcile } from "./store/reconcile.js";

import { fileURLToPath } from "node:url";
import type { ServiceDefinitionOptions, ServiceResources } from "@inv/platform";
import { processNamed } from "@inv/service-catalog";
import type { InventoryDeps } from "./handlers/deps.js";
import { holdService } from "./handlers/holds.js";
import { reportService } from "./handlers/reports.js";
import { itemService } from "./handlers/items.js";
import { stockService } from "./handlers/stock.js";
import { storageUsageService } from "./handlers/storage-usage.js";
import { trackedUnitService } from "./handlers/tracked-units.js";
import { auditOutbox } from "./store/schema.js";
import { warehouseDirectory, type WarehouseDirectory } from "./warehouses.js";

export const INVENTORY_DEFAULT_PORT = processNamed("inventory").grpcPort;

/** The inventory services bound to their handlers. */
export const inventoryServices = (deps: InventoryDeps) => [
  itemService(deps),
  stockService(deps),
  holdService(deps),
  storageUsageService(deps),
  trackedUnitService(deps),
  reportService(deps),
];

/**
 * The inventory service: items, stock levels, the movement ledger and holds, in schema
 * "inventory". It asks the warehouse service about warehouses and locations (warehouseDirectory:
 * over gRPC as itself, cached briefly, dropped on the warehouse service's announcements);
 * `directory` replaces that (tests). A directory with a `close` is closed when the service stops.
 */
export function inventoryDefinition(
  opts: { directory?: (resources: ServiceResources) => WarehouseDirectory & { close?: () => void } } = {},
): ServiceDefinitionOptions {
  // Made at start, before the server takes calls (so its bus subscription is live by then), and
  // found again by register: one per start of the definition.
  const directories = new WeakMap<ServiceResources, WarehouseDirectory>();
  return {
    name: "inventory",
    database: { schema: "inventory", migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)) },
    onStart: async (resources) => {
      const directory = (opts.directory ?? warehouseDirectory)(resources);
      directories.set(resources, directory);
      return async () => directory.close?.();
    },
    register: (resources) => {
      const { db, cache, log } = resources;
      const warehouses = directories.get(resources);
      if (!warehouses) throw new Error("the inventory service registers its handlers only after it started");
      return inventoryServices({ db, cache, log, warehouses });
    },
    audit: { outbox: auditOutbox },
  };
}

export const inventoryServiceDefinition: ServiceDefinitionOptions = inventoryDefinition();

export {
  requireActivePlace,
  warehouseDirectory,
  warehousesById,
  type LocationInfo,
  type WarehouseDirectory,
  type WarehouseInfo,
} from "./warehouses.js";

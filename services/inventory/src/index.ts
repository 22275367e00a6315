import { fileURLToPath } from "node:url";
import type { ServiceDefinitionOptions } from "@inv/platform";
import { registration } from "@inv/platform";
import { processNamed } from "@inv/service-catalog";
import { TrackedUnitService } from "@inv/gen/inventory/v1/tracked_unit_pb";
import { ReportService } from "@inv/gen/inventory/v1/report_pb";
import type { InventoryDeps } from "./handlers/deps.js";
import { holdService } from "./handlers/holds.js";
import { itemService } from "./handlers/items.js";
import { stockService } from "./handlers/stock.js";
import { storageUsageService } from "./handlers/storage-usage.js";
import { auditOutbox } from "./store/schema.js";
import type { WarehouseDirectory } from "./warehouses.js";

export const INVENTORY_DEFAULT_PORT = processNamed("inventory").grpcPort;

/** The inventory services bound to their handlers; tracked units and reports come in a later issue. */
export const inventoryServices = (deps: InventoryDeps) => [
  itemService(deps),
  stockService(deps),
  holdService(deps),
  storageUsageService(deps),
  registration(TrackedUnitService, {}),
  registration(ReportService, {}),
];

/**
 * The inventory service: items, stock levels, the movement ledger and holds, in schema
 * "inventory". `directory` replaces the warehouse service's client (tests).
 */
export function inventoryDefinition(
  opts: { directory?: (resources: Parameters<ServiceDefinitionOptions["register"]>[0]) => WarehouseDirectory } = {},
): ServiceDefinitionOptions {
  return {
    name: "inventory",
    database: { schema: "inventory", migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)) },
    register: (resources) => {
      const { db, cache, log } = resources;
      const warehouses = opts.directory ? opts.directory(resources) : unwiredDirectory;
      return inventoryServices({ db, cache, log, warehouses });
    },
    audit: { outbox: auditOutbox },
  };
}

/** Placeholder until the warehouse service's client is wired (see warehouses.ts). */
const unwiredDirectory: WarehouseDirectory = {
  warehouse: async () => undefined,
  location: async () => undefined,
};

export const inventoryServiceDefinition: ServiceDefinitionOptions = inventoryDefinition();

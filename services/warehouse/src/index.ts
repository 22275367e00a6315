import { fileURLToPath } from "node:url";
import type { ServiceDefinitionOptions, ServiceResources } from "@inv/platform";
import { processNamed } from "@inv/service-catalog";
import { announcer } from "./announce.js";
import { warehouseService } from "./handlers/index.js";
import { storageUsageProbe, type StockProbe } from "./stock-probe.js";
import { auditOutbox } from "./store/schema.js";

export const WAREHOUSE_DEFAULT_PORT = processNamed("warehouse").grpcPort;

/** The stock probe of a running warehouse service: the inventory service, asked as the warehouse service. */
const inventoryProbe = (resources: ServiceResources): StockProbe =>
  storageUsageProbe({ channel: () => resources.peer("inventory"), identity: resources.identity, log: resources.log });

/**
 * The warehouse service: warehouses, location types and location trees, in schema "warehouse".
 * Before deleting a warehouse or a location it asks the inventory service whether stock is there;
 * `stock` replaces that question (tests of the warehouse service on its own).
 */
export function warehouseDefinition(opts: { stock?: (resources: ServiceResources) => StockProbe } = {}): ServiceDefinitionOptions {
  return {
    name: "warehouse",
    database: { schema: "warehouse", migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)) },
    register: (resources) => [
      warehouseService({
        db: resources.db,
        cache: resources.cache,
        stock: (opts.stock ?? inventoryProbe)(resources),
        changed: announcer(resources.bus, resources.log),
      }),
    ],
    audit: { outbox: auditOutbox },
  };
}

export const warehouseServiceDefinition: ServiceDefinitionOptions = warehouseDefinition();

export { warehouseService } from "./handlers/index.js";
export { nothingStored, type StockProbe } from "./stock-probe.js";

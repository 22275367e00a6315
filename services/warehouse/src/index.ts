import { fileURLToPath } from "node:url";
import type { ServiceDefinitionOptions } from "@inv/platform";
import { processNamed } from "@inv/service-catalog";
import { warehouseService } from "./handlers/index.js";
import { noStockYet } from "./stock-probe.js";
import { auditOutbox } from "./store/schema.js";

export const WAREHOUSE_DEFAULT_PORT = processNamed("warehouse").grpcPort;

/** The warehouse service: warehouses, location types and location trees, in schema "warehouse". */
export const warehouseServiceDefinition: ServiceDefinitionOptions = {
  name: "warehouse",
  database: { schema: "warehouse", migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)) },
  register: ({ db, cache }) => [warehouseService({ db, cache, stock: noStockYet })],
  audit: { outbox: auditOutbox },
};

export { warehouseService } from "./handlers/index.js";
export type { StockProbe } from "./stock-probe.js";

import { fileURLToPath } from "node:url";
import { DEFAULT_GRPC_PORTS } from "@inv/api/processes";
import type { ServiceDefinitionOptions } from "@inv/platform";
import { warehouseService } from "./handlers/index.js";
import { noStockYet } from "./stock-probe.js";

export const WAREHOUSE_DEFAULT_PORT = DEFAULT_GRPC_PORTS.warehouse;

/** The warehouse service: warehouses, location types and location trees, in schema "warehouse". */
export const warehouseServiceDefinition: ServiceDefinitionOptions = {
  name: "warehouse",
  database: { schema: "warehouse", migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)) },
  register: ({ db, cache }) => [warehouseService({ db, cache, stock: noStockYet })],
};

export { warehouseService } from "./handlers/index.js";
export type { StockProbe } from "./stock-probe.js";

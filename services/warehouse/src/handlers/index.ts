import { registration } from "@inv/platform";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import type { WarehouseDeps } from "./deps.js";
import { locationTypeHandlers } from "./location-types.js";
import { locationHandlers } from "./locations.js";
import { warehouseHandlers } from "./warehouses.js";

export type { WarehouseDeps } from "./deps.js";

/** Binds WarehouseService to its handlers. */
export const warehouseService = (deps: WarehouseDeps) =>
  registration(WarehouseService, { ...warehouseHandlers(deps), ...locationTypeHandlers(deps), ...locationHandlers(deps) });

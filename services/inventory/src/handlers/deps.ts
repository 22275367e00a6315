import type { Cache, Db, Logger } from "@inv/platform";
import type { WarehouseDirectory } from "../warehouses.js";

/** What the inventory handlers need, injected so tests and the cluster wire their own. */
export interface InventoryDeps {
  db: Db;
  cache: Cache;
  log: Logger;
  /** The warehouse service's answers about warehouses and locations, cached. */
  warehouses: WarehouseDirectory;
}

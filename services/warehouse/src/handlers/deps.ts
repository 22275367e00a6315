import type { Cache, Db } from "@inv/platform";
import type { StockProbe } from "../stock-probe.js";

/** What the warehouse handlers need, injected so tests and the cluster wire their own. */
export interface WarehouseDeps {
  db: Db;
  cache: Cache;
  stock: StockProbe;
}

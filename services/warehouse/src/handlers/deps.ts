import type { Cache, Db } from "@inv/platform";
import type { Announce } from "../announce.js";
import type { StockProbe } from "../stock-probe.js";

/** What the warehouse handlers need, injected so tests and the cluster wire their own. */
export interface WarehouseDeps {
  db: Db;
  cache: Cache;
  stock: StockProbe;
  /** Announces a changed or deleted warehouse or location to the other processes (the bus), after the commit. */
  changed: Announce;
}

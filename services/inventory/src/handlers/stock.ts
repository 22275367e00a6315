import { registration } from "@inv/platform";
import { StockService } from "@inv/gen/inventory/v1/stock_pb";
import type { InventoryDeps } from "./deps.js";

export const stockService = (_deps: InventoryDeps) => registration(StockService, {});

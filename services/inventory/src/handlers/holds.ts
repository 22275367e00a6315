import { registration } from "@inv/platform";
import { HoldService } from "@inv/gen/inventory/v1/hold_pb";
import type { InventoryDeps } from "./deps.js";

export const holdService = (_deps: InventoryDeps) => registration(HoldService, {});

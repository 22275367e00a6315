import { registration } from "@inv/platform";
import { ItemService } from "@inv/gen/inventory/v1/item_pb";
import type { InventoryDeps } from "./deps.js";

export const itemService = (_deps: InventoryDeps) => registration(ItemService, {});

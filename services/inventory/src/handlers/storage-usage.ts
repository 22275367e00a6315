import { registration } from "@inv/platform";
import { StorageUsageService } from "@inv/gen/inventory/v1/storage_usage_pb";
import type { InventoryDeps } from "./deps.js";

export const storageUsageService = (_deps: InventoryDeps) => registration(StorageUsageService, {});

import { checkFields, registration, type ServiceImpl } from "@inv/platform";
import { StorageUsageService } from "@inv/gen/inventory/v1/storage_usage_pb";
import { storageUsage } from "../store/storage-usage.js";
import type { InventoryDeps } from "./deps.js";

type Impl = ServiceImpl<typeof StorageUsageService>;

/**
 * What is stored in a place, for the warehouse service before it deletes a warehouse or a
 * location (internal: only platform services may call it). Read straight from stock_levels, not
 * from a cache: a delete must not act on a stale "empty".
 */
export function storageUsageHandlers({ db }: InventoryDeps) {
  const getStorageUsage: Impl["getStorageUsage"] = async ({ warehouseId, locationId }) => {
    const place = checkFields((v) => ({ warehouseId: v.id("warehouse_id", warehouseId), locationId: v.optionalId("location_id", locationId) }));
    const usage = await storageUsage(db, place);
    // Tracked units do not exist yet (TrackedUnitService is still unimplemented and has no table),
    // so none can be stored anywhere; count them here once they do.
    const trackedUnitCount = 0n;
    return {
      ...usage,
      trackedUnitCount,
      empty: usage.onHand === 0n && usage.reserved === 0n && trackedUnitCount === 0n,
    };
  };
  return { getStorageUsage } satisfies Impl;
}

export const storageUsageService = (deps: InventoryDeps) => registration(StorageUsageService, storageUsageHandlers(deps));

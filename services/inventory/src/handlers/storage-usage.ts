import { checkFields, registration, type ServiceImpl } from "@inv/platform";
import { StorageUsageService } from "@inv/gen/inventory/v1/storage_usage_pb";
import { storageUsage } from "../store/storage-usage.js";
import { liveUnitCount } from "../store/tracked-units.js";
import type { InventoryDeps } from "./deps.js";

type Impl = ServiceImpl<typeof StorageUsageService>;

/**
 * What is stored in a place, for the warehouse service before it deletes a warehouse or a
 * location (internal: only platform services may call it). Read straight from stock_levels and
 * tracked_units, not from a cache: a delete must not act on a stale "empty".
 */
export function storageUsageHandlers({ db }: InventoryDeps) {
  const getStorageUsage: Impl["getStorageUsage"] = async ({ warehouseId, locationId }) => {
    const place = checkFields((v) => ({ warehouseId: v.id("warehouse_id", warehouseId), locationId: v.optionalId("location_id", locationId) }));
    // Live tracked units there count as stored too (at a location: exactly that location, as for stock).
    const [usage, trackedUnitCount] = await Promise.all([storageUsage(db, place), liveUnitCount(db, place)]);
    return {
      ...usage,
      trackedUnitCount,
      empty: usage.onHand === 0n && usage.reserved === 0n && trackedUnitCount === 0n,
    };
  };
  return { getStorageUsage } satisfies Impl;
}

export const storageUsageService = (deps: InventoryDeps) => registration(StorageUsageService, storageUsageHandlers(deps));

import { StorageUsageService } from "@inv/gen/inventory/v1/storage_usage_pb";
import { Unavailable, type GrpcChannel, type Logger, type ServiceIdentity } from "@inv/platform";

/**
 * What the warehouse service asks the inventory service before a delete: is there stock here?
 * The warehouse service never reads inventory's tables; it asks inventory.v1.StorageUsageService.
 * Both run under the row lock of the delete, so the answer holds until the delete commits.
 */
export interface StockProbe {
  warehouseHasStock(warehouseId: string): Promise<boolean>;
  /** Whether the location (of that warehouse) holds stock. */
  locationHasStock(warehouseId: string, locationId: string): Promise<boolean>;
}

export interface StorageUsageProbeOptions {
  /** The channel to the inventory service (ServiceResources.peer("inventory")), asked for at the first delete. */
  channel: () => GrpcChannel;
  /** The warehouse service's own identity: it asks as itself (the service role holds storage.usage). */
  identity: ServiceIdentity;
  log: Logger;
}

/**
 * The probe over gRPC: inventory.v1.StorageUsageService/GetStorageUsage. It fails closed: when
 * the inventory service cannot answer (down, unreachable, refusing), the probe throws UNAVAILABLE
 * and the delete around it rolls back, changing nothing. It never guesses "empty".
 */
export function storageUsageProbe({ channel, identity, log }: StorageUsageProbeOptions): StockProbe {
  const holdsStock = async (warehouseId: string, locationId: string, place: string) => {
    try {
      const usage = await channel().unary(
        StorageUsageService.method.getStorageUsage,
        { warehouseId, locationId },
        { metadata: { "x-service-token": identity.tokenFor("inventory") } },
      );
      return !usage.empty;
    } catch (err) {
      log.warn({ err, warehouseId, locationId }, "could not ask the inventory service for storage usage");
      const unavailable = new Unavailable(
        `the inventory service cannot say whether ${place} holds stock, so it was not deleted; try again shortly`,
        undefined,
        "INVENTORY_UNAVAILABLE",
      );
      unavailable.retryAfterSeconds = 1;
      throw unavailable;
    }
  };
  return {
    warehouseHasStock: (warehouseId) => holdsStock(warehouseId, "", `warehouse ${warehouseId}`),
    locationHasStock: (warehouseId, locationId) => holdsStock(warehouseId, locationId, `location ${locationId}`),
  };
}

/** A probe that finds every place empty: for tests of the warehouse service on its own. */
export const nothingStored: StockProbe = {
  warehouseHasStock: async () => false,
  locationHasStock: async () => false,
};

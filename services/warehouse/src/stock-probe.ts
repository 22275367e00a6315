/**
 * What the warehouse service asks the inventory service before a delete: is there stock here?
 * The warehouse service never reads inventory's tables; this seam is filled by a gRPC client of
 * inventory.v1.StorageUsageService/GetStorageUsage once the inventory service implements it.
 */
export interface StockProbe {
  warehouseHasStock(warehouseId: string): Promise<boolean>;
  locationHasStock(locationId: string): Promise<boolean>;
}

/** Until the inventory service serves stock levels, no warehouse or location holds stock. */
export const noStockYet: StockProbe = {
  warehouseHasStock: async () => false,
  locationHasStock: async () => false,
};

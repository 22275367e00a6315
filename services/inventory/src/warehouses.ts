/**
 * What the inventory service knows of warehouses and locations: only what the warehouse service
 * tells it. Stock may only be placed in a warehouse (and location) that exists and is active;
 * holds need each warehouse's code and priority. Implementations cache the answers.
 */
export interface WarehouseInfo {
  id: string;
  code: string;
  priority: number;
  active: boolean;
  deleted: boolean;
}

export interface LocationInfo {
  id: string;
  warehouseId: string;
  code: string;
  active: boolean;
  deleted: boolean;
}

export interface WarehouseDirectory {
  /** The warehouse with this id, deleted or not; undefined when there is none. */
  warehouse(id: string): Promise<WarehouseInfo | undefined>;
  /** The location with this id, deleted or not; undefined when there is none. */
  location(id: string): Promise<LocationInfo | undefined>;
}

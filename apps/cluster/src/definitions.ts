import type { ServiceDefinitionOptions } from "@inv/platform";
import { inventoryServiceDefinition } from "@inv/inventory-service";
import { reservationServiceDefinition } from "@inv/reservation-service";
import type { ProcessName } from "@inv/service-catalog";
import { userServiceDefinition } from "@inv/user-service";
import { warehouseServiceDefinition } from "@inv/warehouse-service";

/**
 * The implementation of each process of the catalog, by its catalog name. The type asks for one
 * entry per process, so a process added to the catalog does not compile here until its
 * `services/<name>` workspace is imported; the imports are plain so the compiled cluster
 * (`npm run build`) carries every service in it. The migration task (apps/migrate) reads each
 * one's schema and migrations folder from here too.
 */
export const definitions: Readonly<Record<ProcessName, ServiceDefinitionOptions>> = {
  warehouse: warehouseServiceDefinition,
  inventory: inventoryServiceDefinition,
  reservation: reservationServiceDefinition,
  user: userServiceDefinition,
};

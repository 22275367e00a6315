import { registration, type ServiceDefinitionOptions } from "@inv/platform";
import { processNamed } from "@inv/service-catalog";
import { serviceProcess } from "@inv/service-catalog/descriptors";

export const INVENTORY_DEFAULT_PORT = processNamed("inventory").grpcPort;

/**
 * The inventory service process. Its contracts are final; its handlers come in a later issue, so
 * until then it serves health and reflection (grpcurl can list and describe every RPC) and
 * every RPC answers UNIMPLEMENTED.
 */
export const inventoryServiceDefinition: ServiceDefinitionOptions = {
  name: "inventory",
  register: () => serviceProcess("inventory").services.map((service) => registration(service, {})),
};

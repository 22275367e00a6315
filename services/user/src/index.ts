import { registration, type ServiceDefinitionOptions } from "@inv/platform";
import { processNamed } from "@inv/service-catalog";
import { serviceProcess } from "@inv/service-catalog/descriptors";

export const USER_DEFAULT_PORT = processNamed("user").grpcPort;

/**
 * The user service process. Its contracts are final; its handlers come in a later issue, so
 * until then it serves health and reflection (grpcurl can list and describe every RPC) and
 * every RPC answers UNIMPLEMENTED.
 */
export const userServiceDefinition: ServiceDefinitionOptions = {
  name: "user",
  register: () => serviceProcess("user").services.map((service) => registration(service, {})),
};

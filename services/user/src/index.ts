import { serviceProcesses } from "@inv/api";
import { registration, type ServiceDefinitionOptions } from "@inv/platform";

const entry = serviceProcesses.find((p) => p.name === "user")!;

/**
 * The user service process. Its contracts are final; its handlers come in a later issue, so
 * until then it serves health and reflection (grpcurl can list and describe every RPC) and
 * every RPC answers UNIMPLEMENTED.
 */
export const userServiceDefinition: ServiceDefinitionOptions = {
  name: "user",
  register: () => entry.services.map((service) => registration(service, {})),
};

export const USER_DEFAULT_PORT = entry.defaultPort;

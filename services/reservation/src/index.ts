import { serviceProcesses } from "@inv/api";
import { registration, type ServiceDefinitionOptions } from "@inv/platform";

const entry = serviceProcesses.find((p) => p.name === "reservation")!;

/**
 * The reservation service process. Its contracts are final; its handlers come in a later issue, so
 * until then it serves health and reflection (grpcurl can list and describe every RPC) and
 * every RPC answers UNIMPLEMENTED.
 */
export const reservationServiceDefinition: ServiceDefinitionOptions = {
  name: "reservation",
  register: () => entry.services.map((service) => registration(service, {})),
};

export const RESERVATION_DEFAULT_PORT = entry.defaultPort;

import { registration, type ServiceDefinitionOptions } from "@inv/platform";
import { processNamed } from "@inv/service-catalog";
import { serviceProcess } from "@inv/service-catalog/descriptors";

export const RESERVATION_DEFAULT_PORT = processNamed("reservation").grpcPort;

/**
 * The reservation service process. Its contracts are final; its handlers come in a later issue, so
 * until then it serves health and reflection (grpcurl can list and describe every RPC) and
 * every RPC answers UNIMPLEMENTED.
 */
export const reservationServiceDefinition: ServiceDefinitionOptions = {
  name: "reservation",
  register: () => serviceProcess("reservation").services.map((service) => registration(service, {})),
};

import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { ProcessDeclaration } from "./catalog.js";

/** A service as `buf build` found it in the contracts: its name and the proto file defining it. */
export interface ProtoService {
  readonly typeName: string;
  /** e.g. "inventory/v1/hold.proto"; the generated module is the same path with `_pb`. */
  readonly file: string;
}

/** Every service in a FileDescriptorSet (gen/descriptors.binpb). */
export function servicesInDescriptorSet(bytes: Uint8Array): ProtoService[] {
  return fromBinary(FileDescriptorSetSchema, bytes).file.flatMap((file) =>
    file.service.map((s) => ({ typeName: `${file.package}.${s.name}`, file: file.name })),
  );
}

/**
 * Google's contracts, and gRPC's health and reflection, which the platform serves in every
 * process by itself: the catalog does not list them.
 */
export const isPlatformContract = (typeName: string) => /^(google|grpc)\./.test(typeName);

/**
 * Where the catalog and the contracts disagree: a declared service no proto file defines, a
 * service a proto file defines that no process declares, or a service declared twice.
 */
export function catalogGaps(declared: readonly ProcessDeclaration<string>[], found: readonly ProtoService[]): string[] {
  const defined = new Set(found.map((s) => s.typeName));
  const owners = new Map<string, string[]>();
  for (const process of declared) {
    for (const service of process.services) owners.set(service.typeName, [...(owners.get(service.typeName) ?? []), process.name]);
  }
  const gaps: string[] = [];
  for (const [typeName, processes] of owners) {
    if (!defined.has(typeName)) gaps.push(`${typeName} (catalog: ${processes.join(", ")}) is defined by no proto file`);
    if (processes.length > 1) gaps.push(`${typeName} is declared by more than one process: ${processes.join(", ")}`);
  }
  for (const service of found) {
    if (!isPlatformContract(service.typeName) && !owners.has(service.typeName)) {
      gaps.push(`${service.typeName} (${service.file}) is served by no process in the catalog`);
    }
  }
  return gaps;
}

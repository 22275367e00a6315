/**
 * The catalog bound to the generated protobuf-es descriptors. It checks the catalog against the
 * contracts when first imported, and fails loudly (at start, or in the first test) when a name in
 * the catalog has no descriptor, or a proto file defines a service no process declares.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import { generatedServices } from "@inv/gen/services";
import { processes, type ProcessName } from "./catalog.js";
import { catalogGaps, servicesInDescriptorSet, type ProtoService } from "./proto-services.js";

/** A process of the catalog with the descriptors of the services it serves. */
export interface ServiceProcess {
  readonly name: ProcessName;
  readonly grpcPort: number;
  readonly databaseSchema: string | null;
  /** Every service it serves, public and internal, in catalog order. */
  readonly services: readonly DescService[];
  readonly publicServices: readonly DescService[];
  readonly internalServices: readonly DescService[];
}

// buf build writes every contract here at generate time, next to the generated code (gen/package.json).
const DESCRIPTOR_SET = fileURLToPath(import.meta.resolve("@inv/gen/descriptors.binpb"));

/** The generated descriptor of a service, from the index `npm run generate` writes (gen/services.ts). */
function generatedDescriptor(service: ProtoService): DescService {
  const found = generatedServices[service.typeName];
  if (!found) throw new Error(`@inv/gen/services has no descriptor for ${service.typeName} (from ${service.file}); run npm run generate`);
  return found;
}

function bind(): ServiceProcess[] {
  if (!existsSync(DESCRIPTOR_SET)) throw new Error(`${DESCRIPTOR_SET} is missing; run npm run generate`);
  const found = servicesInDescriptorSet(readFileSync(DESCRIPTOR_SET));
  const gaps = catalogGaps(processes, found);
  if (gaps.length > 0) throw new Error(`the service catalog and proto/ disagree:\n  ${gaps.join("\n  ")}`);
  const fileOf = new Map(found.map((s) => [s.typeName, s]));
  const descriptorOf = (typeName: string) => generatedDescriptor(fileOf.get(typeName)!);
  return processes.map((p) => {
    const services = p.services.map((s) => ({ ...s, descriptor: descriptorOf(s.typeName) }));
    const visible = (v: string) => services.filter((s) => s.visibility === v).map((s) => s.descriptor);
    return {
      name: p.name,
      grpcPort: p.grpcPort,
      databaseSchema: p.databaseSchema,
      services: services.map((s) => s.descriptor),
      publicServices: visible("public"),
      internalServices: visible("internal"),
    };
  });
}

/** Every service process, with descriptors. */
export const serviceProcesses: readonly ServiceProcess[] = bind();

/** Every service the edge exposes, in catalog order. */
export const publicServices: readonly DescService[] = serviceProcesses.flatMap((p) => p.publicServices);

/** Every service only other services call: never routed by the edge. */
export const internalServices: readonly DescService[] = serviceProcesses.flatMap((p) => p.internalServices);

/** A process with its descriptors, by name. */
export function serviceProcess(name: ProcessName): ServiceProcess {
  const found = serviceProcesses.find((p) => p.name === name);
  if (!found) throw new Error(`no process named ${name} in the service catalog`);
  return found;
}

/** The process that serves a service. */
export function processOf(service: DescService): ServiceProcess {
  const found = serviceProcesses.find((p) => p.services.some((s) => s.typeName === service.typeName));
  if (!found) throw new Error(`${service.typeName} is not in the service catalog`);
  return found;
}

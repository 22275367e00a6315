/**
 * The service catalog as plain data (no generated code): processes, ports, services and their
 * visibility, database schemas, environment variables, bus channels and commands. The protobuf-es descriptors
 * of the same services come from `@inv/service-catalog/descriptors`.
 */
import { processes, type ProcessDeclaration, type ProcessName } from "./catalog.js";

export { edge, processes, type ProcessDeclaration, type ProcessName, type ServiceDeclaration, type Visibility } from "./catalog.js";
export * from "./commands.js";
export * from "./environment.js";
export * from "./events.js";

export const processNames: readonly ProcessName[] = processes.map((p) => p.name);

/** The catalog entry of a process. */
export function processNamed(name: ProcessName): ProcessDeclaration {
  const found = processes.find((p) => p.name === name);
  if (!found) throw new Error(`no process named ${name} in the service catalog`);
  return found;
}

/**
 * One value per process, keyed by something its name decides (a variable name, say), typed as a
 * complete record so a config schema can require every key.
 */
export function perProcess<K extends string, V>(key: (name: ProcessName) => K, value: (process: ProcessDeclaration) => V): Record<K, V> {
  // Sound: `processes` holds every ProcessName, so every key of K is set.
  return Object.fromEntries(processes.map((p) => [key(p.name), value(p)])) as Record<K, V>;
}

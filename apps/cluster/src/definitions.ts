import type { ServiceDefinitionOptions } from "@inv/platform";
import { perProcess, processNames, type ProcessName } from "@inv/service-catalog";

/**
 * The implementation of each process of the catalog, found by convention so that adding a
 * process takes its catalog entry and its folder, nothing here: `services/<name>` is the
 * workspace `@inv/<name>-service`, whose entry exports `<name>ServiceDefinition`. Each such
 * package is a declared dependency of this app (a test holds the list to the catalog).
 */
async function definitionOf(name: ProcessName): Promise<ServiceDefinitionOptions> {
  const specifier = `@inv/${name}-service`;
  const exports: Record<string, unknown> = await import(specifier);
  const found = exports[`${name}ServiceDefinition`];
  if (!isDefinition(found)) throw new Error(`${specifier} exports no ${name}ServiceDefinition`);
  return found;
}

function isDefinition(value: unknown): value is ServiceDefinitionOptions {
  return typeof value === "object" && value !== null && "name" in value && "register" in value && typeof value.register === "function";
}

const loaded = new Map(await Promise.all(processNames.map(async (name) => [name, await definitionOf(name)] as const)));

/** The implementation of each service process, by its catalog name. */
export const definitions: Readonly<Record<ProcessName, ServiceDefinitionOptions>> = perProcess(
  (name) => name,
  (p) => loaded.get(p.name)!,
);

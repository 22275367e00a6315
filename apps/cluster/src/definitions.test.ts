import { processes } from "@inv/service-catalog";
import { expect, it } from "vitest";
import { definitions } from "./definitions.js";

it.each(processes)("the $name service is defined under its catalog name, with the catalog's database schema", (process) => {
  const definition = definitions[process.name];
  expect(definition.name).toBe(process.name);
  expect(definition.database?.schema ?? null).toBe(process.databaseSchema);
});

it("declares every service package it loads as a dependency, so installs and tools see the imports", async () => {
  const { readFile } = await import("node:fs/promises");
  const manifest = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as { dependencies: Record<string, string> };
  for (const { name } of processes) expect(manifest.dependencies).toHaveProperty(`@inv/${name}-service`);
});

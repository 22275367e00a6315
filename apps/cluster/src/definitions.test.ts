import { processes } from "@inv/service-catalog";
import { expect, it } from "vitest";
import { definitions } from "./definitions.js";

it.each(processes)("the $name service is defined under its catalog name, with the catalog's database schema", (process) => {
  const definition = definitions[process.name];
  expect(definition.name).toBe(process.name);
  expect(definition.database?.schema ?? null).toBe(process.databaseSchema);
});

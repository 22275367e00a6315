/**
 * The image's runtime stage against the programs it runs: what each one needs at run time is
 * copied in, and nothing that is not (sources, tests, dev tools). The Dockerfile cannot import
 * the program list, so this holds it to that list; no Docker engine is needed.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { processes, serviceProgram } from "@inv/service-catalog";
import { expect, it } from "vitest";
import { programs, repositoryRoot } from "./index.js";
import { dockerfile, runtimeCopies as copied } from "./runtime-stage.js";

const dirOf = (compiled: string) => compiled.slice(0, compiled.indexOf("/dist/"));

it("copies each program's compiled module and its manifest (which makes it an ES module)", () => {
  for (const program of programs) {
    expect(copied, program.compiled).toContain(`${dirOf(program.compiled)}/dist`);
    expect(copied, program.compiled).toContain(`${dirOf(program.compiled)}/package.json`);
  }
});

it("copies each service's migrations, which it finds beside its sources' folder", () => {
  for (const p of processes.filter((p) => p.databaseSchema !== null)) {
    const dir = dirOf(serviceProgram(p).compiled);
    expect(copied, p.name).toContain(`${dir}/drizzle`);
    expect(existsSync(join(repositoryRoot, dir, "drizzle")), p.name).toBe(true);
  }
});

it("copies the descriptor set, the production node_modules and the health probe, and no sources", () => {
  expect(copied).toEqual(expect.arrayContaining(["gen/descriptors.binpb", "node_modules", "scripts/grpc-health.sh"]));
  for (const path of copied) {
    expect(path, "the runtime stage copies no TypeScript sources").not.toMatch(/(^|\/)src(\/|$)|\.ts$/);
    expect(path, "each path is named (no whole-tree copy)").not.toMatch(/^(\/app|\.)?\/?$/);
  }
  // The dev dependencies are gone before node_modules is copied, and the programs are compiled.
  expect(dockerfile).toMatch(/^RUN .*npm run build && npm prune --omit=dev$/m);
});

it("names files that exist in the repository (the compiled modules once `npm run build` has run)", () => {
  for (const path of copied.filter((p) => !p.includes("/dist") && p !== "node_modules" && p !== "gen/descriptors.binpb")) {
    expect(existsSync(join(repositoryRoot, path)), path).toBe(true);
  }
});

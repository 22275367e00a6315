/**
 * Imports run down the layers only: libraries (packages/) know nothing of the processes built on
 * them, and services know nothing of the edge or the apps that assemble them.
 */
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { foldersIn, readPackage, readText, typeScriptFiles } from "./repo.js";

const IMPORT = /(?:^|[^\w.])(?:from\s*|import\s*\(\s*|import\s+)["'`]([^"'`]+)["'`]/g;

/** Every module a file's text imports, relative ones resolved to a path from the repository root. */
function importsIn(text: string, file: string): string[] {
  return [...text.matchAll(IMPORT)].map(([, spec]) => (spec!.startsWith(".") ? normalize(join(dirname(file), spec!)) : spec!));
}

/** Imports that reach a package by name or a folder by path. */
function offending(file: string, packages: readonly string[], folders: readonly string[], text = readText(file)): string[] {
  return importsIn(text, file).filter((spec) => packages.some((p) => spec === p || spec.startsWith(`${p}/`)) || folders.some((f) => spec.startsWith(`${f}/`)));
}

const names = (parent: string) => foldersIn(parent).map((dir) => readPackage(`${parent}/${dir}`).name);
const services = names("services");
const apps = names("apps");
const edge = readPackage("edge").name;

describe("layers", () => {
  it("finds what it guards", () => {
    expect(services).toContain("@inv/warehouse-service");
    expect(apps).toContain("@inv/cluster");
    expect(typeScriptFiles("packages").length).toBeGreaterThan(20);
    const q = '"'; // kept apart from the specifiers, so this file does not match itself
    const text = `import { a } from ${q}@inv/warehouse-service${q};\nexport * from ${q}../../../apps/cluster/src/index.js${q};\nawait import(${q}@inv/edge/x${q});`;
    expect(offending("packages/x/src/a.ts", services, ["apps"], text)).toEqual(["@inv/warehouse-service", "apps/cluster/src/index.js"]);
    expect(offending("packages/x/src/a.ts", [edge], [], text)).toEqual(["@inv/edge/x"]);
  });

  it("no library under packages/ imports a service, the edge or an app", () => {
    const found = typeScriptFiles("packages").flatMap((file) =>
      offending(file, [...services, edge, ...apps], ["services", "edge", "apps"]).map((spec) => `${file} imports ${spec}`),
    );
    expect(found).toEqual([]);
  });

  it("no service imports the edge or an app", () => {
    const found = typeScriptFiles("services").flatMap((file) => offending(file, [edge, ...apps], ["edge", "apps"]).map((spec) => `${file} imports ${spec}`));
    expect(found).toEqual([]);
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { workspaceFolders } from "@inv/service-catalog/repo";
import { describe, expect, it } from "vitest";
import { buildPrograms, packageOf, programs, repositoryRoot } from "./index.js";

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
}

const manifest = (dir: string): Manifest => JSON.parse(readFileSync(join(repositoryRoot, dir, "package.json"), "utf8"));

/** Every workspace manifest by package name. */
const workspaces = (): Map<string, Manifest> => new Map(workspaceFolders().map((dir) => [manifest(dir).name, manifest(dir)] as const));

/**
 * What `npm prune --omit=dev` leaves for a program: the production dependencies of its
 * workspace, of the workspaces those name in turn, and of the root.
 */
function productionDependencies(programDir: string): Set<string> {
  const all = workspaces();
  const found = new Set(Object.keys(manifest(".").dependencies ?? {}));
  const visit = (m: Manifest) => {
    for (const dep of Object.keys(m.dependencies ?? {})) {
      if (found.has(dep)) continue;
      found.add(dep);
      const workspace = all.get(dep);
      if (workspace) visit(workspace);
    }
  };
  visit(manifest(programDir));
  return found;
}

const programDir = (compiled: string) => compiled.slice(0, compiled.indexOf("/dist/"));

describe("the compiled programs", () => {
  it("names packages by their import specifiers", () => {
    expect(packageOf("pino")).toBe("pino");
    expect(packageOf("drizzle-orm/pg-core")).toBe("drizzle-orm");
    expect(packageOf("@grpc/grpc-js/build/src/metadata")).toBe("@grpc/grpc-js");
  });

  it("compiles every program, and each imports at run time only what the production image keeps", async () => {
    const built = await buildPrograms({ write: false });
    expect(built.map((b) => b.entry.compiled).sort()).toEqual(programs.map((p) => p.compiled).sort());
    for (const { entry, packages } of built) {
      // The repository's own code is inside the module; what is left are npm packages.
      expect(
        packages.filter((p) => p.startsWith("@inv/")),
        entry.compiled,
      ).toEqual([]);
      expect(packages, entry.compiled).toContain("@grpc/grpc-js");
      const kept = productionDependencies(programDir(entry.compiled));
      expect(
        packages.filter((p) => !kept.has(p)),
        `${entry.compiled} imports packages its workspace does not depend on, which npm prune --omit=dev would remove`,
      ).toEqual([]);
    }
  });
});

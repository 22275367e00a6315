/** The folders, workspaces and test projects the catalog implies. */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import vitestConfig from "../../../../vitest.config.ts";
import { processes } from "../index.js";
import { foldersIn, readPackage, root, workspaceFolders } from "./repo.js";

describe("each process of the catalog has its folder, and each folder its process", () => {
  it("services/ holds exactly one folder per process", () => {
    expect(foldersIn("services")).toEqual(processes.map((p) => p.name).sort());
  });

  it.each(processes.map((p) => p.name))("services/%s is a workspace package with its entry points", (name) => {
    for (const file of ["package.json", "src/index.ts", "src/main.ts"]) expect(existsSync(join(root, "services", name, file)), file).toBe(true);
    expect(readPackage(`services/${name}`).name).toBe(`@inv/${name}-service`);
    expect(workspaceFolders()).toContain(`services/${name}`);
  });
});

describe("the test projects", () => {
  const projects = (vitestConfig.test?.projects ?? []).flatMap((p) =>
    typeof p === "object" && "test" in p && p.test ? [{ name: p.test.name, root: relative(root, p.test.root ?? "") }] : [],
  );

  it("has one project per workspace with tests, named as its test script says, rooted in it", () => {
    const expected = workspaceFolders().flatMap((dir) => {
      const script = readPackage(dir).scripts?.["test"];
      const name = script?.match(/--project (\S+)/)?.[1];
      return name ? [{ name, root: dir }] : [];
    });
    expect(projects.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual(expected.sort((a, b) => a.name.localeCompare(b.name)));
  });

  it("covers every process of the catalog", () => {
    for (const p of processes) expect(projects).toContainEqual({ name: p.name, root: `services/${p.name}` });
  });
});

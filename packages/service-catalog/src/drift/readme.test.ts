import { describe, expect, it } from "vitest";
import { processes } from "../catalog.js";
import { environment } from "../environment.js";
import { readText } from "./repo.js";

// The README is what a newcomer configures from: it must name every variable a process reads
// and every process's default port, as the catalog declares them.
const readme = readText("README.md");
const configuration = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 1));

describe("the README agrees with the service catalog", () => {
  it.each(environment.map((v) => [v.name]))("documents %s in its configuration table", (name) => {
    expect(configuration).toContain(`\`${name}\``);
  });

  it.each(processes.map((p) => [p.name, p.grpcPort]))("shows the %s process on its gRPC port %i", (name, port) => {
    expect(readme).toMatch(new RegExp(`gRPC ${name}\\s+127\\.0\\.0\\.1:${port}`));
  });
});

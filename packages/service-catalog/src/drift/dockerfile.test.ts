/** The Dockerfile cannot import the catalog, so this holds it to the catalog instead. */
import { expect, it } from "vitest";
import { clusterCommand, edge, processes } from "../index.js";
import { readText, workspaceFolders } from "./repo.js";

// Continuation lines joined, so an instruction is one line.
const dockerfile = readText("Dockerfile").replace(/\\\n\s*/g, " ");
const instruction = (name: string) => [...dockerfile.matchAll(new RegExp(`^${name} (.+)$`, "gm"))].map((m) => m[1]!.trim());
const numeric = (a: number, b: number) => a - b;

it("the image exposes the edge's HTTP port and every gRPC port of the catalog, and nothing else", () => {
  const exposed = instruction("EXPOSE")
    .flatMap((line) => line.split(/\s+/))
    .map(Number);
  expect(exposed.sort(numeric)).toEqual([edge.httpPort, ...processes.map((p) => p.grpcPort)].sort(numeric));
});

it("runs the whole cluster (npm start's program) unless compose or ECS picks a process", () => {
  const [cmd] = instruction("CMD").slice(-1);
  expect(JSON.parse(cmd ?? "null")).toEqual(clusterCommand);
});

it("copies every workspace's manifest and the lockfile before the sources, so dependencies stay cached", () => {
  const firstFrom = dockerfile.indexOf("\nFROM ");
  const build = dockerfile.slice(firstFrom, dockerfile.indexOf("\nFROM ", firstFrom + 1));
  const beforeSources = build.slice(0, build.indexOf("COPY . ."));
  const copied = [...beforeSources.matchAll(/^COPY (\S+)/gm)].flatMap((m) => m[1]!.split(/\s+/));
  const manifests = new Set([...beforeSources.matchAll(/^COPY (.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/)).filter((f) => f.endsWith(".json")));
  expect(copied.length).toBeGreaterThan(0);
  expect(manifests).toContain("package-lock.json");
  for (const dir of workspaceFolders()) expect(manifests, dir).toContain(`${dir}/package.json`);
  // npm ci runs on the manifests alone, before the sources arrive.
  expect(beforeSources).toMatch(/^RUN npm ci/m);
});

it("follows the image rules a linter would hold it to", () => {
  // A supported Node LTS (20 has reached its end of life), pinned by digest, in every stage.
  const [base] = instruction("ARG").filter((a) => a.startsWith("NODE_IMAGE="));
  expect(base).toMatch(/^NODE_IMAGE=node:22-bookworm-slim@sha256:[0-9a-f]{64}$/);
  const from = instruction("FROM");
  expect(from.length).toBe(2);
  for (const image of from) expect(image).toMatch(/^\$\{NODE_IMAGE\}( AS \w+)?$/);
  const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  // Not root, with an init process as PID 1.
  expect(runtime).toMatch(/^USER node$/m);
  expect(instruction("ENTRYPOINT").at(-1)).toBe('["/usr/bin/tini", "--"]');
  // apt without recommends, its lists removed in the same layer.
  for (const run of instruction("RUN").filter((r) => r.includes("apt-get"))) {
    expect(run).toContain("--no-install-recommends");
    expect(run).toContain("rm -rf /var/lib/apt/lists/*");
  }
  // The health checks' tools are in the image.
  expect(runtime).toMatch(/apt-get install -y --no-install-recommends curl tini/);
  // ADD only fetches (a URL); files are COPYed.
  for (const add of instruction("ADD")) expect(add).toMatch(/ https:\/\/\S+ \S+$/);
});

/** The Dockerfile cannot import the catalog, so this holds it to the catalog instead. */
import { expect, it } from "vitest";
import { clusterCommand, edge, processes } from "../index.js";
import { readText } from "./repo.js";

const dockerfile = readText("Dockerfile");
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

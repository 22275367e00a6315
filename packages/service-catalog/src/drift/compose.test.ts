/** compose.yaml cannot import the catalog, so this holds it to the catalog instead. */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  edge,
  edgeCommand,
  edgeHealthCheck,
  grpcTarget,
  grpcTargetVariable,
  processes,
  serviceCommand,
  serviceHealthCheck,
  variablesReadBy,
} from "../index.js";
import { readText } from "./repo.js";

interface ComposeService {
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

const compose: { services: Record<string, ComposeService> } = parse(readText("compose.yaml"), { merge: true });
// The stores DATABASE_URL and REDIS_URL point at: not processes of the platform.
const STORES = ["postgres", "redis"];
const names = (reader: "services" | "edge") =>
  variablesReadBy(reader)
    .map((v) => v.name)
    .sort();
const service = (name: string): ComposeService => compose.services[name] ?? expect.fail(`compose.yaml has no service ${name}`);

describe("compose.yaml agrees with the service catalog", () => {
  it("runs each process of the catalog, the edge and the stores, and nothing else", () => {
    expect(Object.keys(compose.services).sort()).toEqual([...STORES, ...processes.map((p) => p.name), edge.name].sort());
  });

  describe.each(processes)("$name", (process) => {
    it("runs the service's entry point on its catalog port, published as is", () => {
      expect(service(process.name).command).toEqual(serviceCommand(process));
      expect(service(process.name).ports).toEqual([`${process.grpcPort}:${process.grpcPort}`]);
      expect(service(process.name).environment?.["GRPC_PORT"]).toBe(String(process.grpcPort));
    });

    it("sets only variables a service reads, and waits for the stores", () => {
      expect(names("services")).toEqual(expect.arrayContaining(Object.keys(service(process.name).environment ?? {})));
      expect(Object.keys(service(process.name).depends_on ?? {}).sort()).toEqual(STORES);
    });

    it("is probed over grpc.health.v1 on its port", () => {
      expect(service(process.name).healthcheck?.test).toEqual(["CMD", ...serviceHealthCheck(process)]);
    });
  });

  describe("the edge", () => {
    it("runs the edge's entry point on its HTTP port, probed on its readiness path", () => {
      expect(service(edge.name).command).toEqual(edgeCommand);
      expect(service(edge.name).ports).toEqual([`${edge.httpPort}:${edge.httpPort}`]);
      expect(service(edge.name).environment?.["HTTP_PORT"]).toBe(String(edge.httpPort));
      expect(service(edge.name).healthcheck?.test).toEqual(["CMD", ...edgeHealthCheck]);
    });

    it("finds every process by its compose name and port, and sets only variables the edge reads", () => {
      const environment = service(edge.name).environment ?? {};
      expect(names("edge")).toEqual(expect.arrayContaining(Object.keys(environment)));
      for (const p of processes) expect(environment[grpcTargetVariable(p.name)], p.name).toBe(grpcTarget(p, p.name));
    });

    it("starts once every process is healthy", () => {
      const waits = service(edge.name).depends_on ?? {};
      expect(Object.keys(waits).sort()).toEqual(processes.map((p) => p.name).sort());
      for (const wait of Object.values(waits)) expect(wait.condition).toBe("service_healthy");
    });
  });
});

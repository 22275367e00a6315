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
  environment as catalogEnvironment,
  type ProcessName,
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
const names = (reader: "services" | "edge", process?: ProcessName) =>
  variablesReadBy(reader, process)
    .map((v) => v.name)
    .sort();
const service = (name: string): ComposeService => compose.services[name] ?? expect.fail(`compose.yaml has no service ${name}`);
const userProcess = processes.find((p) => p.name === "user") ?? expect.fail("the catalog has no user process");

// The user service's own variables (first admin, signing keys, token lifetimes).
const userServiceVariables = catalogEnvironment.filter((v) => v.only === userProcess.name).map((v) => v.name);

// A value compose takes from the caller's environment and refuses to start without: nothing committed.
const required = (name: string) => new RegExp(`^\\$\\{${name}:\\?[^}]+\\}$`);
// A value compose takes from the caller's environment, empty unless given: nothing committed.
const optional = (name: string) => new RegExp(`^\\$\\{${name}(:-)?\\}$`);
// `${name:-fallback}`: the caller's value, or the fallback.
const fromCaller = (name: string, fallback: string) => `\${${name}:-${fallback}}`;
// Variables whose values are credentials: compose may only pass them through from the caller.
const CREDENTIALS = ["SERVICE_SECRET", "ADMIN_PASSWORD", "AUTH_SIGNING_KEYS"];

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
      const reads = names("services", process.name);
      expect(reads).toEqual(expect.arrayContaining(Object.keys(service(process.name).environment ?? {})));
      expect(Object.keys(service(process.name).depends_on ?? {}).sort()).toEqual(STORES);
    });

    it("requires SERVICE_SECRET from the caller and finds every other process by its compose name", () => {
      const environment = service(process.name).environment ?? {};
      expect(environment["SERVICE_SECRET"]).toMatch(required("SERVICE_SECRET"));
      for (const p of processes.filter((p) => p !== process)) expect(environment[grpcTargetVariable(p.name)], p.name).toBe(grpcTarget(p, p.name));
      expect(environment[grpcTargetVariable(process.name)]).toBeUndefined();
    });

    it("holds no credential, only references to the caller's environment", () => {
      const environment = service(process.name).environment ?? {};
      for (const name of CREDENTIALS) {
        if (environment[name] !== undefined) expect(String(environment[name]), name).toMatch(name === "SERVICE_SECRET" ? required(name) : optional(name));
      }
    });

    it("is probed over grpc.health.v1 on its port", () => {
      expect(service(process.name).healthcheck?.test).toEqual(["CMD", ...serviceHealthCheck(process)]);
    });
  });

  describe("the user service", () => {
    it("reads exactly the variables the catalog declares for it (the keys of its config schema)", () => {
      const declared = [...readText("services/user/src/config.ts").matchAll(/^\s*([A-Z][A-Z0-9_]*)\s*:\s*\{/gm)].map(([, name]) => name ?? "");
      expect(declared.sort()).toEqual([...userServiceVariables].sort());
    });

    it("creates the first admin from the caller's environment, with a generated password unless one is given", () => {
      const environment = service(userProcess.name).environment ?? {};
      expect(environment["ADMIN_USERNAME"]).toBe(fromCaller("ADMIN_USERNAME", "admin"));
      // Empty: the user service generates a password and prints it once (docker compose logs user).
      expect(environment["ADMIN_PASSWORD"]).toBe(fromCaller("ADMIN_PASSWORD", ""));
    });

    it("is the only process given the user service's own settings", () => {
      for (const p of processes.filter((p) => p !== userProcess)) {
        const set = Object.keys(service(p.name).environment ?? {});
        expect(
          set.filter((name) => userServiceVariables.includes(name)),
          p.name,
        ).toEqual([]);
      }
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

    it("requires SERVICE_SECRET from the caller, the same one the services get", () => {
      const environment = service(edge.name).environment ?? {};
      expect(environment["SERVICE_SECRET"]).toMatch(required("SERVICE_SECRET"));
      for (const p of processes) expect(environment["SERVICE_SECRET"], p.name).toBe(service(p.name).environment?.["SERVICE_SECRET"]);
    });

    it("starts once every process is healthy", () => {
      const waits = service(edge.name).depends_on ?? {};
      expect(Object.keys(waits).sort()).toEqual(processes.map((p) => p.name).sort());
      for (const wait of Object.values(waits)) expect(wait.condition).toBe("service_healthy");
    });
  });
});

/** compose.yaml cannot import the catalog, so this holds it to the catalog instead. */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  databaseUrlVariable,
  defaultProcessMemoryMiB,
  edge,
  edgeCommand,
  edgeHealthCheck,
  grpcTarget,
  grpcTargetVariable,
  migrateCommand,
  processes,
  serviceCommand,
  serviceHealthCheck,
  variablesReadBy,
  environment as catalogEnvironment,
  type ProcessName,
} from "../index.js";
import { readText } from "./repo.js";

interface ComposeService {
  build?: string;
  image?: string;
  pull_policy?: string;
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  mem_limit?: string;
}

const compose: { services: Record<string, ComposeService> } = parse(readText("compose.yaml"), { merge: true });
// The stores DATABASE_URL and REDIS_URL point at: not processes of the platform.
const STORES = ["postgres", "redis"];
// The one-off task that creates each service's role and migrates its schema before the services start.
const MIGRATE = "migrate";
const names = (reader: "services" | "edge" | "migrate", process?: ProcessName) =>
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
  it("runs each process of the catalog, the edge, the migration task and the stores, and nothing else", () => {
    expect(Object.keys(compose.services).sort()).toEqual([...STORES, MIGRATE, ...processes.map((p) => p.name), edge.name].sort());
  });

  it("builds the image once (the migration task) and runs it, never pulled, for every other process", () => {
    const platform = [MIGRATE, ...processes.map((p) => p.name), edge.name];
    const image = service(MIGRATE).image;
    expect(image).toBeTruthy();
    expect(
      Object.entries(compose.services)
        .filter(([, s]) => s.build !== undefined)
        .map(([name]) => name),
    ).toEqual([MIGRATE]);
    for (const name of platform) expect(service(name).image, name).toBe(image);
    for (const name of platform.filter((n) => n !== MIGRATE)) expect(service(name).pull_policy, name).toBe("never");
  });

  it("gives every process of the platform the memory its command sizes V8's heap for", () => {
    for (const name of [MIGRATE, ...processes.map((p) => p.name), edge.name]) expect(service(name).mem_limit, name).toBe(`${defaultProcessMemoryMiB}m`);
  });

  describe("the migration task", () => {
    it("runs the catalog's migration program once Postgres is up, with only the variables it reads", () => {
      expect(service(MIGRATE).command).toEqual(migrateCommand());
      expect(service(MIGRATE).depends_on).toEqual({ postgres: { condition: "service_healthy" } });
      expect(names("migrate")).toEqual(expect.arrayContaining(Object.keys(service(MIGRATE).environment ?? {})));
    });

    it("gets each data-owning service's own URL, the very one that service connects with", () => {
      const environment = service(MIGRATE).environment ?? {};
      for (const p of processes.filter((p) => p.databaseSchema !== null)) {
        const url = String(environment[databaseUrlVariable(p.name)]);
        expect(new URL(url).username, p.name).toBe(`${p.databaseSchema}_service`);
        expect(service(p.name).environment?.["DATABASE_URL"], p.name).toBe(url);
      }
      expect(new URL(String(environment["DATABASE_ADMIN_URL"])).username).toBe("postgres");
    });
  });

  describe.each(processes)("$name", (process) => {
    it("runs the service's entry point on its catalog port, published as is", () => {
      expect(service(process.name).command).toEqual(serviceCommand(process));
      expect(service(process.name).ports).toEqual([`${process.grpcPort}:${process.grpcPort}`]);
      expect(service(process.name).environment?.["GRPC_PORT"]).toBe(String(process.grpcPort));
    });

    it("sets only variables a service reads, and waits for the stores and the migration task", () => {
      const reads = names("services", process.name);
      expect(reads).toEqual(expect.arrayContaining(Object.keys(service(process.name).environment ?? {})));
      expect(Object.keys(service(process.name).depends_on ?? {}).sort()).toEqual([...STORES, MIGRATE].sort());
      expect(service(process.name).depends_on?.[MIGRATE]?.condition).toBe("service_completed_successfully");
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
      expect(service(edge.name).command).toEqual(edgeCommand());
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

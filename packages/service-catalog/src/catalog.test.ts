import { describe, expect, it } from "vitest";
import { edge, environment, grpcTargetVariable, processes, variablesReadBy } from "./index.js";

describe("the service catalog", () => {
  const typeNames = processes.flatMap((p) => p.services.map((s) => s.typeName));

  it("names each process once, each on a port of its own, none on the edge's", () => {
    expect(new Set(processes.map((p) => p.name)).size).toBe(processes.length);
    const ports = [...processes.map((p) => p.grpcPort), edge.httpPort];
    expect(new Set(ports).size).toBe(ports.length);
  });

  it("puts every service in exactly one process, under that process's proto package", () => {
    expect(new Set(typeNames).size).toBe(typeNames.length);
    for (const p of processes) for (const s of p.services) expect(s.typeName).toMatch(new RegExp(`^${p.name}\\.v\\d+\\.[A-Z]\\w*Service$`));
  });

  it("gives each database schema to one process, and keeps some services internal", () => {
    const schemas = processes.flatMap((p) => (p.databaseSchema ? [p.databaseSchema] : []));
    expect(new Set(schemas).size).toBe(schemas.length);
    expect(processes.flatMap((p) => p.services).filter((s) => s.visibility === "internal")).not.toEqual([]);
  });

  it("declares each environment variable once, with a meaning and at least one reader", () => {
    expect(new Set(environment.map((v) => v.name)).size).toBe(environment.length);
    for (const v of environment) {
      expect(v.name).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(v.meaning.length, v.name).toBeGreaterThan(5);
      expect(v.readBy.length, v.name).toBeGreaterThan(0);
    }
  });

  it("lets the edge find every process, and npm start place every process", () => {
    const names = (reader: "edge" | "cluster") => variablesReadBy(reader).map((v) => v.name);
    expect(names("edge")).toEqual(expect.arrayContaining(["WAREHOUSE_GRPC_TARGET", "USER_GRPC_TARGET", "HTTP_PORT", "CORS_ALLOWED_ORIGINS"]));
    expect(names("cluster")).toEqual(expect.arrayContaining(["WAREHOUSE_GRPC_PORT", "USER_GRPC_PORT", "HTTP_PORT", "HOST"]));
    expect(names("edge").filter((n) => n.endsWith("_GRPC_TARGET"))).toHaveLength(processes.length);
    expect(names("cluster").filter((n) => n.endsWith("_GRPC_PORT"))).toHaveLength(processes.length);
  });

  it.each(processes.map((p) => [p.name]))("lets the %s process find every other process, and not itself", (name) => {
    const targets = variablesReadBy("services", name)
      .map((v) => v.name)
      .filter((n) => n.endsWith("_GRPC_TARGET"));
    expect(targets.sort()).toEqual(
      processes
        .filter((p) => p.name !== name)
        .map((p) => grpcTargetVariable(p.name))
        .sort(),
    );
  });
});

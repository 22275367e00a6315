import { ConfigError } from "@inv/platform";
import { defaultFor, edge, grpcPortVariable, processes, variablesReadBy } from "@inv/service-catalog";
import { describe, expect, it } from "vitest";
import { clusterConfigSchema, grpcPortsOf, loadClusterConfig } from "./config.js";

describe("npm start's configuration", () => {
  it("reads exactly the variables the catalog says npm start reads, with the catalog's defaults", () => {
    const properties: Record<string, { default?: unknown }> = clusterConfigSchema.properties ?? {};
    expect(Object.keys(properties).sort()).toEqual(
      variablesReadBy("cluster")
        .map((v) => v.name)
        .sort(),
    );
    for (const v of variablesReadBy("cluster")) expect(properties[v.name]?.default?.toString() ?? null, v.name).toBe(defaultFor(v));
  });

  it("puts every process on its catalog port and the edge on its own unless told otherwise", () => {
    const config = loadClusterConfig({});
    expect(config.HTTP_PORT).toBe(edge.httpPort);
    expect(grpcPortsOf(config)).toEqual(Object.fromEntries(processes.map((p) => [p.name, p.grpcPort])));
  });

  it("takes one <NAME>_GRPC_PORT per process, and names a bad one", () => {
    const [first, second] = processes;
    const config = loadClusterConfig({ [grpcPortVariable(first!.name)]: "15051", [grpcPortVariable(second!.name)]: "0" });
    expect(grpcPortsOf(config)).toMatchObject({ [first!.name]: 15051, [second!.name]: 0 });
    expect(() => loadClusterConfig({ [grpcPortVariable(first!.name)]: "70000" })).toThrow(ConfigError);
    expect(() => loadClusterConfig({ [grpcPortVariable(first!.name)]: "x" })).toThrow(grpcPortVariable(first!.name));
  });
});

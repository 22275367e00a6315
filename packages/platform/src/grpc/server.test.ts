import { create, type DescMessage } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { Health, HealthCheckResponse_ServingStatus } from "@inv/gen/grpc/health/v1/health_pb";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invalid, tooManyAttempts } from "../errors.js";
import { ReflectionClient } from "../testing/reflection.js";
import { GrpcChannel, createGrpcClient } from "./client.js";
import { registration } from "./handler.js";
import { startGrpcServer, type RunningGrpcServer } from "./server.js";
import { RemoteError } from "./status.js";

let server: RunningGrpcServer;
let channel: GrpcChannel;

beforeAll(async () => {
  server = await startGrpcServer({
    name: "test",
    host: "127.0.0.1",
    port: 0,
    log: pino({ level: "silent" }),
    services: [
      registration(WarehouseService, {
        getWarehouse: async ({ id }) => {
          if (id === "bad") throw invalid("id", "format", "id must be a UUID", id);
          if (id === "boom") throw new Error("SELECT * FROM secret_table failed");
          if (id === "busy") throw tooManyAttempts("too many attempts; wait a little", 7.2);
          return { warehouse: { id, code: "W1", name: "One" } };
        },
      }),
    ],
  });
  channel = new GrpcChannel(`dns:///${server.address}`);
});
afterAll(async () => {
  channel?.close();
  await server?.shutdown(500);
});

describe("gRPC server bootstrap", () => {
  const client = () => createGrpcClient(WarehouseService, channel);

  it("serves a handler built from the protobuf-es descriptor", async () => {
    const res = await client().getWarehouse({ id: "abc" });
    expect(res.warehouse).toMatchObject({ id: "abc", code: "W1" });
  });

  it("maps a domain error to its code with the field violation in the status details", async () => {
    const err = await client()
      .getWarehouse({ id: "bad" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ code: status.INVALID_ARGUMENT, violation: { field: "id", constraint: "format", value: "bad" } });
  });

  it("tells a caller over a limit when to come back (google.rpc.RetryInfo)", async () => {
    const err = (await client()
      .getWarehouse({ id: "busy" })
      .catch((e: unknown) => e)) as RemoteError;
    expect(err).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: "RATE_LIMITED", retryAfterSeconds: 8 });
  });

  it("turns unexpected errors into INTERNAL without their text", async () => {
    const err = (await client()
      .getWarehouse({ id: "boom" })
      .catch((e: unknown) => e)) as RemoteError;
    expect(err.code).toBe(status.INTERNAL);
    expect(err.message).not.toMatch(/secret_table|SELECT/);
  });

  it("answers UNIMPLEMENTED for methods without a handler", async () => {
    const err = (await client()
      .listWarehouses({})
      .catch((e: unknown) => e)) as RemoteError;
    expect(err.code).toBe(status.UNIMPLEMENTED);
  });

  it("answers grpc.health.v1 Check with SERVING for the server and each service", async () => {
    const health = createGrpcClient(Health, channel);
    for (const service of ["", "warehouse.v1.WarehouseService"]) {
      expect((await health.check({ service })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    }
    const err = (await health.check({ service: "nope.v1.Nope" }).catch((e: unknown) => e)) as RemoteError;
    expect(err.code).toBe(status.NOT_FOUND);
  });
});

describe("server reflection", () => {
  let reflection: ReflectionClient;
  beforeAll(() => {
    reflection = new ReflectionClient(server.address);
  });
  afterAll(() => reflection.close());

  it("lists the services, health and reflection", async () => {
    expect(await reflection.listServices()).toEqual(
      expect.arrayContaining(["warehouse.v1.WarehouseService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]),
    );
  });

  it("resolves a service and every type it uses, well-known types and maps included", async () => {
    const registry = await reflection.registryFor("warehouse.v1.WarehouseService");
    const service = registry.getService("warehouse.v1.WarehouseService");
    expect(service?.methods.map((m) => m.name)).toEqual(WarehouseService.methods.map((m) => m.name));
    const location = registry.getMessage("warehouse.v1.Location") as DescMessage;
    expect(location.fields.find((f) => f.name === "metadata")?.fieldKind).toBe("map");
    expect(location.fields.find((f) => f.name === "create_time")?.message?.typeName).toBe("google.protobuf.Timestamp");
    // A message built from the reflected descriptor is wire-compatible with the generated one.
    expect(create(location, { code: "A" })).toMatchObject({ code: "A" });
  });

  it("answers file-by-name, including imported option files", async () => {
    for (const name of ["warehouse/v1/warehouse.proto", "user/v1/options.proto", "google/api/annotations.proto", "google/protobuf/timestamp.proto"]) {
      const [file] = await reflection.files({ case: "fileByFilename", value: name });
      expect(file?.name).toBe(name);
    }
  });

  it("reports unknown symbols as errors, not crashes", async () => {
    await expect(reflection.files({ case: "fileContainingSymbol", value: "no.such.Thing" })).rejects.toThrow(/reflection/);
  });
});

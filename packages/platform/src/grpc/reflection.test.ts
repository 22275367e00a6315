import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { create, createFileRegistry, fromBinary, getOption, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { status } from "@grpc/grpc-js";
import { http } from "@inv/gen/google/api/annotations_pb";
import { required_permission } from "@inv/gen/user/v1/options_pb";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReflectionClient, type ReflectionQuery } from "../testing/reflection.js";
import { generatedDescriptorSet, reflectionFor } from "./reflection.js";
import { startGrpcServer, type RunningGrpcServer } from "./server.js";

// What buf built, read independently of the server's own parsing.
const built = readFileSync(fileURLToPath(import.meta.resolve("@inv/gen/descriptors.binpb")));
const set = generatedDescriptorSet();
const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: set.map((f) => f.proto) }));
// Our services; the server adds health and reflection itself.
const services = [...registry].filter((d): d is DescService => d.kind === "service" && !d.typeName.startsWith("grpc."));

let server: RunningGrpcServer;
let reflection: ReflectionClient;
beforeAll(async () => {
  // Every service buf built, as a process would register them (no handlers needed to reflect).
  const registrations = services.map((service) => ({ service, impl: {} }));
  server = await startGrpcServer({ name: "test", host: "127.0.0.1", port: 0, log: pino({ level: "silent" }), services: registrations });
  reflection = new ReflectionClient(server.address);
});
afterAll(async () => {
  reflection?.close();
  await server?.shutdown(500);
});

/** A file's entry in a FileDescriptorSet: field 1, length-delimited, then the file's bytes. */
const setEntry = (file: Uint8Array) => Buffer.from(new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(file).finish());
const nameOf = (file: Uint8Array) => fromBinary(FileDescriptorProtoSchema, file).name;

describe("server reflection", () => {
  it("lists every registered service, health and both reflection versions", async () => {
    const listed = await reflection.listServices();
    expect(listed).toEqual(expect.arrayContaining([...services.map((s) => s.typeName), "grpc.health.v1.Health"]));
    expect(listed).toEqual(expect.arrayContaining(["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]));
  });

  it("serves every file byte for byte as buf built it, imports and error details included", async () => {
    const received = new Map<string, Uint8Array>();
    const queries: ReflectionQuery[] = [
      ...(await reflection.listServices()).map((value): ReflectionQuery => ({ case: "fileContainingSymbol", value })),
      { case: "fileByFilename", value: "google/rpc/error_details.proto" },
    ];
    for (const query of queries) for (const file of await reflection.fileBytes(query)) received.set(nameOf(file), file);
    for (const file of received.values()) {
      expect(built.indexOf(setEntry(file)), nameOf(file)).toBeGreaterThanOrEqual(0);
      // Plain FileDescriptorProtos, without the metadata a buf image adds to each file.
      expect(fromBinary(FileDescriptorProtoSchema, file).$unknown, nameOf(file)).toBeUndefined();
    }
    const names = [...received.keys()];
    expect(names).toEqual(expect.arrayContaining(services.map((s) => s.file.proto.name)));
    expect(names).toEqual(
      expect.arrayContaining(["google/rpc/error_details.proto", "google/rpc/status.proto", "google/protobuf/any.proto", "google/protobuf/duration.proto"]),
    );
  });

  it("answers with the file first, then every file it imports, transitively", async () => {
    const files = (await reflection.files({ case: "fileByFilename", value: "warehouse/v1/warehouse.proto" })).map((f) => f.name);
    expect(files[0]).toBe("warehouse/v1/warehouse.proto");
    expect(files).toEqual(expect.arrayContaining(["user/v1/options.proto", "google/api/http.proto", "google/protobuf/descriptor.proto"]));
  });

  it("keeps custom options and source comments, as describe shows them", async () => {
    const reg = await reflection.registryFor("warehouse.v1.WarehouseService.GetWarehouse");
    const method = reg.getService("warehouse.v1.WarehouseService")?.methods.find((m) => m.name === "GetWarehouse");
    if (!method) throw new Error("GetWarehouse not reflected");
    expect(getOption(method, http).pattern).toEqual({ case: "get", value: "/v1/warehouses/{id}" });
    expect(getOption(method, required_permission)).toBe("warehouse.read");
    const file = reg.getFile("warehouse/v1/warehouse.proto")?.proto;
    const message = file?.messageType.findIndex((m) => m.name === "Warehouse");
    const location = file?.sourceCodeInfo?.location.find((l) => l.path.join(".") === `4.${message}`);
    expect(location?.leadingComments).toBe(" A physical site that holds stock.\n");
  });

  it("resolves the error detail types our statuses carry by symbol", async () => {
    const reg = await reflection.registryFor("google.rpc.ErrorInfo");
    expect(reg.getMessage("google.rpc.ErrorInfo")?.fields.map((f) => f.name)).toEqual(["reason", "domain", "metadata"]);
    const badRequest = await reflection.registryFor("google.rpc.BadRequest.FieldViolation");
    expect(badRequest.getMessage("google.rpc.BadRequest")).toBeDefined();
  });

  it.each([
    "warehouse.v1.WarehouseService",
    "warehouse.v1.WarehouseService.GetWarehouse",
    "warehouse.v1.Warehouse",
    "warehouse.v1.Warehouse.code",
    "grpc.health.v1.HealthCheckResponse.ServingStatus",
    "grpc.health.v1.HealthCheckResponse.SERVING",
    "google.api.FieldBehavior",
    "google.api.REQUIRED",
    "user.v1.required_permission",
  ])("finds the file containing %s", async (symbol) => {
    expect(await reflection.files({ case: "fileContainingSymbol", value: symbol })).not.toHaveLength(0);
  });

  it("resolves the extensions custom options use, by number", async () => {
    const res = await reflection.ask({ case: "allExtensionNumbersOfType", value: "google.protobuf.MethodOptions" });
    expect(res.messageResponse.case === "allExtensionNumbersResponse" && res.messageResponse.value.extensionNumber).toEqual(
      expect.arrayContaining([http.number, required_permission.number]),
    );
    const [file] = await reflection.files({
      case: "fileContainingExtension",
      value: { containingType: "google.protobuf.MethodOptions", extensionNumber: required_permission.number },
    });
    expect(file?.name).toBe("user/v1/options.proto");
  });

  it("answers NOT_FOUND, and keeps the stream, for unknown names of every kind", async () => {
    const unknown: ReflectionQuery[] = [
      { case: "fileContainingSymbol", value: "no.such.Thing" },
      { case: "fileByFilename", value: "no/such.proto" },
      { case: "fileContainingExtension", value: { containingType: "google.protobuf.MethodOptions", extensionNumber: 1 } },
      { case: "allExtensionNumbersOfType", value: "no.such.Message" },
    ];
    const responses = await reflection.askAll(unknown);
    expect(responses.map((r) => r.messageResponse.case === "errorResponse" && r.messageResponse.value.errorCode)).toEqual(unknown.map(() => status.NOT_FOUND));
  });

  it("answers many requests on one stream, in order", async () => {
    const queries = set.map((f): ReflectionQuery => ({ case: "fileByFilename", value: f.proto.name }));
    queries.push({ case: "fileContainingSymbol", value: "no.such.Thing" }, { case: "listServices", value: "" });
    const responses = await reflection.askAll(queries);
    expect(responses.map((r) => r.originalRequest?.messageRequest)).toEqual(queries);
    expect(responses.at(-2)?.messageResponse.case).toBe("errorResponse");
    expect(responses.at(-1)?.messageResponse.case).toBe("listServicesResponse");
  });

  it("answers the v1alpha service the same way", async () => {
    const alpha = new ReflectionClient(server.address, "v1alpha");
    try {
      expect(await alpha.listServices()).toContain("grpc.reflection.v1alpha.ServerReflection");
      expect(await alpha.fileBytes({ case: "fileByFilename", value: "google/rpc/error_details.proto" })).toEqual(
        await reflection.fileBytes({ case: "fileByFilename", value: "google/rpc/error_details.proto" }),
      );
    } finally {
      alpha.close();
    }
  });

  it("refuses to start on a descriptor set older than the services it would reflect", () => {
    expect(() => reflectionFor(services, [])).toThrow(/not in the descriptor set; run `npm run generate`/);
  });
});

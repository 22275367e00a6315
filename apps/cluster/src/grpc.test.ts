/**
 * Every service of every process in the catalog, straight at its gRPC port the way grpcurl and
 * load balancers see it: reflection, file-by-name and health (all anonymous).
 */
import type { DescMessage, DescService } from "@bufbuild/protobuf";
import { Health, HealthCheckResponse_ServingStatus } from "@inv/gen/grpc/health/v1/health_pb";
import { GrpcChannel, createGrpcClient } from "@inv/platform";
import { ReflectionClient } from "@inv/platform/testing";
import type { ProcessName } from "@inv/service-catalog";
import { serviceProcesses } from "@inv/service-catalog/descriptors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCluster, type TestCluster } from "./testing.js";

let cluster: TestCluster;
const reflections = new Map<ProcessName, ReflectionClient>();
const channels = new Map<ProcessName, GrpcChannel>();

beforeAll(async () => {
  cluster = await startTestCluster();
  for (const { name } of serviceProcesses) {
    reflections.set(name, new ReflectionClient(cluster.grpc[name]));
    channels.set(name, new GrpcChannel(`dns:///${cluster.grpc[name]}`));
  }
});
afterAll(async () => {
  reflections.forEach((r) => r.close());
  channels.forEach((c) => c.close());
  await cluster?.stop();
});

/** Every message type a service's methods use, directly or through fields (lists and maps included). */
function messagesOf(service: DescService): DescMessage[] {
  const seen = new Map<string, DescMessage>();
  const visit = (message: DescMessage) => {
    if (seen.has(message.typeName)) return;
    seen.set(message.typeName, message);
    for (const field of message.fields) if (field.message) visit(field.message);
  };
  for (const method of service.methods) [method.input, method.output].forEach(visit);
  return [...seen.values()];
}

const rows = serviceProcesses.flatMap((process) => process.services.map((service) => ({ process: process.name, service, name: service.typeName })));

it("the cluster runs every process of the catalog, each on a port of its own", () => {
  expect(Object.keys(cluster.grpc).sort()).toEqual(serviceProcesses.map((p) => p.name).sort());
  expect(new Set(Object.values(cluster.grpc)).size).toBe(serviceProcesses.length);
  expect(rows.length).toBeGreaterThan(serviceProcesses.length); // inventory serves several services
});

describe.each(rows)("$name on the $process process", ({ process, service }) => {
  const reflection = () => reflections.get(process)!;

  it("reflection lists it alongside health and reflection", async () => {
    expect(await reflection().listServices()).toEqual(
      expect.arrayContaining([service.typeName, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]),
    );
  });

  it("reflection resolves it with the generated methods and every message they use, nested ones included", async () => {
    const registry = await reflection().registryFor(service.typeName);
    const reflected = registry.getService(service.typeName);
    expect(reflected?.methods.map((m) => m.name)).toEqual(service.methods.map((m) => m.name));
    for (const method of reflected!.methods) {
      const generated = service.methods.find((m) => m.name === method.name)!;
      expect([method.input.typeName, method.output.typeName, method.methodKind], method.name).toEqual([
        generated.input.typeName,
        generated.output.typeName,
        generated.methodKind,
      ]);
    }
    const messages = messagesOf(service);
    expect(messages.length).toBeGreaterThanOrEqual(service.methods.length);
    for (const message of messages) {
      const found = registry.getMessage(message.typeName);
      expect(found, message.typeName).toBeDefined();
      expect(
        found!.fields.map((f) => [f.name, f.fieldKind, f.message?.typeName ?? f.enum?.typeName]),
        message.typeName,
      ).toEqual(message.fields.map((f) => [f.name, f.fieldKind, f.message?.typeName ?? f.enum?.typeName]));
    }
  });

  it("reflection answers file-by-name for its proto file", async () => {
    const [file] = await reflection().files({ case: "fileByFilename", value: service.file.proto.name });
    expect(file?.name).toBe(service.file.proto.name);
    expect(file?.service.map((s) => s.name)).toContain(service.name);
  });

  it("grpc.health.v1 Check answers SERVING for it", async () => {
    const health = createGrpcClient(Health, channels.get(process)!);
    expect((await health.check({ service: service.typeName })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });
});

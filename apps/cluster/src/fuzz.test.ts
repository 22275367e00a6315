/**
 * Arbitrary bytes at every unary method of every process in the catalog, public and internal,
 * straight over gRPC as any client could send them: each call gets an answer within its
 * deadline, never INTERNAL or UNKNOWN (bad input is the caller's fault, not the server's), and
 * no process goes down. Methods without handlers yet answer UNIMPLEMENTED, which is fine.
 */
import { Client, Metadata, credentials, status } from "@grpc/grpc-js";
import { Health, HealthCheckResponse_ServingStatus } from "@inv/gen/grpc/health/v1/health_pb";
import { GrpcChannel, createGrpcClient, methodPath } from "@inv/platform";
import { serviceProcesses } from "@inv/service-catalog/descriptors";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestCluster, type TestCluster } from "./testing.js";
import { anyFields, messageBytes } from "./wire-arbitrary.js";

const DEADLINE_MS = 5_000;
const FAULTS = new Set([status.INTERNAL, status.UNKNOWN, status.DEADLINE_EXCEEDED, status.UNAVAILABLE]);

const methods = serviceProcesses.flatMap((p) =>
  p.services.flatMap((s) => s.methods.filter((m) => m.methodKind === "unary").map((m) => ({ process: p.name, path: methodPath(m), method: m }))),
);

let cluster: TestCluster;
let clients: Map<string, Client>;
beforeAll(async () => {
  cluster = await startTestCluster();
  clients = new Map(serviceProcesses.map((p) => [p.name, new Client(cluster.grpc[p.name], credentials.createInsecure())]));
});
afterAll(async () => {
  clients?.forEach((c) => c.close());
  await cluster?.stop();
});

/** One raw call: the bytes go out as they are (identity serializers); resolves to the status code. */
function send(target: (typeof methods)[number], bytes: Uint8Array): Promise<{ code: status; details: string }> {
  const identity = (b: Buffer) => b;
  return new Promise((resolve) => {
    clients
      .get(target.process)!
      .makeUnaryRequest(target.path, identity, identity, Buffer.from(bytes), new Metadata(), { deadline: Date.now() + DEADLINE_MS }, (err) =>
        resolve({ code: err?.code ?? status.OK, details: err?.details ?? "" }),
      );
  });
}

const answersCleanly = async (target: (typeof methods)[number], bytes: Uint8Array) => {
  const { code, details } = await send(target, bytes);
  expect(FAULTS.has(code), `${target.path} with ${Buffer.from(bytes).toString("hex")} → ${status[code]}: ${details}`).toBe(false);
  return code;
};

// Bytes no protobuf decoder accepts, whatever the message: a truncated varint, a reserved wire
// type, a length past the end, an end-group without a start, a field number of 0.
const UNDECODABLE = [[0x08, 0xff], [0x0f], [0x0a, 0x7f, 0x01], [0x0c], [0x00, 0x01]].map((b) => Uint8Array.from(b));

it("covers every unary method of the catalog", () => {
  expect(methods.length).toBeGreaterThan(serviceProcesses.length * 2);
  expect(methods.map((m) => m.path)).toEqual(expect.arrayContaining(["/inventory.v1.HoldService/HoldStock", "/warehouse.v1.WarehouseService/GetWarehouse"]));
});

it.each(methods.map((m) => [m.path, m] as const))("%s refuses undecodable requests with INVALID_ARGUMENT", async (_path, target) => {
  for (const bytes of UNDECODABLE) expect(await answersCleanly(target, bytes)).toBe(status.INVALID_ARGUMENT);
});

it("for arbitrary bytes at any unary method, answers within the deadline and never INTERNAL or UNKNOWN", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...methods).chain((m) => fc.tuple(fc.constant(m), fc.oneof(fc.uint8Array({ maxLength: 512 }), anyFields, messageBytes(m.method.input)))),
      async ([target, bytes]) => void (await answersCleanly(target, bytes)),
    ),
    { numRuns: 500 },
  );
});

it("every process still serves afterwards", async () => {
  for (const p of serviceProcesses) {
    const channel = new GrpcChannel(`dns:///${cluster.grpc[p.name]}`);
    try {
      expect((await createGrpcClient(Health, channel).check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    } finally {
      channel.close();
    }
  }
});

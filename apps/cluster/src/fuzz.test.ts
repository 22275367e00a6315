/**
 * Arbitrary bytes at every unary method of every process in the catalog, public and internal,
 * straight over gRPC: each call gets an answer within its deadline, never INTERNAL or UNKNOWN
 * (bad input is the caller's fault, not the server's), and no process goes down. Methods without
 * handlers yet answer UNIMPLEMENTED, which is fine.
 *
 * The access check comes before decoding, so the bytes come with the rights to get past it: to a
 * public service as the edge forwards a client (its service token, the client's address) with an
 * administrator's API key, or with none (anonymous); to an internal service as another service.
 * The client's address is one of this run's own: failed sign-ins count against an address, and
 * over Redis those counters outlive the cluster, so random Logins from 127.0.0.1 would add up
 * across runs until every sign-in from it were refused.
 */
import { randomInt } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { Client, Metadata, credentials, status } from "@grpc/grpc-js";
import { Health, HealthCheckResponse_ServingStatus } from "@inv/gen/grpc/health/v1/health_pb";
import { GrpcChannel, createGrpcClient, methodPath, type ServiceIdentity } from "@inv/platform";
import { serviceProcesses } from "@inv/service-catalog/descriptors";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestCluster, type TestCluster } from "./testing.js";
import { anyFields, messageBytes } from "./wire-arbitrary.js";
import { propertyRuns } from "@inv/platform/testing";

const DEADLINE_MS = 5_000;
const FAULTS = new Set([status.INTERNAL, status.UNKNOWN, status.DEADLINE_EXCEEDED, status.UNAVAILABLE]);

const methods = serviceProcesses.flatMap((p) =>
  p.services.flatMap((s) =>
    s.methods
      .filter((m) => m.methodKind === "unary")
      .map((m) => ({ process: p.name, path: methodPath(m), method: m, internal: p.internalServices.includes(s) })),
  ),
);
type Target = (typeof methods)[number];
/** With the rights to call the method, or (public methods only) anonymous through the edge. */
type Caller = "entitled" | "anonymous";

let cluster: TestCluster;
let clients: Map<string, Client>;
let edge: ServiceIdentity;
let service: ServiceIdentity;
let adminKey: string;
/** A TEST-NET-2 address of this run's own (RFC 5737). */
const clientIp = `198.51.100.${randomInt(1, 255)}`;
beforeAll(async () => {
  cluster = await startTestCluster();
  clients = new Map(serviceProcesses.map((p) => [p.name, new Client(cluster.grpc[p.name], credentials.createInsecure())]));
  edge = await cluster.serviceIdentity("edge");
  service = await cluster.serviceIdentity("reservation");
  // A key, not a session: a random Logout must not sign the fuzz out halfway.
  adminKey = (await cluster.apiKeyWithRole("admin")).secret;
});

afterAll(async () => {
  clients?.forEach((c) => c.close());
  await cluster?.stop();
});

function metadataFor(target: Target, caller: Caller): Metadata {
  const metadata = new Metadata();
  metadata.set("x-client-ip", clientIp);
  if (target.internal) metadata.set("x-service-token", service.tokenFor(target.process));
  else {
    metadata.set("x-service-token", edge.tokenFor(target.process));
    if (caller === "entitled") metadata.set("authorization", `Bearer ${adminKey}`);
  }
  return metadata;
}

/** One raw call: the bytes go out as they are (identity serializers); resolves to the status code. */
function send(target: Target, caller: Caller, bytes: Uint8Array): Promise<{ code: status; details: string }> {
  const identity = (b: Buffer) => b;
  return new Promise((resolve) => {
    clients
      .get(target.process)!
      .makeUnaryRequest(target.path, identity, identity, Buffer.from(bytes), metadataFor(target, caller), { deadline: Date.now() + DEADLINE_MS }, (err) =>
        resolve({ code: err?.code ?? status.OK, details: err?.details ?? "" }),
      );
  });
}

const answersCleanly = async (target: Target, caller: Caller, bytes: Uint8Array) => {
  const { code, details } = await send(target, caller, bytes);
  expect(FAULTS.has(code), `${target.path} as ${caller} with ${Buffer.from(bytes).toString("hex")} → ${status[code]}: ${details}`).toBe(false);
  return code;
};

// Bytes no protobuf decoder accepts, whatever the message: a truncated varint, a reserved wire
// type, a length past the end, an end-group without a start, a field number of 0.
const UNDECODABLE = [[0x08, 0xff], [0x0f], [0x0a, 0x7f, 0x01], [0x0c], [0x00, 0x01]].map((b) => Uint8Array.from(b));

it("covers every unary method of the catalog", () => {
  expect(methods.length).toBeGreaterThan(serviceProcesses.length * 2);
  expect(methods.map((m) => m.path)).toEqual(expect.arrayContaining(["/inventory.v1.HoldService/HoldStock", "/warehouse.v1.WarehouseService/GetWarehouse"]));
});

it.each(
  methods.map((m) => [m.path, m] as const),
)("%s, called with the rights to, refuses undecodable requests with INVALID_ARGUMENT", async (_path, target) => {
  for (const bytes of UNDECODABLE) expect(await answersCleanly(target, "entitled", bytes)).toBe(status.INVALID_ARGUMENT);
});

/** Timestamps outside the range the type allows (0001-01-01 to 9999-12-31), where a request takes one. */
const OUT_OF_RANGE_TIMESTAMPS: readonly (readonly [string, object])[] = [
  ["/user.v1.UserService/ListAuditEvents", { startTime: { seconds: 9_000_000_000_000n } }],
  ["/user.v1.UserService/CreateApiKey", { apiKey: { name: "far", role: "viewer", expireTime: { seconds: 300_000_000_000n } } }],
  [
    "/user.v1.AuditRecordService/RecordAuditEvents",
    { auditEvents: [{ id: "0190a0a0-0000-7000-8000-000000000001", occurTime: { seconds: -9_000_000_000_000n }, service: "x", method: "/x.v1.X/Y" }] },
  ],
];

it.each(OUT_OF_RANGE_TIMESTAMPS)("%s refuses a Timestamp out of its range with INVALID_ARGUMENT", async (path, request) => {
  const target = methods.find((m) => m.path === path)!;
  const bytes = toBinary(target.method.input, create(target.method.input, request as never));
  expect(status[(await send(target, "entitled", bytes)).code]).toBe("INVALID_ARGUMENT");
});

it("for arbitrary bytes at any unary method, from any caller, answers within the deadline and never INTERNAL or UNKNOWN", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc
        .constantFrom(...methods)
        .chain((m) =>
          fc.tuple(
            fc.constant(m),
            m.internal ? fc.constant<Caller>("entitled") : fc.constantFrom<Caller>("entitled", "anonymous"),
            fc.oneof(fc.uint8Array({ maxLength: 512 }), anyFields, messageBytes(m.method.input)),
          ),
        ),
      async ([target, caller, bytes]) => {
        await answersCleanly(target, caller, bytes);
      },
    ),
    { numRuns: propertyRuns(500) },
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

/**
 * The cluster through the edge's other protocols (Connect JSON and binary, gRPC-Web), and REST and
 * gRPC agreeing on the same resource.
 */
import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema } from "@inv/gen/google/rpc/error_details_pb";
import { StockService } from "@inv/gen/inventory/v1/stock_pb";
import { WarehouseSchema, WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { GrpcChannel, createGrpcClient } from "@inv/platform";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCluster, type TestCluster } from "./testing.js";
import { propertyRuns } from "@inv/platform/testing";

let cluster: TestCluster;
let grpcChannel: GrpcChannel;
let viewerToken: string;
beforeAll(async () => {
  cluster = await startTestCluster();
  viewerToken = (await cluster.userWithRoles(["viewer"])).token;
  grpcChannel = new GrpcChannel(`dns:///${cluster.grpc.warehouse}`, { metadata: () => ({ authorization: cluster.authorization }) });
});
afterAll(async () => {
  grpcChannel?.close();
  await cluster?.stop();
});

const MISSING = "0190a0a0-0000-7000-8000-000000000000";
/** Sends this authorization header with every call. */
const bearer =
  (authorization: () => string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set("authorization", authorization());
    return next(req);
  };
type MakeTransport = (interceptors: Interceptor[]) => Transport;
const transports: [string, string, MakeTransport][] = [
  ["Connect JSON", "CJ", (interceptors) => createConnectTransport({ baseUrl: cluster.baseUrl, httpVersion: "1.1", useBinaryFormat: false, interceptors })],
  ["Connect binary", "CB", (interceptors) => createConnectTransport({ baseUrl: cluster.baseUrl, httpVersion: "1.1", useBinaryFormat: true, interceptors })],
  ["gRPC-Web", "GW", (interceptors) => createGrpcWebTransport({ baseUrl: cluster.baseUrl, httpVersion: "1.1", interceptors })],
];

const failure = (call: Promise<unknown>) =>
  call.then(
    () => expect.fail("the call succeeded"),
    (e: unknown) => ConnectError.from(e),
  );

describe.each(transports)("%s through the edge", (_name, prefix, make) => {
  const transport = () => make([bearer(() => cluster.authorization)]);
  const warehouses = () => createClient(WarehouseService, transport());

  it("without credentials → Unauthenticated; a viewer's write → PermissionDenied", async () => {
    const anonymous = await failure(createClient(WarehouseService, make([])).listWarehouses({}));
    // Refused by the edge itself, and still answered in the caller's protocol, with its reason.
    expect(anonymous.code).toBe(Code.Unauthenticated);
    expect(anonymous.rawMessage).toMatch(/needs credentials/);
    expect(anonymous.findDetails(ErrorInfoSchema)[0]?.reason).toBe("CREDENTIALS_REQUIRED");
    const asViewer = createClient(WarehouseService, make([bearer(() => `Bearer ${viewerToken}`)]));
    expect((await asViewer.listWarehouses({})).warehouses).toBeDefined();
    const write = await failure(asViewer.createWarehouse({ warehouse: { code: `${prefix}-VIEWER`, name: "x" } }));
    expect(write.code).toBe(Code.PermissionDenied);
  });

  it("creates, gets and lists a warehouse", async () => {
    const { warehouse } = await warehouses().createWarehouse({ warehouse: { code: `${prefix}-1`, name: "Protocol DC", priority: 7 } });
    expect(warehouse).toMatchObject({ code: `${prefix}-1`, name: "Protocol DC", priority: 7, active: true });
    expect(warehouse!.createTime).toBeDefined();

    expect((await warehouses().getWarehouse({ id: warehouse!.id })).warehouse).toEqual(warehouse);
    const listed = await warehouses().listWarehouses({ code: `${prefix}-1` });
    expect(listed.warehouses.map((w) => w.id)).toEqual([warehouse!.id]);
  });

  it("an unknown id → NotFound", async () => {
    const err = await failure(warehouses().getWarehouse({ id: MISSING }));
    expect(err.code).toBe(Code.NotFound);
  });

  it('a lower-case code → InvalidArgument whose ErrorInfo names warehouse.code and "pattern"', async () => {
    const err = await failure(warehouses().createWarehouse({ warehouse: { code: "lower", name: "x" } }));
    expect(err.code).toBe(Code.InvalidArgument);
    const [info] = err.findDetails(ErrorInfoSchema);
    expect(info?.metadata).toMatchObject({ field: "warehouse.code", constraint: "pattern", value: "lower" });
  });

  it("an RPC without handlers yet (StockService.WatchStock, a server stream) → Unimplemented", async () => {
    const err = await failure(
      (async () => {
        for await (const _ of createClient(StockService, transport()).watchStock({})) {
          // no message comes
        }
      })(),
    );
    expect(err.code).toBe(Code.Unimplemented);
  });

  it("echoes the caller's x-request-id on success and on error", async () => {
    const { warehouse } = await warehouses().createWarehouse({ warehouse: { code: `${prefix}-2`, name: "x" } });
    let echoed: string | null = null;
    await warehouses().getWarehouse(
      { id: warehouse!.id },
      {
        headers: { "x-request-id": `${prefix}-req-1` },
        onHeader: (h) => {
          echoed = h.get("x-request-id");
        },
      },
    );
    expect(echoed).toBe(`${prefix}-req-1`);
    const err = await failure(warehouses().getWarehouse({ id: MISSING }, { headers: { "x-request-id": `${prefix}-req-2` } }));
    expect(err.metadata.get("x-request-id")).toBe(`${prefix}-req-2`);
  });
});

describe("REST and gRPC agree", () => {
  // Printable text as the service stores it: no control characters, nothing for trim() to remove.
  const text = (minLength: number, maxLength: number, size: fc.SizeForArbitrary = "small") =>
    fc.string({ unit: "grapheme", minLength, maxLength, size }).filter((s) => s.length <= maxLength && s.trim() === s && !/\p{Cc}/u.test(s));
  const address = fc.record({
    line1: text(0, 40),
    line2: text(0, 40),
    city: text(0, 40),
    region: text(0, 40),
    postalCode: text(0, 20),
    countryCode: fc.stringMatching(/^[A-Z]{2}$/),
  });
  let seq = 0;
  const warehouse = fc.record({
    code: fc.stringMatching(/^[A-Z0-9][A-Z0-9_-]{1,24}$/).map((c) => `${c}_${++seq}`), // unique, still at most 32
    name: text(1, 200, "max"), // "max": names up to the 200-character limit, not just short ones
    priority: fc.integer({ min: 0, max: 1000 }),
    address: fc.option(address, { nil: undefined }),
    active: fc.boolean(),
  });
  const noAddress = { line1: "", line2: "", city: "", region: "", postalCode: "", countryCode: "" };

  it("for random valid warehouses, create over REST then get over gRPC returns the same resource", async () => {
    const grpc = createGrpcClient(WarehouseService, grpcChannel);
    await fc.assert(
      fc.asyncProperty(warehouse, async (input) => {
        const res = await fetch(`${cluster.baseUrl}/v1/warehouses`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: cluster.authorization },
          body: JSON.stringify(input),
        });
        const rest = (await res.json()) as Record<string, unknown>;
        expect(res.status, JSON.stringify(rest)).toBe(200);
        expect(rest).toMatchObject({ ...input, address: input.address ?? noAddress, id: expect.any(String) });

        const { warehouse: got } = await grpc.getWarehouse({ id: rest["id"] as string });
        expect(got).toMatchObject({ id: rest["id"], code: input.code, name: input.name, priority: input.priority, active: input.active });
        expect(got!.address).toMatchObject(input.address ?? noAddress);
        // Every field, create_time and update_time included, as REST rendered it.
        expect(toJson(WarehouseSchema, got!, { alwaysEmitImplicit: true })).toEqual(rest);
      }),
      { numRuns: propertyRuns() },
    );
  });
});

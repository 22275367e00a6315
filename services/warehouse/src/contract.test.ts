/**
 * The contract patterns every mutable resource follows, on the warehouse service over gRPC:
 * every violation at once, etags (AIP-154), request ids (AIP-155) and retry-safe deletes.
 */
import { toBinary } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { type RemoteError, isRetryable, type GrpcClient } from "@inv/platform";
import { startTestService, type TestService, failure } from "@inv/platform/testing";
import { WarehouseSchema, WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nothingStored, warehouseDefinition } from "./index.js";

let svc: TestService;
let client: GrpcClient<typeof WarehouseService>;
let seq = 0;
const code = () => `CT-${++seq}`;
const BIN = "00000000-0000-7000-8000-000000000004";

beforeAll(async () => {
  svc = await startTestService(warehouseDefinition({ stock: () => nothingStored }));
  client = svc.client(WarehouseService);
});
afterAll(() => svc?.stop());

const newWarehouse = async () => (await client.createWarehouse({ warehouse: { code: code(), name: "w" } })).warehouse!;

describe("validation", () => {
  it("an empty create names every field at fault at once", async () => {
    expect(await failure(client.createWarehouse({ warehouse: {} }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      reason: "INVALID_FIELD",
      fields: ["warehouse.code", "warehouse.name"],
    });
    const many = await failure(
      client.createLocation({ location: { code: "bad code", warehouseId: "x", metadata: { k: "v".repeat(300) } }, requestId: "no spaces" }),
    );
    expect(many.fields).toEqual(["location.code", "request_id", "location.warehouse_id", "location.location_type_id", "location.metadata.k"]);
  });
});

describe("etags (AIP-154)", () => {
  it("a stale etag is ABORTED and changes nothing; the current one goes through and moves the etag", async () => {
    const w = await newWarehouse();
    const renamed = (await client.updateWarehouse({ warehouse: { id: w.id, name: "first", etag: w.etag }, updateMask: { paths: ["name"] } })).warehouse!;
    expect(renamed.etag).not.toBe(w.etag);
    expect(await failure(client.updateWarehouse({ warehouse: { id: w.id, name: "lost", etag: w.etag }, updateMask: { paths: ["name"] } }))).toMatchObject({
      code: "ABORTED",
      reason: "ETAG_MISMATCH",
      fields: ["warehouse.etag"],
    });
    expect(await failure(client.deleteWarehouse({ id: w.id, etag: w.etag }))).toMatchObject({ code: "ABORTED", reason: "ETAG_MISMATCH" });
    const unchanged = (await client.getWarehouse({ id: w.id })).warehouse!;
    expect(unchanged).toMatchObject({ name: "first", etag: renamed.etag });
    expect(unchanged.deleteTime).toBeUndefined();

    const deleted = (await client.deleteWarehouse({ id: w.id, etag: renamed.etag })).warehouse!;
    expect(deleted.deleteTime).toBeDefined();
    // A retried delete succeeds with the deleted warehouse, whatever etag it carries.
    expect((await client.deleteWarehouse({ id: w.id, etag: renamed.etag })).warehouse).toEqual(deleted);
  });

  it("of concurrent updates with the same etag, exactly one wins", async () => {
    const w = await newWarehouse();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        client.updateWarehouse({ warehouse: { id: w.id, priority: i + 1, etag: w.etag }, updateMask: { paths: ["priority"] } }).then(
          (r) => r.warehouse!.priority,
          (e: RemoteError) => status[e.code],
        ),
      ),
    );
    const winners = outcomes.filter((o) => typeof o === "number");
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((o) => o === "ABORTED")).toHaveLength(9);
    expect((await client.getWarehouse({ id: w.id })).warehouse!.priority).toBe(winners[0]);
  });

  it("location types and locations carry etags too", async () => {
    const w = await newWarehouse();
    const { location: l } = await client.createLocation({ location: { warehouseId: w.id, locationTypeId: BIN, code: "B1" } });
    const changed = await client.updateLocation({ location: { id: l!.id, name: "bin one", etag: l!.etag }, updateMask: { paths: ["name"] } });
    expect(await failure(client.updateLocation({ location: { id: l!.id, name: "x", etag: l!.etag } }))).toMatchObject({ reason: "ETAG_MISMATCH" });
    expect(await failure(client.deleteLocation({ id: l!.id, etag: l!.etag }))).toMatchObject({ reason: "ETAG_MISMATCH" });
    expect((await client.deleteLocation({ id: l!.id, etag: changed.location!.etag })).location!.deleteTime).toBeDefined();

    const { locationType: t } = await client.createLocationType({ locationType: { code: code(), name: "t" } });
    await client.updateLocationType({ locationType: { id: t!.id, description: "d" } });
    expect(await failure(client.updateLocationType({ locationType: { id: t!.id, name: "y", etag: t!.etag } }))).toMatchObject({ code: "ABORTED" });
  });
});

describe("request ids (AIP-155)", () => {
  it("a retried create returns the first result; the same id with another payload is ALREADY_EXISTS", async () => {
    const c = code();
    const requestId = crypto.randomUUID();
    const first = await client.createWarehouse({ warehouse: { code: c, name: "once" }, requestId });
    const again = await client.createWarehouse({ warehouse: { code: c, name: " once " }, requestId }); // the same once cleaned
    expect(again).toEqual(first);
    expect(await failure(client.createWarehouse({ warehouse: { code: c, name: "other" }, requestId }))).toMatchObject({
      code: "ALREADY_EXISTS",
      reason: "REQUEST_ID_REUSED",
      fields: ["request_id"],
    });
    expect((await client.listWarehouses({ code: c })).warehouses).toHaveLength(1);
    // Without a request id a repeat is a new create, and the code is taken.
    expect(await failure(client.createWarehouse({ warehouse: { code: c, name: "once" } }))).toMatchObject({ code: "ALREADY_EXISTS", reason: "ALREADY_EXISTS" });
  });

  it("20 concurrent identical creates: one warehouse, 20 identical answers", async () => {
    const c = code();
    const requestId = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 20 }, () => client.createWarehouse({ warehouse: { code: c, name: "racing" }, requestId })));
    const bytes = new Set(answers.map((a) => Buffer.from(toBinary(WarehouseSchema, a.warehouse!)).toString("base64")));
    expect(bytes.size).toBe(1);
    expect((await client.listWarehouses({ code: c })).warehouses.map((w) => w.id)).toEqual([answers[0]!.warehouse!.id]);
  });

  it("works for locations and location types, and a failed create can be sent again", async () => {
    const w = await newWarehouse();
    const requestId = crypto.randomUUID();
    const missingType = { warehouseId: w.id, locationTypeId: "0190a0a0-0000-7000-8000-00000000dead", code: "A1" };
    expect(await failure(client.createLocation({ location: missingType, requestId }))).toMatchObject({ code: "INVALID_ARGUMENT" });
    const location = { ...missingType, locationTypeId: BIN };
    const first = await client.createLocation({ location, requestId: `${requestId}-2` });
    expect(await client.createLocation({ location, requestId: `${requestId}-2` })).toEqual(first);
    const type = { code: code(), name: "t" };
    const t1 = await client.createLocationType({ locationType: type, requestId });
    expect(await client.createLocationType({ locationType: type, requestId })).toEqual(t1);
  });
});

describe("retries (idempotency_level)", () => {
  it("the gRPC client retries reads, updates and deletes on UNAVAILABLE, never creates", () => {
    const retried = WarehouseService.methods.filter(isRetryable).map((m) => m.name);
    expect(retried.sort()).toEqual(
      WarehouseService.methods
        .map((m) => m.name)
        .filter((n) => !n.startsWith("Create"))
        .sort(),
    );
  });
});

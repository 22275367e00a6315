/**
 * The inventory service's view of warehouses and locations: the rule that stock goes only into
 * a live, active place, and the directory over gRPC with its cache and its invalidation by the
 * warehouse service's announcements. Against the real warehouse service:
 * apps/cluster/src/warehouse-inventory.test.ts.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { DomainError, GrpcChannel, RemoteError, ServiceIdentity, createBus, createLogger, type Bus } from "@inv/platform";
import { testRedisUrl } from "@inv/platform/testing";
import { WAREHOUSE_CHANGED_CHANNEL, processNames } from "@inv/service-catalog";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  MAX_ANSWER_TTL_MS,
  grpcWarehouseDirectory,
  prefetchPlaces,
  requireActivePlace,
  warehousesById,
  type ListeningDirectory,
  type LocationInfo,
  type WarehouseDirectory,
  type WarehouseInfo,
} from "./warehouses.js";

const log = createLogger("inventory", "silent");
const warehouse = (over: Partial<WarehouseInfo> = {}): WarehouseInfo => ({ id: randomUUID(), code: "W1", priority: 10, active: true, deleted: false, ...over });
const location = (warehouseId: string, over: Partial<LocationInfo> = {}): LocationInfo => ({
  id: randomUUID(),
  warehouseId,
  code: "A1",
  path: "A1",
  locationTypeId: "",
  active: true,
  deleted: false,
  ...over,
});
const directoryOf = (ws: WarehouseInfo[], ls: LocationInfo[] = []): WarehouseDirectory => ({
  warehouse: async (id) => ws.find((w) => w.id === id),
  location: async (id) => ls.find((l) => l.id === id),
  locationType: async () => undefined,
});

/** The status, reason and field of a refusal. */
async function refusal(call: Promise<unknown>) {
  const err = await call.then(
    () => expect.fail("the call passed"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  const e = err as DomainError;
  return { code: status[e.code], reason: e.reason, field: e.violation?.field };
}

describe("requireActivePlace", () => {
  const w = warehouse();
  const l = location(w.id);
  const fields = { warehouse: "to_warehouse_id", location: "to_location_id" };

  it("passes a live, active warehouse and location, and returns what it found", async () => {
    expect(await requireActivePlace(directoryOf([w], [l]), { warehouseId: w.id, locationId: l.id }, fields)).toEqual({ warehouse: w, location: l });
    expect(await requireActivePlace(directoryOf([w]), { warehouseId: w.id, locationId: null }, fields)).toEqual({ warehouse: w, location: undefined });
    expect(await requireActivePlace(directoryOf([w]), { warehouseId: w.id, locationId: "" })).toMatchObject({ warehouse: w });
  });

  it("refuses a missing warehouse or location as NOT_FOUND, naming the field", async () => {
    expect(await refusal(requireActivePlace(directoryOf([]), { warehouseId: w.id }, fields))).toEqual({
      code: "NOT_FOUND",
      reason: "NOT_FOUND",
      field: "to_warehouse_id",
    });
    expect(await refusal(requireActivePlace(directoryOf([w]), { warehouseId: w.id, locationId: randomUUID() }, fields))).toEqual({
      code: "NOT_FOUND",
      reason: "NOT_FOUND",
      field: "to_location_id",
    });
    expect(await refusal(requireActivePlace(directoryOf([]), { warehouseId: w.id }))).toMatchObject({ field: "warehouse_id" });
  });

  it("refuses a location of another warehouse as INVALID_ARGUMENT", async () => {
    const elsewhere = location(randomUUID());
    expect(await refusal(requireActivePlace(directoryOf([w], [elsewhere]), { warehouseId: w.id, locationId: elsewhere.id }, fields))).toEqual({
      code: "INVALID_ARGUMENT",
      reason: "INVALID_FIELD",
      field: "to_location_id",
    });
  });

  it("refuses a deleted or inactive warehouse or location as FAILED_PRECONDITION, with its reason", async () => {
    const cases: [WarehouseInfo, LocationInfo | undefined, string, string][] = [
      [warehouse({ id: w.id, deleted: true, active: false }), undefined, "DELETED", "to_warehouse_id"],
      [warehouse({ id: w.id, active: false }), undefined, "WAREHOUSE_INACTIVE", "to_warehouse_id"],
      [w, { ...l, deleted: true, active: false }, "DELETED", "to_location_id"],
      [w, { ...l, active: false }, "LOCATION_INACTIVE", "to_location_id"],
    ];
    for (const [wh, loc, reason, field] of cases) {
      const place = { warehouseId: wh.id, locationId: loc?.id };
      expect(await refusal(requireActivePlace(directoryOf([wh], loc ? [loc] : []), place, fields))).toEqual({ code: "FAILED_PRECONDITION", reason, field });
    }
  });

  it("never passes when the directory cannot answer", async () => {
    const failing: WarehouseDirectory = {
      warehouse: () => Promise.reject(new RemoteError(status.UNAVAILABLE, "down")),
      location: () => Promise.reject(new RemoteError(status.UNAVAILABLE, "down")),
      locationType: () => Promise.reject(new RemoteError(status.UNAVAILABLE, "down")),
    };
    expect(await refusal(requireActivePlace(failing, { warehouseId: w.id, locationId: l.id }))).toMatchObject({ code: "UNAVAILABLE" });
  });
});

describe("warehousesById", () => {
  it("looks each id up once and maps the ones that exist", async () => {
    const [a, b] = [warehouse({ code: "A" }), warehouse({ code: "B", active: false })];
    const asked: string[] = [];
    const directory: WarehouseDirectory = {
      warehouse: async (id) => {
        asked.push(id);
        return [a, b].find((w) => w.id === id);
      },
      location: async () => undefined,
      locationType: async () => undefined,
    };
    const missing = randomUUID();
    const found = await warehousesById(directory, [a.id, b.id, a.id, missing]);
    expect([...found.entries()]).toEqual([
      [a.id, a],
      [b.id, b],
    ]);
    expect(asked.sort()).toEqual([a.id, b.id, missing].sort());
  });
});

describe("prefetchPlaces", () => {
  it("asks about each warehouse and location once, and leaves failures to the check inside the transaction", async () => {
    const w = warehouse();
    const l = location(w.id);
    const asked: string[] = [];
    const directory: WarehouseDirectory = {
      warehouse: async (id) => {
        asked.push(`w:${id}`);
        if (id !== w.id) throw new Error("the warehouse service cannot be reached");
        return w;
      },
      location: async (id) => {
        asked.push(`l:${id}`);
        return id === l.id ? l : undefined;
      },
      locationType: async () => undefined,
    };
    const down = randomUUID();
    await prefetchPlaces(directory, [{ warehouseId: w.id, locationId: l.id }, { warehouseId: w.id, locationId: null }, { warehouseId: down }]);
    expect(asked.sort()).toEqual([`l:${l.id}`, `w:${down}`, `w:${w.id}`].sort());
  });
});

describe("the directory over gRPC", () => {
  /** What the fake warehouse service knows, and how many calls it took. */
  const known = new Map<
    string,
    { code: string; priority?: number; active: boolean; deleteTime?: object; warehouseId?: string; path?: string; locationTypeId?: string }
  >();
  let calls: { method: string; id: string; token: string | undefined }[] = [];
  let fail: RemoteError | undefined;
  let gate: Promise<void> | undefined;
  const fakeChannel = {
    async unary(method: { name: string }, request: { id: string }, opts: { metadata?: Record<string, string> }) {
      calls.push({ method: method.name, id: request.id, token: opts.metadata?.["x-service-token"] });
      // Read now, answered once the gate opens: an answer on its way while things change.
      const found = known.get(request.id);
      await gate;
      if (fail) throw fail;
      if (!found) throw new RemoteError(status.NOT_FOUND, `${request.id} not found`);
      return method.name === "GetWarehouse" ? { warehouse: { id: request.id, ...found } } : { location: { id: request.id, ...found } };
    },
  } as unknown as GrpcChannel;

  const namespace = `test:${randomBytes(4).toString("hex")}:`;
  let identity: ServiceIdentity;
  let bus: Bus;
  let announcer: Bus;
  let directory: ListeningDirectory;
  const make = (ttlMs?: number, channel = fakeChannel) =>
    grpcWarehouseDirectory({ channel: () => channel, identity, bus, log, ...(ttlMs === undefined ? {} : { ttlMs }) });
  const announce = (id: string) => announcer.publish(WAREHOUSE_CHANGED_CHANNEL, id);
  const getWarehouseCalls = () => calls.filter((c) => c.method === "GetWarehouse").length;

  beforeAll(async () => {
    identity = await ServiceIdentity.start("inventory", randomBytes(32).toString("hex"), processNames);
    bus = createBus({ redisUrl: testRedisUrl(), namespace });
    announcer = createBus({ redisUrl: testRedisUrl(), namespace });
  });
  afterAll(async () => {
    identity?.close();
    await bus?.close();
    await announcer?.close();
  });
  beforeEach(async () => {
    known.clear();
    calls = [];
    fail = undefined;
    gate = undefined;
    directory = make();
    await bus.ready();
  });
  afterEach(() => directory.close());

  it("asks GetWarehouse and GetLocation as the inventory service, and maps the answers", async () => {
    const w = randomUUID();
    const l = randomUUID();
    known.set(w, { code: "AMS-1", priority: 7, active: true });
    known.set(l, { code: "B-01", path: "Z1/B-01", locationTypeId: w, active: false, warehouseId: w, deleteTime: {} });
    expect(await directory.warehouse(w)).toEqual({ id: w, code: "AMS-1", priority: 7, active: true, deleted: false });
    expect(await directory.location(l)).toEqual({ id: l, warehouseId: w, code: "B-01", path: "Z1/B-01", locationTypeId: w, active: false, deleted: true });
    expect(calls.map((c) => [c.method, c.token])).toEqual([
      [WarehouseService.method.getWarehouse.name, identity.tokenFor("warehouse")],
      [WarehouseService.method.getLocation.name, identity.tokenFor("warehouse")],
    ]);
  });

  it("keeps answers (a missing id too), and shares one call among concurrent lookups", async () => {
    const w = randomUUID();
    known.set(w, { code: "W", active: true });
    let open = () => {};
    gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const together = Promise.all([directory.warehouse(w), directory.warehouse(w), directory.warehouse(w.toUpperCase())]);
    open();
    expect((await together).map((info) => info?.code)).toEqual(["W", "W", "W"]);
    await directory.warehouse(w);
    const missing = randomUUID();
    expect(await directory.warehouse(missing)).toBeUndefined();
    expect(await directory.warehouse(missing)).toBeUndefined();
    expect(getWarehouseCalls()).toBe(2);
  });

  it("asks nothing about an id the warehouse service could not have made", async () => {
    expect(await directory.warehouse("not-a-uuid")).toBeUndefined();
    expect(await directory.location("")).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it("asks again once an answer is older than its time to live, which is at most 30 s", async () => {
    directory.close();
    directory = make(40);
    const w = randomUUID();
    known.set(w, { code: "W", active: true });
    await directory.warehouse(w);
    known.set(w, { code: "W", active: false });
    expect((await directory.warehouse(w))?.active).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await directory.warehouse(w))?.active).toBe(false);
    expect(MAX_ANSWER_TTL_MS).toBeLessThanOrEqual(30_000);
  });

  it("drops an answer as soon as the warehouse service announces a change of that id", async () => {
    const [w, other] = [randomUUID(), randomUUID()];
    known.set(w, { code: "W", active: true });
    known.set(other, { code: "O", active: true });
    await directory.warehouse(w);
    await directory.warehouse(other);
    known.set(w, { code: "W", active: false });
    await announce(w);
    await expect.poll(() => directory.warehouse(w).then((info) => info?.active), { timeout: 2_000, interval: 10 }).toBe(false);
    await directory.warehouse(other);
    expect(calls.filter((c) => c.id === other)).toHaveLength(1);
  });

  it("does not keep an answer that was on its way when a change was announced", async () => {
    const w = randomUUID();
    known.set(w, { code: "W", active: true });
    let open = () => {};
    gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const before = directory.warehouse(w); // the warehouse service read it, the answer is on its way
    known.set(w, { code: "W", active: false });
    // Heard after the directory heard it: handlers of a channel run in the order they subscribed.
    const heard = new Promise<void>((resolve) => {
      const off = bus.subscribe(WAREHOUSE_CHANGED_CHANNEL, (id) => {
        if (id !== w) return;
        off();
        resolve();
      });
    });
    await announce(w);
    await heard;
    open();
    gate = undefined;
    expect((await before)?.active).toBe(true);
    expect((await directory.warehouse(w))?.active).toBe(false);
  });

  it("fails with UNAVAILABLE when the warehouse service cannot be reached, and keeps nothing", async () => {
    const w = randomUUID();
    known.set(w, { code: "W", active: true });
    fail = new RemoteError(status.UNAVAILABLE, "connection refused");
    expect(await refusal(directory.warehouse(w))).toMatchObject({ code: "UNAVAILABLE", reason: "WAREHOUSE_UNAVAILABLE" });
    expect(await refusal(requireActivePlace(directory, { warehouseId: w }))).toMatchObject({ code: "UNAVAILABLE" });
    fail = new RemoteError(status.PERMISSION_DENIED, "who are you");
    expect(await refusal(directory.warehouse(w))).toMatchObject({ code: "INTERNAL" });
    fail = undefined;
    expect((await directory.warehouse(w))?.active).toBe(true);
  });

  it("fails with UNAVAILABLE over a real channel to where nothing listens", async () => {
    const nowhere = new GrpcChannel("dns:///127.0.0.1:1", { deadlineMs: 2_000 });
    const lost = make(undefined, nowhere);
    try {
      expect(await refusal(requireActivePlace(lost, { warehouseId: randomUUID(), locationId: randomUUID() }))).toMatchObject({ code: "UNAVAILABLE" });
    } finally {
      lost.close();
      nowhere.close();
    }
  });
});

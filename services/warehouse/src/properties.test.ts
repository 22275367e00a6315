/**
 * Referential integrity and "nothing is deleted while something live depends on it" (properties
 * 1 to 3 in docs/properties.md) for the warehouse service, and the concurrency guarantees behind
 * them, checked over gRPC against a real database.
 */
import { status } from "@grpc/grpc-js";
import type { RemoteError, GrpcClient } from "@inv/platform";
import { startTestService, type TestService, propertyRuns } from "@inv/platform/testing";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nothingStored, warehouseDefinition } from "./index.js";

let svc: TestService;
let client: GrpcClient<typeof WarehouseService>;
let seq = 0;
const uniqueCode = (p: string) => `${p}-${++seq}`;
const MISSING = "0190a0a0-0000-7000-8000-00000000dead";

beforeAll(async () => {
  svc = await startTestService(warehouseDefinition({ stock: () => nothingStored }));
  client = svc.client(WarehouseService);
});
afterAll(() => svc?.stop());

const codeOf = async (call: Promise<unknown>) =>
  call.then(
    () => "OK",
    (e: RemoteError) => status[e.code],
  );

async function newWarehouse() {
  return (await client.createWarehouse({ warehouse: { code: uniqueCode("W"), name: "w" } })).warehouse!.id;
}
async function newType() {
  return (await client.createLocationType({ locationType: { code: uniqueCode("T"), name: "t" } })).locationType!.id;
}
async function newLocation(warehouseId: string, locationTypeId: string, parentId = "") {
  return (await client.createLocation({ location: { warehouseId, locationTypeId, parentId, code: uniqueCode("L") } })).location!.id;
}
async function liveLocationIds(warehouseId: string) {
  return (await client.listLocations({ warehouseId, pageSize: 500 })).locations.map((l) => l.id).sort();
}

describe("Property 1: referential integrity", () => {
  it("creates a location only when its warehouse, parent and type exist and are live", async () => {
    const [w1, w2, wDeleted] = [await newWarehouse(), await newWarehouse(), await newWarehouse()];
    const [type, typeDeleted] = [await newType(), await newType()];
    const [p1, p2, pDeleted] = [await newLocation(w1, type), await newLocation(w2, type), await newLocation(w1, type)];
    await client.deleteWarehouse({ id: wDeleted });
    await client.deleteLocationType({ id: typeDeleted });
    await client.deleteLocation({ id: pDeleted });

    const warehouseRef = fc.constantFrom(
      { id: w1, ok: true, code: "" },
      { id: w2, ok: true, code: "" },
      { id: wDeleted, ok: false, code: "FAILED_PRECONDITION" },
      { id: MISSING, ok: false, code: "NOT_FOUND" },
    );
    const parentRef = fc.constantFrom<{ id: string; in?: string }>({ id: "" }, { id: p1, in: w1 }, { id: p2, in: w2 }, { id: pDeleted }, { id: MISSING });
    const typeRef = fc.constantFrom({ id: type, ok: true }, { id: typeDeleted, ok: false }, { id: MISSING, ok: false });

    await fc.assert(
      fc.asyncProperty(warehouseRef, parentRef, typeRef, async (w, p, t) => {
        const before = w.ok ? await liveLocationIds(w.id) : [];
        const outcome = await codeOf(client.createLocation({ location: { warehouseId: w.id, parentId: p.id, locationTypeId: t.id, code: uniqueCode("X") } }));
        const parentOk = p.id === "" || p.in === w.id;
        const expected = !w.ok ? w.code : !parentOk || !t.ok ? "INVALID_ARGUMENT" : "OK";
        expect(outcome).toBe(expected);
        if (outcome !== "OK" && w.ok) expect(await liveLocationIds(w.id)).toEqual(before);
      }),
      { numRuns: propertyRuns() },
    );
  });
});

describe("Property 2: nothing is deleted while something live depends on it", () => {
  it("refuses to delete anything that live records still depend on, and allows it once they are gone", async () => {
    // A random forest: node i's parent is one of the nodes before it, or none.
    const forest = fc
      .integer({ min: 1, max: 6 })
      .chain((n) =>
        fc.tuple(fc.tuple(...Array.from({ length: n }, (_, i) => fc.integer({ min: -1, max: i - 1 }))), fc.array(fc.nat(), { minLength: 1, maxLength: 12 })),
      );
    await fc.assert(
      fc.asyncProperty(forest, async ([parents, attempts]) => {
        const warehouseId = await newWarehouse();
        const typeId = await newType();
        const ids: string[] = [];
        for (const parent of parents) ids.push(await newLocation(warehouseId, typeId, parent >= 0 ? ids[parent] : ""));
        const live = new Set(ids);
        const hasLiveChild = (i: number) => parents.some((p, j) => p === i && live.has(ids[j]!));

        for (const pick of attempts) {
          const i = pick % ids.length;
          const outcome = await codeOf(client.deleteLocation({ id: ids[i]! }));
          if (!live.has(ids[i]!))
            expect(outcome).toBe("OK"); // deleting again is a no-op
          else if (hasLiveChild(i)) expect(outcome).toBe("FAILED_PRECONDITION");
          else {
            expect(outcome).toBe("OK");
            live.delete(ids[i]!);
          }
          const expectWhileUsed = live.size > 0 ? "FAILED_PRECONDITION" : "OK";
          expect(await codeOf(client.deleteLocationType({ id: typeId }))).toBe(expectWhileUsed);
          expect(await codeOf(client.deleteWarehouse({ id: warehouseId }))).toBe(expectWhileUsed);
          if (live.size === 0) return;
        }
        expect(await liveLocationIds(warehouseId)).toEqual([...live].sort());
      }),
      { numRuns: propertyRuns() },
    );
  });
});

describe("under concurrency", () => {
  it("never leaves a live location in a deleted warehouse or of a deleted type", async () => {
    for (let round = 0; round < 15; round++) {
      const warehouseId = await newWarehouse();
      const typeId = await newType();
      const results = await Promise.allSettled([
        newLocation(warehouseId, typeId),
        client.deleteWarehouse({ id: warehouseId }),
        newLocation(warehouseId, typeId),
        client.deleteLocationType({ id: typeId }),
      ]);
      const warehouse = (await client.getWarehouse({ id: warehouseId })).warehouse!;
      const type = (await client.getLocationType({ id: typeId })).locationType!;
      const live = await liveLocationIds(warehouseId);
      if (warehouse.deleteTime || type.deleteTime) expect(live).toEqual([]);
      expect(live.length).toBe(results.filter((r, i) => (i === 0 || i === 2) && r.status === "fulfilled").length);
    }
  });

  it("pages never skip or repeat a warehouse while others are being inserted", async () => {
    for (let i = 0; i < 25; i++) await newWarehouse();
    const listAll = async (pageSize: number) => {
      const ids: string[] = [];
      let pageToken = "";
      do {
        const page = await client.listWarehouses({ pageSize, pageToken });
        ids.push(...page.warehouses.map((w) => w.id));
        pageToken = page.nextPageToken;
      } while (pageToken);
      return ids;
    };
    const before = await listAll(500);
    const [paged] = await Promise.all([listAll(4), Promise.all(Array.from({ length: 20 }, () => newWarehouse()))]);
    expect(new Set(paged).size).toBe(paged.length);
    expect(paged).toEqual(expect.arrayContaining(before));
    expect([...paged].sort()).toEqual(paged);
  });

  it("two creates racing for one code: exactly one wins, the other gets ALREADY_EXISTS", async () => {
    for (let round = 0; round < 10; round++) {
      const code = uniqueCode("RACE");
      const outcomes = await Promise.all([1, 2, 3].map(() => codeOf(client.createWarehouse({ warehouse: { code, name: "r" } }))));
      expect(outcomes.sort()).toEqual(["ALREADY_EXISTS", "ALREADY_EXISTS", "OK"]);
    }
  });
});

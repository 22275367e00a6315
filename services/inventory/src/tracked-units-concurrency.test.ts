/**
 * Tracked units under concurrent writers, from two clients on their own connections: two calls
 * that would close a cycle between them never both succeed, and cases taken out of a pallet (or
 * moved inside it) while the pallet itself is moving all end up where their root is, with a
 * history that replays to the state.
 */
import { status } from "@grpc/grpc-js";
import { TrackedUnitService, type TrackedUnit } from "@inv/gen/inventory/v1/tracked_unit_pb";
import { findPgError, type GrpcClient, type RemoteError } from "@inv/platform";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unitInvariantProblems } from "./store/unit-invariants.js";
import { startTestInventory, type TestInventory } from "./testing.js";
import type { WarehouseInfo } from "./warehouses.js";

let inv: TestInventory;
let one: GrpcClient<typeof TrackedUnitService>;
let two: GrpcClient<typeof TrackedUnitService>;
let item: { id: string };
let places: WarehouseInfo[];

beforeAll(async () => {
  inv = await startTestInventory();
  one = inv.units;
  // Another client on its own connection, as a second caller would be.
  two = inv.svc.clientWith(TrackedUnitService, { authorization: `Bearer ${inv.svc.adminToken}` });
  item = await inv.newItem();
  places = [inv.directory.addWarehouse(), inv.directory.addWarehouse(), inv.directory.addWarehouse()];
});
afterAll(() => inv?.stop());

const top = async (w: WarehouseInfo): Promise<TrackedUnit> =>
  (await one.createTrackedUnit({ trackedUnit: { itemId: item.id, warehouseId: w.id } })).trackedUnit!;
const inside = async (parent: TrackedUnit): Promise<TrackedUnit> =>
  (await one.createTrackedUnit({ trackedUnit: { itemId: item.id, parentUnitId: parent.id } })).trackedUnit!;
const get = async (id: string) => (await one.getTrackedUnit({ id })).trackedUnit!;
const refusal = (r: PromiseSettledResult<unknown>) =>
  r.status === "rejected" ? { code: status[(r.reason as RemoteError).code], reason: (r.reason as RemoteError).reason } : undefined;

/** Every unit is where its root is, at its root's depth + its own, and the database agrees. */
async function expectConsistent(ids: string[]) {
  for (const id of ids) {
    const u = await get(id);
    const root = await get(u.rootUnitId);
    expect([u.warehouseId, u.locationId], `unit ${id}`).toEqual([root.warehouseId, root.locationId]);
    expect(root.parentUnitId).toBe("");
    if (u.parentUnitId) expect(u.depth).toBe((await get(u.parentUnitId)).depth + 1);
  }
  expect(await unitInvariantProblems(inv.db)).toEqual([]);
}

describe("tracked units under concurrency", () => {
  it("A into B while B into A, many times over: one succeeds, the other is UNIT_CYCLE, never both", async () => {
    const ids: string[] = [];
    for (let round = 0; round < 24; round++) {
      const [wa, wb] = [places[round % 3]!, places[(round + (round % 2)) % 3]!];
      const a = await top(wa);
      const b = await top(wb);
      ids.push(a.id, b.id);
      // Every third round the pair is deeper: A's child into B's child while B's into A's.
      if (round % 3 === 2) {
        const [ac, bc] = [await inside(a), await inside(b)];
        ids.push(ac.id, bc.id);
        const [x, y] = await Promise.allSettled([
          one.assignTrackedUnit({ id: a.id, parentUnitId: bc.id }),
          two.assignTrackedUnit({ id: b.id, parentUnitId: ac.id }),
        ]);
        expect([x, y].filter((r) => r.status === "fulfilled")).toHaveLength(1);
        expect(refusal(x) ?? refusal(y)).toEqual({ code: "FAILED_PRECONDITION", reason: "UNIT_CYCLE" });
        continue;
      }
      const [x, y] = await Promise.allSettled([
        one.assignTrackedUnit({ id: a.id, parentUnitId: b.id }),
        two.assignTrackedUnit({ id: b.id, parentUnitId: a.id }),
      ]);
      expect([x, y].filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(refusal(x) ?? refusal(y)).toEqual({ code: "FAILED_PRECONDITION", reason: "UNIT_CYCLE" });
    }
    await expectConsistent(ids);
  });

  it("cases reassigned out of a pallet, and moved within it, while the pallet moves: every unit ends where its root is", async () => {
    for (let round = 0; round < 4; round++) {
      const pallet = await top(places[0]!);
      const other = await top(places[1]!);
      const cases: TrackedUnit[] = [];
      const ids = [pallet.id, other.id];
      for (let c = 0; c < 6; c++) {
        const kase = await inside(pallet);
        cases.push(kase);
        ids.push(kase.id);
        for (let u = 0; u < 3; u++) ids.push((await inside(kase)).id);
      }
      const calls = [
        one.moveTrackedUnit({ id: pallet.id, toWarehouseId: places[2]!.id }),
        two.assignTrackedUnit({ id: cases[0]!.id, parentUnitId: other.id }),
        one.assignTrackedUnit({ id: cases[1]!.id, parentUnitId: other.id }),
        two.unassignTrackedUnit({ id: cases[2]!.id }),
        one.assignTrackedUnit({ id: cases[3]!.id, parentUnitId: cases[4]!.id }),
        two.moveTrackedUnit({ id: pallet.id, toWarehouseId: places[round % 2]!.id }),
        one.moveTrackedUnit({ id: other.id, toWarehouseId: places[2]!.id }),
        two.assignTrackedUnit({ id: cases[5]!.id, parentUnitId: cases[0]!.id }),
      ];
      const settled = await Promise.allSettled(calls);
      for (const r of settled) expect(refusal(r), JSON.stringify(refusal(r))).toBeUndefined();
      const [p, o] = [await get(pallet.id), await get(other.id)];
      expect(await get(cases[0]!.id)).toMatchObject({ parentUnitId: other.id, rootUnitId: other.id, warehouseId: o.warehouseId });
      expect(await get(cases[1]!.id)).toMatchObject({ parentUnitId: other.id, warehouseId: o.warehouseId });
      expect(await get(cases[2]!.id)).toMatchObject({ parentUnitId: "", rootUnitId: cases[2]!.id, depth: 0 });
      expect(await get(cases[3]!.id)).toMatchObject({ parentUnitId: cases[4]!.id, rootUnitId: pallet.id, depth: 2, warehouseId: p.warehouseId });
      expect(await get(cases[5]!.id)).toMatchObject({ parentUnitId: cases[0]!.id, rootUnitId: other.id, depth: 2, warehouseId: o.warehouseId });
      await expectConsistent(ids);
    }
  });

  it("under the locks, the database itself refuses a unit left behind, a wrong depth and a cycle", async () => {
    const p = await top(places[0]!);
    const c = await inside(p);
    const g = await inside(c);
    const elsewhere = places[1]!.id;
    for (const change of [
      sql`UPDATE inventory.tracked_units SET warehouse_id = ${elsewhere}::uuid WHERE id = ${p.id}::uuid`,
      sql`UPDATE inventory.tracked_units SET warehouse_id = ${elsewhere}::uuid WHERE id = ${g.id}::uuid`,
      sql`UPDATE inventory.tracked_units SET depth = 5 WHERE id = ${g.id}::uuid`,
      sql`UPDATE inventory.tracked_units SET parent_id = ${g.id}::uuid, depth = 3 WHERE id = ${c.id}::uuid`,
    ]) {
      const err = await inv.db.execute(change).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(findPgError(err)).toMatchObject({ code: "23503", constraint: "tracked_units_in_parent_fk" });
    }
    await expectConsistent([p.id, c.id, g.id]);
  });
});

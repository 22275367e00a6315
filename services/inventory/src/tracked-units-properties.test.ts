/**
 * The tracked-unit invariants under any interleaving (properties 23 to 25 of docs/properties.md):
 * random trees, then random sequences of creates, assignments, reassignments, unassignments,
 * moves and deletes, sent in concurrent batches, and pairs that would close a cycle (A into B
 * while B into A) sent at the same moment. Calls may only be refused the documented ways; afterwards every unit
 * is where its root is, no parent chain loops, the histories replay to the state
 * (unitInvariantProblems), and of each cycle-closing pair at most one call succeeded.
 */
import { status } from "@grpc/grpc-js";
import type { TrackedUnit } from "@inv/gen/inventory/v1/tracked_unit_pb";
import type { RemoteError } from "@inv/platform";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unitInvariantProblems } from "./store/unit-invariants.js";
import { startTestInventory, type TestInventory } from "./testing.js";
import { propertyRuns } from "@inv/platform/testing";

let inv: TestInventory;
let item: { id: string };
/** Where units may be: two warehouses, one with a location; the last one is inactive (refused). */
let places: { warehouseId: string; locationId?: string }[];

beforeAll(async () => {
  inv = await startTestInventory();
  item = await inv.newItem();
  const [w0, w1] = [inv.directory.addWarehouse(), inv.directory.addWarehouse()];
  const l0 = inv.directory.addLocation(w0.id);
  places = [
    { warehouseId: w0.id },
    { warehouseId: w0.id, locationId: l0.id },
    { warehouseId: w1.id },
    { warehouseId: inv.directory.addWarehouse({ active: false }).id },
  ];
});
afterAll(() => inv?.stop());

const place = fc.integer({ min: 0, max: 3 });
const unit = fc.nat({ max: 50 });

const op = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("create" as const), parent: fc.option(unit, { nil: undefined }), place }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("assign" as const), child: unit, parent: unit }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("unassign" as const), child: unit }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("move" as const), unit, place }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("cycle" as const), a: unit, b: unit }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("delete" as const), unit }), weight: 1 },
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

/** A tree to start from: each unit top-level at a place, or inside one made before it. */
const tree = fc.array(fc.record({ parent: fc.option(fc.nat(), { nil: undefined }), place: fc.integer({ min: 0, max: 2 }) }), { minLength: 2, maxLength: 6 });

/** What a refused call may answer; anything else (INVALID_ARGUMENT, INTERNAL, UNKNOWN) fails the property. */
const EXPECTED_REFUSALS = new Set(["FAILED_PRECONDITION", "ABORTED", "NOT_FOUND"]);

describe("tracked unit invariants (properties 23, 24, 25)", () => {
  it("hold under any concurrent sequence of creates, assignments, moves and deletes", async () => {
    await fc.assert(
      fc.asyncProperty(tree, fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }), async (shape, batches) => {
        const units: string[] = [];
        for (const [i, u] of shape.entries()) {
          const parentUnitId = u.parent === undefined || i === 0 ? undefined : units[u.parent % i];
          const made = await inv.units.createTrackedUnit({ trackedUnit: { itemId: item.id, ...(parentUnitId ? { parentUnitId } : places[u.place]!) } });
          units.push(made.trackedUnit!.id);
        }
        const pick = (n: number) => units[n % units.length]!;
        const pairs: [Promise<unknown>, Promise<unknown>, boolean][] = [];
        const send = (o: Op): Promise<unknown>[] => {
          switch (o.kind) {
            case "create":
              return [
                inv.units
                  .createTrackedUnit({ trackedUnit: { itemId: item.id, ...(o.parent === undefined ? places[o.place]! : { parentUnitId: pick(o.parent) }) } })
                  .then((r) => units.push(r.trackedUnit!.id)),
              ];
            case "assign":
              return [inv.units.assignTrackedUnit({ id: pick(o.child), parentUnitId: pick(o.parent) })];
            case "unassign":
              return [inv.units.unassignTrackedUnit({ id: pick(o.child) })];
            case "move":
              return [
                inv.units.moveTrackedUnit({ id: pick(o.unit), toWarehouseId: places[o.place]!.warehouseId, toLocationId: places[o.place]!.locationId ?? "" }),
              ];
            case "delete":
              return [inv.units.deleteTrackedUnit({ id: pick(o.unit) })];
            case "cycle": {
              const [a, b] = [pick(o.a), pick(o.b)];
              const pair: [Promise<unknown>, Promise<unknown>] = [
                inv.units.assignTrackedUnit({ id: a, parentUnitId: b }),
                inv.units.assignTrackedUnit({ id: b, parentUnitId: a }),
              ];
              pairs.push([...pair, a === b]);
              return pair;
            }
          }
        };
        // A cycle-closing pair goes alone, the two calls at once: with other writes in between
        // (say, the parent taken out of the child first) both may rightly succeed.
        const rounds = batches.flatMap((batch) => [batch.filter((o) => o.kind !== "cycle"), ...batch.filter((o) => o.kind === "cycle").map((o) => [o])]);
        for (const batch of rounds.filter((b) => b.length > 0)) {
          const settled = await Promise.allSettled(batch.flatMap(send));
          for (const s of settled) {
            if (s.status === "rejected") expect(EXPECTED_REFUSALS, String(s.reason)).toContain(status[(s.reason as RemoteError).code]);
          }
        }
        // Of two calls that would close a cycle between them, never both succeeded.
        for (const [x, y] of pairs) {
          const [rx, ry] = await Promise.allSettled([x, y]);
          expect(rx.status === "fulfilled" && ry.status === "fulfilled").toBe(false);
        }
        // Read back through the API: every unit at its root's place, and its parent chain reaches
        // its root in exactly `depth` steps (so it does not loop).
        const read = new Map<string, TrackedUnit>();
        const get = async (id: string) => {
          if (!read.has(id)) read.set(id, (await inv.units.getTrackedUnit({ id })).trackedUnit!);
          return read.get(id)!;
        };
        for (const id of units) {
          const u = await get(id);
          const root = await get(u.rootUnitId);
          expect([u.warehouseId, u.locationId]).toEqual([root.warehouseId, root.locationId]);
          let at = u;
          for (let step = 0; step < u.depth; step++) at = await get(at.parentUnitId);
          expect(at.id).toBe(u.rootUnitId);
          expect(at.parentUnitId).toBe("");
        }
        // And straight in the database, over every unit so far: places, depths, no cycles, and
        // both histories replaying to the state.
        expect(await unitInvariantProblems(inv.db)).toEqual([]);
      }),
      { numRuns: propertyRuns() },
    );
  });
});

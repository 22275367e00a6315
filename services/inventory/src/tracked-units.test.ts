/**
 * TrackedUnitService over gRPC against a real database: units in trees of any depth, moves that
 * carry whole trees (one statement, one record per unit), assignments, the refusals with their
 * codes and reasons (and that a refused call changes nothing), the histories and their filters,
 * and a pallet of 10,000 units moved by one call.
 */
import { randomUUID } from "node:crypto";
import { rows } from "@inv/platform";
import { failure } from "@inv/platform/testing";
import { AssignmentAction, UnitMoveCause, type MoveTrackedUnitResponse, type TrackedUnit } from "@inv/gen/inventory/v1/tracked_unit_pb";
import { ItemStatus } from "@inv/gen/inventory/v1/item_pb";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveUnitCount } from "./store/tracked-units.js";
import { unitInvariantProblems } from "./store/unit-invariants.js";
import { startTestInventory, type TestInventory } from "./testing.js";
import type { LocationInfo, WarehouseInfo } from "./warehouses.js";

let inv: TestInventory;
let item: { id: string; sku: string };
let w1: WarehouseInfo;
let w2: WarehouseInfo;
let loc1: LocationInfo;
let loc2: LocationInfo;
let seq = 0;
const serial = (prefix = "SN") => `${prefix}-${++seq}`;
const MISSING = "0190a0a0-0000-7000-8000-00000000dead";

beforeAll(async () => {
  inv = await startTestInventory();
  item = await inv.newItem();
  w1 = inv.directory.addWarehouse();
  w2 = inv.directory.addWarehouse();
  loc1 = inv.directory.addLocation(w1.id);
  loc2 = inv.directory.addLocation(w2.id);
});
afterAll(() => inv?.stop());

type UnitInit = {
  serialNumber?: string;
  label?: string;
  description?: string;
  warehouseId?: string;
  locationId?: string;
  parentUnitId?: string;
  itemId?: string;
};
const newUnit = async (over: UnitInit = {}): Promise<TrackedUnit> =>
  (await inv.units.createTrackedUnit({ trackedUnit: { itemId: item.id, serialNumber: serial(), ...over } })).trackedUnit!;
const at = (w: { id: string }, l?: { id: string }) => ({ warehouseId: w.id, ...(l ? { locationId: l.id } : {}) });
const get = async (id: string) => (await inv.units.getTrackedUnit({ id })).trackedUnit!;
const placeOf = (u: TrackedUnit) => [u.warehouseId, u.locationId];

/** A pallet at `place` holding `cases` cases of `units` units each. */
async function pallet(place: { warehouseId: string; locationId?: string }, cases = 2, units = 2) {
  const p = await newUnit({ ...place, serialNumber: serial("PALLET") });
  const cs: TrackedUnit[] = [];
  const us: TrackedUnit[] = [];
  for (let c = 0; c < cases; c++) {
    const kase = await newUnit({ parentUnitId: p.id, serialNumber: serial("CASE") });
    cs.push(kase);
    for (let u = 0; u < units; u++) us.push(await newUnit({ parentUnitId: kase.id }));
  }
  return { pallet: await get(p.id), cases: cs, units: us, all: [p.id, ...cs.map((c) => c.id), ...us.map((u) => u.id)] };
}

const movesOf = async (originMoveId: string) => (await inv.units.listUnitMoves({ originMoveId, pageSize: 1000 })).moves;
const assignmentsOf = async (childUnitId: string) => (await inv.units.listUnitAssignments({ childUnitId })).assignments;
const countMoves = async () => Number((await rows<{ n: number }>(inv.db, sql`SELECT count(*)::int AS n FROM inventory.unit_moves`))[0]!.n);
const countAssignments = async () => Number((await rows<{ n: number }>(inv.db, sql`SELECT count(*)::int AS n FROM inventory.unit_assignments`))[0]!.n);

/** Runs a call that must be refused, and checks it changed no unit and wrote no history. */
async function refusedWithoutChange(call: () => Promise<unknown>, ids: string[]) {
  const before = await Promise.all(ids.map(get));
  const [moves, assignments] = [await countMoves(), await countAssignments()];
  const f = await failure(call());
  expect(await Promise.all(ids.map(get))).toEqual(before);
  expect([await countMoves(), await countAssignments()]).toEqual([moves, assignments]);
  return f;
}

describe("creating units", () => {
  it("at a place or inside a parent, at any depth; the label defaults to the serial number", async () => {
    const top = await newUnit({ ...at(w1, loc1), serialNumber: "PAL-1", description: "a pallet" });
    expect(top).toMatchObject({
      itemId: item.id,
      sku: item.sku,
      serialNumber: "PAL-1",
      label: "PAL-1",
      warehouseId: w1.id,
      locationId: loc1.id,
      parentUnitId: "",
      rootUnitId: top.id,
      depth: 0,
      childCount: 0,
    });
    expect(top.itemTypeId).not.toBe("");
    expect(top.createdBy).not.toBe("");
    expect(top.etag).not.toBe("");
    expect(top.lastMoveTime).toBeUndefined();
    const kase = await newUnit({ parentUnitId: top.id, label: "CASE A" });
    const piece = await newUnit({ parentUnitId: kase.id, warehouseId: w1.id, locationId: loc1.id });
    expect(kase).toMatchObject({ parentUnitId: top.id, rootUnitId: top.id, depth: 1, warehouseId: w1.id, locationId: loc1.id, label: "CASE A" });
    expect(piece).toMatchObject({ parentUnitId: kase.id, rootUnitId: top.id, depth: 2, warehouseId: w1.id, locationId: loc1.id });
    expect((await get(top.id)).childCount).toBe(1);
    expect((await get(kase.id)).childCount).toBe(1);
    // Made inside a parent: recorded as an ASSIGN, so the history replays to the tree.
    expect(await assignmentsOf(piece.id)).toEqual([
      expect.objectContaining({ action: AssignmentAction.ASSIGN, parentUnitId: kase.id, previousParentUnitId: "", childUnitId: piece.id }),
    ]);
    expect(await assignmentsOf(top.id)).toEqual([]);
    // Without a location the unit is at the warehouse.
    expect(await newUnit(at(w2))).toMatchObject({ warehouseId: w2.id, locationId: "" });
  });

  it("refuses bad input naming every field at once, and writes nothing", async () => {
    const f = await failure(
      inv.units.createTrackedUnit({ trackedUnit: { itemId: "nope", serialNumber: "x".repeat(129), label: "y".repeat(201), attributes: { "": "v" } } }),
    );
    expect(f).toMatchObject({ code: "INVALID_ARGUMENT", reason: "INVALID_FIELD" });
    expect(f.fields).toEqual(
      expect.arrayContaining([
        "tracked_unit.item_id",
        "tracked_unit.serial_number",
        "tracked_unit.label",
        "tracked_unit.warehouse_id",
        "tracked_unit.attributes.",
      ]),
    );
    expect(await failure(inv.units.createTrackedUnit({}))).toMatchObject({ code: "INVALID_ARGUMENT", field: "tracked_unit" });
    expect(await failure(inv.units.createTrackedUnit({ trackedUnit: { itemId: item.id, warehouseId: w1.id }, requestId: "bad id!" }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "request_id",
    });
  });

  it("refuses unknown, deleted and inactive items, parents and places, and a place other than the parent's", async () => {
    const parent = await newUnit(at(w1, loc1));
    const gone = await newUnit(at(w1));
    await inv.units.deleteTrackedUnit({ id: gone.id });
    const inactiveItem = await inv.newItem();
    await inv.items.updateItem({ item: { id: inactiveItem.id, status: ItemStatus.INACTIVE }, updateMask: { paths: ["status"] } });
    const deletedItem = await inv.newItem();
    await inv.items.deleteItem({ id: deletedItem.id });
    const inactiveW = inv.directory.addWarehouse({ active: false });
    const inactiveL = inv.directory.addLocation(w1.id, { active: false });
    const cases: [UnitInit, object][] = [
      [
        { itemId: MISSING, ...at(w1) },
        { code: "NOT_FOUND", field: "tracked_unit.item_id" },
      ],
      [
        { itemId: deletedItem.id, ...at(w1) },
        { code: "FAILED_PRECONDITION", reason: "DELETED", field: "tracked_unit.item_id" },
      ],
      [
        { itemId: inactiveItem.id, ...at(w1) },
        { code: "FAILED_PRECONDITION", reason: "ITEM_NOT_ACTIVE", field: "tracked_unit.item_id" },
      ],
      [{ parentUnitId: MISSING }, { code: "NOT_FOUND", field: "tracked_unit.parent_unit_id" }],
      [{ parentUnitId: gone.id }, { code: "FAILED_PRECONDITION", reason: "DELETED", field: "tracked_unit.parent_unit_id" }],
      [
        { parentUnitId: parent.id, warehouseId: w2.id },
        { code: "FAILED_PRECONDITION", reason: "PARENT_PLACE_MISMATCH", field: "tracked_unit.warehouse_id" },
      ],
      [
        { parentUnitId: parent.id, locationId: randomUUID() },
        { code: "FAILED_PRECONDITION", field: "tracked_unit.location_id" },
      ],
      [{ warehouseId: randomUUID() }, { code: "FAILED_PRECONDITION", reason: "WAREHOUSE_NOT_FOUND", field: "tracked_unit.warehouse_id" }],
      [
        { ...at(w1), locationId: randomUUID() },
        { code: "FAILED_PRECONDITION", reason: "LOCATION_NOT_FOUND", field: "tracked_unit.location_id" },
      ],
      [{ warehouseId: inactiveW.id }, { code: "FAILED_PRECONDITION", reason: "WAREHOUSE_INACTIVE", field: "tracked_unit.warehouse_id" }],
      [{ ...at(w1, inactiveL) }, { code: "FAILED_PRECONDITION", reason: "LOCATION_INACTIVE", field: "tracked_unit.location_id" }],
      [{ ...at(w2, loc1) }, { code: "INVALID_ARGUMENT", field: "tracked_unit.location_id" }],
    ];
    for (const [unit, expected] of cases) {
      const f = await refusedWithoutChange(
        () => inv.units.createTrackedUnit({ trackedUnit: { itemId: item.id, serialNumber: serial(), ...unit } }),
        [parent.id],
      );
      expect(f, JSON.stringify(unit)).toMatchObject(expected);
    }
    expect((await inv.units.listTrackedUnits({ parentUnitId: parent.id })).trackedUnits).toEqual([]);
  });

  it("keeps serial numbers unique among the item's live units; a deleted unit frees its serial", async () => {
    const sn = serial("UNIQUE");
    const first = await newUnit({ ...at(w1), serialNumber: sn });
    expect(await failure(newUnit({ ...at(w2), serialNumber: sn }))).toMatchObject({
      code: "ALREADY_EXISTS",
      field: "tracked_unit.serial_number",
    });
    // Another item may have the same serial, and units without a serial never collide.
    const other = await inv.newItem();
    await newUnit({ ...at(w1), serialNumber: sn, itemId: other.id });
    await newUnit({ ...at(w1), serialNumber: "" });
    await newUnit({ ...at(w1), serialNumber: "" });
    await inv.units.deleteTrackedUnit({ id: first.id });
    expect((await newUnit({ ...at(w1), serialNumber: sn })).serialNumber).toBe(sn);
  });

  it("a retry with the same request_id returns the first unit; another payload is REQUEST_ID_REUSED", async () => {
    const requestId = randomUUID();
    const request = { trackedUnit: { itemId: item.id, serialNumber: serial(), ...at(w1) }, requestId };
    const first = (await inv.units.createTrackedUnit(request)).trackedUnit!;
    const again = await Promise.all([inv.units.createTrackedUnit(request), inv.units.createTrackedUnit(request)]);
    for (const r of again) expect(r.trackedUnit).toEqual(first);
    expect((await inv.units.listTrackedUnits({ serialNumber: first.serialNumber, itemId: item.id })).trackedUnits).toHaveLength(1);
    expect(await failure(inv.units.createTrackedUnit({ ...request, trackedUnit: { ...request.trackedUnit, label: "other" } }))).toMatchObject({
      code: "ALREADY_EXISTS",
      reason: "REQUEST_ID_REUSED",
      field: "request_id",
    });
  });
});

describe("moving units", () => {
  it("moves a pallet with its cases and their units in one step, one record per unit, linked to its parent's", async () => {
    const p = await pallet(at(w1, loc1), 2, 2);
    const { trackedUnit, move, carriedUnitCount } = await inv.units.moveTrackedUnit({
      id: p.pallet.id,
      ...{ toWarehouseId: w2.id, toLocationId: loc2.id },
      notes: "to dock",
    });
    expect(carriedUnitCount).toBe(6n);
    expect(trackedUnit).toMatchObject({ id: p.pallet.id, warehouseId: w2.id, locationId: loc2.id, childCount: 2 });
    expect(trackedUnit!.lastMoveTime).toBeDefined();
    expect(trackedUnit!.etag).not.toBe(p.pallet.etag);
    expect(move).toMatchObject({
      unitId: p.pallet.id,
      itemId: item.id,
      cause: UnitMoveCause.DIRECT,
      fromWarehouseId: w1.id,
      fromLocationId: loc1.id,
      toWarehouseId: w2.id,
      toLocationId: loc2.id,
      parentMoveId: "",
      notes: "to dock",
    });
    expect(move!.originMoveId).toBe(move!.id);
    expect(move!.movedBy).not.toBe("");
    expect(move!.requestId).not.toBe("");
    // Every unit, read back one by one and by the tree, is at the new place.
    for (const id of p.all) expect(placeOf(await get(id))).toEqual([w2.id, loc2.id]);
    const inside = (await inv.units.listTrackedUnits({ insideUnitId: p.pallet.id })).trackedUnits;
    expect(inside.map((u) => u.id).sort()).toEqual(p.all.slice(1).sort());
    expect(inside.every((u) => u.warehouseId === w2.id && u.locationId === loc2.id && u.rootUnitId === p.pallet.id)).toBe(true);
    // The records of the operation: the pallet's DIRECT one, a PARENT_MOVED per case linked to
    // it, and a PARENT_MOVED per unit linked to its case's.
    const records = await movesOf(move!.id);
    expect(records).toHaveLength(7);
    const byUnit = new Map(records.map((r) => [r.unitId, r]));
    for (const c of p.cases) expect(byUnit.get(c.id)).toMatchObject({ cause: UnitMoveCause.PARENT_MOVED, parentMoveId: move!.id, originMoveId: move!.id });
    for (const u of p.units) {
      const parentMove = byUnit.get(u.parentUnitId)!;
      expect(byUnit.get(u.id)).toMatchObject({
        cause: UnitMoveCause.PARENT_MOVED,
        parentMoveId: parentMove.id,
        originMoveId: move!.id,
        fromWarehouseId: w1.id,
        toWarehouseId: w2.id,
        notes: "to dock",
        requestId: move!.requestId,
      });
    }
    // Moving it to where it already is changes and records nothing.
    const before = await countMoves();
    const again = await inv.units.moveTrackedUnit({ id: p.pallet.id, toWarehouseId: w2.id, toLocationId: loc2.id });
    expect(again.move).toBeUndefined();
    expect(again.carriedUnitCount).toBe(0n);
    expect(again.trackedUnit!.etag).toBe(trackedUnit!.etag);
    expect(await countMoves()).toBe(before);
    // To the warehouse level of the same warehouse is a move.
    expect((await inv.units.moveTrackedUnit({ id: p.pallet.id, toWarehouseId: w2.id })).move).toMatchObject({ fromLocationId: loc2.id, toLocationId: "" });
    expect(await unitInvariantProblems(inv.db)).toEqual([]);
  });

  it("refuses to move a unit inside another, a deleted or unknown one, and leaves everything where it was", async () => {
    const p = await pallet(at(w1), 1, 1);
    const f = await refusedWithoutChange(() => inv.units.moveTrackedUnit({ id: p.cases[0]!.id, toWarehouseId: w2.id }), p.all);
    expect(f).toMatchObject({ code: "FAILED_PRECONDITION", reason: "UNIT_INSIDE_PARENT", field: "id" });
    const gone = await newUnit(at(w1));
    await inv.units.deleteTrackedUnit({ id: gone.id });
    expect(await failure(inv.units.moveTrackedUnit({ id: gone.id, toWarehouseId: w2.id }))).toMatchObject({ code: "FAILED_PRECONDITION", reason: "DELETED" });
    expect(await failure(inv.units.moveTrackedUnit({ id: MISSING, toWarehouseId: w2.id }))).toMatchObject({ code: "NOT_FOUND", field: "id" });
    expect(await failure(inv.units.moveTrackedUnit({ id: p.pallet.id, toWarehouseId: "" }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "to_warehouse_id",
    });
  });

  it("to a missing or inactive warehouse or location fails, and nothing moves", async () => {
    const p = await pallet(at(w1, loc1), 2, 1);
    const inactiveW = inv.directory.addWarehouse({ active: false });
    const deletedW = inv.directory.addWarehouse({ deleted: true });
    const inactiveL = inv.directory.addLocation(w2.id, { active: false });
    const cases: [{ toWarehouseId: string; toLocationId?: string }, object][] = [
      [{ toWarehouseId: randomUUID() }, { code: "FAILED_PRECONDITION", field: "to_warehouse_id" }],
      [{ toWarehouseId: inactiveW.id }, { code: "FAILED_PRECONDITION", reason: "WAREHOUSE_INACTIVE", field: "to_warehouse_id" }],
      [{ toWarehouseId: deletedW.id }, { code: "FAILED_PRECONDITION", reason: "DELETED", field: "to_warehouse_id" }],
      [
        { toWarehouseId: w2.id, toLocationId: randomUUID() },
        { code: "FAILED_PRECONDITION", field: "to_location_id" },
      ],
      [
        { toWarehouseId: w2.id, toLocationId: inactiveL.id },
        { code: "FAILED_PRECONDITION", reason: "LOCATION_INACTIVE", field: "to_location_id" },
      ],
      [
        { toWarehouseId: w2.id, toLocationId: loc1.id },
        { code: "INVALID_ARGUMENT", field: "to_location_id" },
      ],
    ];
    for (const [to, expected] of cases) {
      const f = await refusedWithoutChange(() => inv.units.moveTrackedUnit({ id: p.pallet.id, ...to }), p.all);
      expect(f, JSON.stringify(to)).toMatchObject(expected);
    }
    for (const id of p.all) expect(placeOf(await get(id))).toEqual([w1.id, loc1.id]);
  });
});

describe("assigning units", () => {
  it("reassigns a case between pallets at different places: it and its units move, recorded as ASSIGNED and PARENT_MOVED", async () => {
    const a = await pallet(at(w1, loc1), 2, 2);
    const b = await pallet(at(w2), 1, 1);
    const kase = a.cases[0]!;
    const r = await inv.units.assignTrackedUnit({ id: kase.id, parentUnitId: b.pallet.id, notes: "repack" });
    expect(r.carriedUnitCount).toBe(2n);
    expect(r.trackedUnit).toMatchObject({ id: kase.id, parentUnitId: b.pallet.id, rootUnitId: b.pallet.id, depth: 1, warehouseId: w2.id, locationId: "" });
    expect(r.assignment).toMatchObject({
      childUnitId: kase.id,
      previousParentUnitId: a.pallet.id,
      parentUnitId: b.pallet.id,
      action: AssignmentAction.REASSIGN,
      notes: "repack",
    });
    expect(r.move).toMatchObject({
      unitId: kase.id,
      cause: UnitMoveCause.ASSIGNED,
      fromWarehouseId: w1.id,
      fromLocationId: loc1.id,
      toWarehouseId: w2.id,
      parentMoveId: "",
    });
    const records = await movesOf(r.move!.id);
    expect(records).toHaveLength(3);
    for (const u of a.units.filter((u) => u.parentUnitId === kase.id)) {
      expect(await get(u.id)).toMatchObject({ rootUnitId: b.pallet.id, depth: 2, warehouseId: w2.id, locationId: "" });
      expect(records.find((m) => m.unitId === u.id)).toMatchObject({ cause: UnitMoveCause.PARENT_MOVED, parentMoveId: r.move!.id });
    }
    expect((await get(a.pallet.id)).childCount).toBe(1);
    expect((await get(b.pallet.id)).childCount).toBe(2);
    expect((await assignmentsOf(kase.id)).map((x) => x.action)).toEqual([AssignmentAction.ASSIGN, AssignmentAction.REASSIGN]);
    // The other case stayed where it was.
    expect(placeOf(await get(a.cases[1]!.id))).toEqual([w1.id, loc1.id]);
    expect(await unitInvariantProblems(inv.db)).toEqual([]);
  });

  it("assigns a top-level unit at the same place without a move; assigning to the current parent changes nothing", async () => {
    const p = await newUnit(at(w1));
    const loose = await newUnit(at(w1));
    const r = await inv.units.assignTrackedUnit({ id: loose.id, parentUnitId: p.id });
    expect(r.move).toBeUndefined();
    expect(r.carriedUnitCount).toBe(0n);
    expect(r.assignment).toMatchObject({ action: AssignmentAction.ASSIGN, previousParentUnitId: "", parentUnitId: p.id });
    expect(r.trackedUnit).toMatchObject({ parentUnitId: p.id, rootUnitId: p.id, depth: 1 });
    expect(r.trackedUnit!.lastMoveTime).toBeUndefined();
    const [moves, assignments] = [await countMoves(), await countAssignments()];
    const again = await inv.units.assignTrackedUnit({ id: loose.id, parentUnitId: p.id });
    expect(again.assignment).toBeUndefined();
    expect(again.trackedUnit!.etag).toBe(r.trackedUnit!.etag);
    expect([await countMoves(), await countAssignments()]).toEqual([moves, assignments]);
  });

  it("unassigns a case: it becomes top-level where it is, with its units; unassigning a top-level unit changes nothing", async () => {
    const p = await pallet(at(w2, loc2), 1, 2);
    const kase = p.cases[0]!;
    const r = await inv.units.unassignTrackedUnit({ id: kase.id, notes: "unpacked" });
    expect(r.trackedUnit).toMatchObject({ parentUnitId: "", rootUnitId: kase.id, depth: 0, warehouseId: w2.id, locationId: loc2.id });
    expect(r.assignment).toMatchObject({ action: AssignmentAction.UNASSIGN, previousParentUnitId: p.pallet.id, parentUnitId: "", notes: "unpacked" });
    for (const u of p.units) expect(await get(u.id)).toMatchObject({ rootUnitId: kase.id, depth: 1, warehouseId: w2.id, locationId: loc2.id });
    expect((await get(p.pallet.id)).childCount).toBe(0);
    const [moves, assignments] = [await countMoves(), await countAssignments()];
    expect((await inv.units.unassignTrackedUnit({ id: kase.id })).assignment).toBeUndefined();
    expect([await countMoves(), await countAssignments()]).toEqual([moves, assignments]);
    // Now top-level, it moves on its own.
    expect((await inv.units.moveTrackedUnit({ id: kase.id, toWarehouseId: w1.id })).carriedUnitCount).toBe(2n);
    expect(await failure(inv.units.unassignTrackedUnit({ id: MISSING }))).toMatchObject({ code: "NOT_FOUND", field: "id" });
  });

  it("refuses cycles: a unit into itself, into its child, into a unit deep inside it; and nothing changes", async () => {
    const p = await pallet(at(w1), 1, 1);
    const [kase, piece] = [p.cases[0]!, p.units[0]!];
    for (const [child, parent] of [
      [p.pallet.id, p.pallet.id],
      [kase.id, kase.id],
      [p.pallet.id, kase.id],
      [p.pallet.id, piece.id],
      [kase.id, piece.id],
    ] as const) {
      const f = await refusedWithoutChange(() => inv.units.assignTrackedUnit({ id: child, parentUnitId: parent }), p.all);
      expect(f).toMatchObject({ code: "FAILED_PRECONDITION", reason: "UNIT_CYCLE", field: "parent_unit_id" });
    }
  });

  it("refuses unknown and deleted children and parents, naming the field", async () => {
    const p = await newUnit(at(w1));
    const gone = await newUnit(at(w1));
    await inv.units.deleteTrackedUnit({ id: gone.id });
    expect(await failure(inv.units.assignTrackedUnit({ id: MISSING, parentUnitId: p.id }))).toMatchObject({ code: "NOT_FOUND", field: "id" });
    expect(await failure(inv.units.assignTrackedUnit({ id: p.id, parentUnitId: MISSING }))).toMatchObject({ code: "NOT_FOUND", field: "parent_unit_id" });
    expect(await failure(inv.units.assignTrackedUnit({ id: gone.id, parentUnitId: p.id }))).toMatchObject({
      code: "FAILED_PRECONDITION",
      reason: "DELETED",
      field: "id",
    });
    expect(await failure(inv.units.assignTrackedUnit({ id: p.id, parentUnitId: gone.id }))).toMatchObject({
      code: "FAILED_PRECONDITION",
      reason: "DELETED",
      field: "parent_unit_id",
    });
    expect(await failure(inv.units.assignTrackedUnit({ id: p.id, parentUnitId: "" }))).toMatchObject({ code: "INVALID_ARGUMENT", field: "parent_unit_id" });
  });
});

describe("updating and deleting units", () => {
  it("updates the fields of the mask with the etag; a stale etag is ABORTED and changes nothing", async () => {
    const u = await newUnit({ ...at(w1), description: "old" });
    const updated = (
      await inv.units.updateTrackedUnit({
        trackedUnit: { id: u.id, label: "NEW", description: "ignored", attributes: { condition: "refurbished" }, etag: u.etag },
        updateMask: { paths: ["label", "attributes"] },
      })
    ).trackedUnit!;
    expect(updated).toMatchObject({ label: "NEW", description: "old", attributes: { condition: "refurbished" }, serialNumber: u.serialNumber });
    expect(updated.etag).not.toBe(u.etag);
    expect(
      await failure(inv.units.updateTrackedUnit({ trackedUnit: { id: u.id, description: "stale", etag: u.etag }, updateMask: { paths: ["description"] } })),
    ).toMatchObject({ code: "ABORTED", reason: "ETAG_MISMATCH" });
    expect((await get(u.id)).description).toBe("old");
    // An emptied label falls back to the serial number.
    expect((await inv.units.updateTrackedUnit({ trackedUnit: { id: u.id, label: "" }, updateMask: { paths: ["label"] } })).trackedUnit!.label).toBe(
      u.serialNumber,
    );
    for (const path of ["warehouse_id", "parent_unit_id", "item_id", "depth"]) {
      expect(await failure(inv.units.updateTrackedUnit({ trackedUnit: { id: u.id }, updateMask: { paths: [path] } }))).toMatchObject({
        code: "INVALID_ARGUMENT",
        field: "update_mask",
      });
    }
    const other = await newUnit(at(w1));
    expect(
      await failure(inv.units.updateTrackedUnit({ trackedUnit: { id: other.id, serialNumber: u.serialNumber }, updateMask: { paths: ["serial_number"] } })),
    ).toMatchObject({ code: "ALREADY_EXISTS", field: "tracked_unit.serial_number" });
    expect(await failure(inv.units.updateTrackedUnit({ trackedUnit: { id: MISSING, label: "x" } }))).toMatchObject({ code: "NOT_FOUND" });
  });

  it("refuses to delete a unit that is not empty; deleting a unit inside a parent takes it out (UNASSIGN)", async () => {
    const p = await pallet(at(w1), 1, 1);
    const [kase, piece] = [p.cases[0]!, p.units[0]!];
    for (const id of [p.pallet.id, kase.id]) {
      const f = await refusedWithoutChange(() => inv.units.deleteTrackedUnit({ id }), p.all);
      expect(f).toMatchObject({ code: "FAILED_PRECONDITION", reason: "UNIT_NOT_EMPTY", field: "id" });
    }
    const current = await get(piece.id);
    expect(await failure(inv.units.deleteTrackedUnit({ id: piece.id, etag: "1-000000000000" }))).toMatchObject({
      code: "ABORTED",
      reason: "ETAG_MISMATCH",
    });
    const deleted = (await inv.units.deleteTrackedUnit({ id: piece.id, etag: current.etag })).trackedUnit!;
    expect(deleted).toMatchObject({ parentUnitId: "", rootUnitId: piece.id, depth: 0, warehouseId: w1.id });
    expect(deleted.deleteTime).toBeDefined();
    expect((await assignmentsOf(piece.id)).map((a) => [a.action, a.previousParentUnitId])).toEqual([
      [AssignmentAction.ASSIGN, ""],
      [AssignmentAction.UNASSIGN, kase.id],
    ]);
    // A retried delete returns the deleted unit, whatever the etag; Get still finds it.
    expect((await inv.units.deleteTrackedUnit({ id: piece.id, etag: piece.etag })).trackedUnit).toEqual(deleted);
    expect(await get(piece.id)).toEqual(deleted);
    expect((await get(kase.id)).childCount).toBe(0);
    // Now empty, the case and then the pallet can go.
    await inv.units.deleteTrackedUnit({ id: kase.id });
    await inv.units.deleteTrackedUnit({ id: p.pallet.id });
    expect((await inv.units.listTrackedUnits({ itemId: item.id, serialNumber: p.pallet.serialNumber })).trackedUnits).toEqual([]);
    expect((await inv.units.listTrackedUnits({ itemId: item.id, serialNumber: p.pallet.serialNumber, showDeleted: true })).trackedUnits).toHaveLength(1);
    expect(await failure(inv.units.deleteTrackedUnit({ id: MISSING }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await unitInvariantProblems(inv.db)).toEqual([]);
  });

  it("counts live units in storage usage, at a warehouse and at a location", async () => {
    const w = inv.directory.addWarehouse();
    const l = inv.directory.addLocation(w.id);
    await pallet(at(w, l), 1, 2);
    const loose = await newUnit(at(w));
    expect(await liveUnitCount(inv.db, { warehouseId: w.id, locationId: null })).toBe(5n);
    expect(await liveUnitCount(inv.db, { warehouseId: w.id, locationId: l.id })).toBe(4n);
    await inv.units.deleteTrackedUnit({ id: loose.id });
    expect(await liveUnitCount(inv.db, { warehouseId: w.id, locationId: null })).toBe(4n);
  });
});

describe("listing", () => {
  it("pages in creation order without skipping or repeating; a token only works with its filters", async () => {
    const fresh = await inv.newItem();
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await newUnit({ ...at(w1), itemId: fresh.id })).id);
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await inv.units.listTrackedUnits({ itemId: fresh.id, pageSize: 3, pageToken });
      seen.push(...page.trackedUnits.map((u) => u.id));
      pageToken = page.nextPageToken;
      pages++;
      // A unit created while paging comes after the ones that existed: it is listed last, once.
      if (pages === 1) made.push((await newUnit({ ...at(w1), itemId: fresh.id })).id);
    } while (pageToken !== "");
    expect(seen).toEqual(made);
    expect(pages).toBe(3);
    const first = await inv.units.listTrackedUnits({ itemId: fresh.id, pageSize: 3 });
    expect(await failure(inv.units.listTrackedUnits({ itemId: item.id, pageSize: 3, pageToken: first.nextPageToken }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "page_token",
    });
    expect(await failure(inv.units.listTrackedUnits({ pageSize: 501 }))).toMatchObject({ code: "INVALID_ARGUMENT", field: "page_size" });
  });

  it("filters by item, item type, place, parent, top level, serial number, text and containment", async () => {
    const fresh = await inv.newItem();
    const typeId = (await inv.items.getItem({ id: fresh.id })).item!.itemTypeId;
    const w = inv.directory.addWarehouse();
    const l = inv.directory.addLocation(w.id);
    const top = await newUnit({ itemId: fresh.id, ...at(w, l), serialNumber: serial("TOP"), description: "100% cotton_blend" });
    const mid = await newUnit({ itemId: fresh.id, parentUnitId: top.id, label: "Middle box" });
    const low = await newUnit({ itemId: fresh.id, parentUnitId: mid.id });
    const elsewhere = await newUnit({ itemId: fresh.id, ...at(w) });
    const ids = async (req: Parameters<typeof inv.units.listTrackedUnits>[0]) =>
      (await inv.units.listTrackedUnits({ itemId: fresh.id, ...req })).trackedUnits.map((u) => u.id);
    expect(await ids({})).toEqual([top.id, mid.id, low.id, elsewhere.id]);
    expect(await ids({ itemTypeId: typeId })).toEqual([top.id, mid.id, low.id, elsewhere.id]);
    expect(await ids({ itemTypeId: randomUUID() })).toEqual([]);
    expect(await ids({ warehouseId: w.id })).toEqual([top.id, mid.id, low.id, elsewhere.id]);
    expect(await ids({ locationId: l.id })).toEqual([top.id, mid.id, low.id]);
    expect(await ids({ parentUnitId: top.id })).toEqual([mid.id]);
    expect(await ids({ topLevelOnly: true })).toEqual([top.id, elsewhere.id]);
    expect(await ids({ serialNumber: top.serialNumber })).toEqual([top.id]);
    expect(await ids({ query: "middle" })).toEqual([mid.id]);
    expect(await ids({ query: "0% cotton_" })).toEqual([top.id]);
    expect(await ids({ query: "%" })).toEqual([top.id]);
    expect(await ids({ query: "n_b" })).toEqual([top.id]);
    expect(await ids({ query: "x_y" })).toEqual([]);
    expect(await ids({ insideUnitId: top.id })).toEqual([mid.id, low.id]);
    expect(await ids({ insideUnitId: mid.id })).toEqual([low.id]);
    expect(await ids({ insideUnitId: low.id })).toEqual([]);
    const listed = (await inv.units.listTrackedUnits({ itemId: fresh.id, insideUnitId: top.id })).trackedUnits;
    expect(listed.map((u) => u.childCount)).toEqual([1, 0]);
    expect(await failure(inv.units.listTrackedUnits({ insideUnitId: "nope", query: "q".repeat(201) }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      fields: expect.arrayContaining(["inside_unit_id", "query"]),
    });
  });
});

describe("histories", () => {
  it("list moves and assignments in order, newest first on request, paged, filtered; a range ending before it starts is refused", async () => {
    const p = await pallet(at(w1), 1, 1);
    const w3 = inv.directory.addWarehouse();
    const first = (await inv.units.moveTrackedUnit({ id: p.pallet.id, toWarehouseId: w2.id })).move!;
    const second = (await inv.units.moveTrackedUnit({ id: p.pallet.id, toWarehouseId: w3.id })).move!;
    const ofPallet = (await inv.units.listUnitMoves({ unitId: p.pallet.id })).moves;
    expect(ofPallet.map((m) => m.id)).toEqual([first.id, second.id]);
    expect((await inv.units.listUnitMoves({ unitId: p.pallet.id, newestFirst: true })).moves.map((m) => m.id)).toEqual([second.id, first.id]);
    expect((await inv.units.listUnitMoves({ warehouseId: w3.id })).moves.map((m) => m.unitId).sort()).toEqual([...p.all].sort());
    expect((await inv.units.listUnitMoves({ warehouseId: w3.id, causes: [UnitMoveCause.DIRECT] })).moves.map((m) => m.id)).toEqual([second.id]);
    expect((await inv.units.listUnitMoves({ itemId: item.id, originMoveId: second.id })).moves).toHaveLength(3);
    expect((await inv.units.listUnitMoves({ unitId: p.pallet.id, movedBy: first.movedBy })).moves).toHaveLength(2);
    expect((await inv.units.listUnitMoves({ unitId: p.pallet.id, movedBy: "someone-else" })).moves).toHaveLength(0);
    // Paging: one record a page, every record once, in order.
    const paged: string[] = [];
    let pageToken = "";
    do {
      const page = await inv.units.listUnitMoves({ warehouseId: w3.id, pageSize: 1, pageToken });
      paged.push(...page.moves.map((m) => m.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(paged).toEqual((await inv.units.listUnitMoves({ warehouseId: w3.id })).moves.map((m) => m.id));
    expect(paged).toHaveLength(3);
    // A time range: everything of this test is within the last minute, nothing in the future.
    const now = Date.now();
    const ts = (ms: number) => ({ seconds: BigInt(Math.floor(ms / 1000)), nanos: 0 });
    expect((await inv.units.listUnitMoves({ unitId: p.pallet.id, startTime: ts(now - 60_000), endTime: ts(now + 60_000) })).moves).toHaveLength(2);
    expect((await inv.units.listUnitMoves({ unitId: p.pallet.id, startTime: ts(now + 60_000) })).moves).toHaveLength(0);
    for (const call of [
      inv.units.listUnitMoves({ startTime: ts(now), endTime: ts(now - 1000) }),
      inv.units.listUnitMoves({ startTime: ts(now), endTime: ts(now) }),
      inv.units.listUnitAssignments({ startTime: ts(now), endTime: ts(now - 1000) }),
    ]) {
      expect(await failure(call)).toMatchObject({ code: "INVALID_ARGUMENT", field: "end_time" });
    }
    expect(await failure(inv.units.listUnitMoves({ pageSize: 1001 }))).toMatchObject({ code: "INVALID_ARGUMENT", field: "page_size" });
    expect(await failure(inv.units.listUnitMoves({ causes: [9 as UnitMoveCause] }))).toMatchObject({ code: "INVALID_ARGUMENT", field: "causes[0]" });

    // Assignments: by child, by parent (before or after), by action.
    const other = await newUnit(at(w3));
    await inv.units.assignTrackedUnit({ id: p.cases[0]!.id, parentUnitId: other.id });
    await inv.units.unassignTrackedUnit({ id: p.cases[0]!.id });
    expect((await assignmentsOf(p.cases[0]!.id)).map((a) => a.action)).toEqual([AssignmentAction.ASSIGN, AssignmentAction.REASSIGN, AssignmentAction.UNASSIGN]);
    expect((await inv.units.listUnitAssignments({ childUnitId: p.cases[0]!.id, newestFirst: true })).assignments.map((a) => a.action)).toEqual([
      AssignmentAction.UNASSIGN,
      AssignmentAction.REASSIGN,
      AssignmentAction.ASSIGN,
    ]);
    expect((await inv.units.listUnitAssignments({ parentUnitId: other.id })).assignments.map((a) => a.action)).toEqual([
      AssignmentAction.REASSIGN,
      AssignmentAction.UNASSIGN,
    ]);
    expect(
      (await inv.units.listUnitAssignments({ parentUnitId: p.pallet.id, actions: [AssignmentAction.REASSIGN] })).assignments.map((a) => a.childUnitId),
    ).toEqual([p.cases[0]!.id]);
    const a1 = await inv.units.listUnitAssignments({ childUnitId: p.cases[0]!.id, pageSize: 2 });
    expect(a1.assignments).toHaveLength(2);
    const a2 = await inv.units.listUnitAssignments({ childUnitId: p.cases[0]!.id, pageSize: 2, pageToken: a1.nextPageToken });
    expect(a2.assignments.map((a) => a.action)).toEqual([AssignmentAction.UNASSIGN]);
    expect(a2.nextPageToken).toBe("");
    expect(await failure(inv.units.listUnitAssignments({ childUnitId: p.pallet.id, pageToken: a1.nextPageToken }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "page_token",
    });
  });
});

describe("a pallet of 10,000 units", () => {
  it("moves with one call: every unit moves and gets its record", async () => {
    const big = await inv.newItem();
    const w = inv.directory.addWarehouse();
    const to = inv.directory.addWarehouse();
    const toLoc = inv.directory.addLocation(to.id);
    const p = (await inv.units.createTrackedUnit({ trackedUnit: { itemId: big.id, serialNumber: "BIG-PALLET", ...at(w) } })).trackedUnit!;
    // The fixture in one statement: 100 cases of 100 units each, with their ASSIGN records, as
    // CreateTrackedUnit would have made them one by one.
    await inv.db.execute(sql`
      WITH cases AS MATERIALIZED (SELECT gen_random_uuid() AS id, g FROM generate_series(1, 100) g),
      pieces AS MATERIALIZED (SELECT gen_random_uuid() AS id, c.id AS case_id, c.g, u FROM cases c CROSS JOIN generate_series(1, 100) u),
      made AS (
        INSERT INTO inventory.tracked_units (id, item_id, serial_number, label, parent_id, root_id, depth, warehouse_id)
        SELECT id, ${big.id}::uuid, 'CASE-' || g, 'CASE-' || g, ${p.id}::uuid, ${p.id}::uuid, 1, ${w.id}::uuid FROM cases
        UNION ALL
        SELECT id, ${big.id}::uuid, 'U-' || g || '-' || u, 'U-' || g || '-' || u, case_id, ${p.id}::uuid, 2, ${w.id}::uuid FROM pieces
        RETURNING id, parent_id
      )
      INSERT INTO inventory.unit_assignments (id, child_unit_id, parent_id, action, actor)
      SELECT gen_random_uuid(), id, parent_id, 1, 'fixture' FROM made`);
    expect((await get(p.id)).childCount).toBe(100);
    // No ANALYZE: the table has no statistics for the pallet just inserted (the embedded default
    // never gathers any), and the key's own index (tracked_units_in_parent_idx) keeps the move fast.

    const engine = process.env["TEST_DATABASE_URL"] ? "postgres" : "pglite";
    const timed = async (label: string, call: () => Promise<MoveTrackedUnitResponse>) => {
      const started = performance.now();
      const response = await call();
      console.log(`MoveTrackedUnit of a pallet of 10,101 units (${engine}, ${label}): ${(performance.now() - started).toFixed(0)} ms`);
      return response;
    };
    const moved = await timed("there", () =>
      inv.units.moveTrackedUnit({ id: p.id, toWarehouseId: to.id, toLocationId: toLoc.id, notes: "the big one" }, { deadlineMs: 120_000 }),
    );
    expect(moved.carriedUnitCount).toBe(10_100n);
    expect(moved.move).toMatchObject({ cause: UnitMoveCause.DIRECT, toWarehouseId: to.id, toLocationId: toLoc.id });
    const [counts] = await rows<{ units: number; there: number; records: number; direct: number; carried: number; linked: number; times: number }>(
      inv.db,
      sql`SELECT
            (SELECT count(*)::int FROM inventory.tracked_units WHERE root_id = ${p.id}::uuid) AS units,
            (SELECT count(*)::int FROM inventory.tracked_units WHERE root_id = ${p.id}::uuid AND warehouse_id = ${to.id}::uuid
               AND location_id = ${toLoc.id}::uuid AND last_moved_at IS NOT NULL) AS there,
            (SELECT count(*)::int FROM inventory.unit_moves WHERE origin_move_id = ${moved.move!.id}::uuid) AS records,
            (SELECT count(*)::int FROM inventory.unit_moves WHERE origin_move_id = ${moved.move!.id}::uuid AND cause = 1) AS direct,
            (SELECT count(*)::int FROM inventory.unit_moves WHERE origin_move_id = ${moved.move!.id}::uuid AND cause = 2) AS carried,
            (SELECT count(*)::int FROM inventory.unit_moves m JOIN inventory.tracked_units u ON u.id = m.unit_id
               JOIN inventory.unit_moves pm ON pm.id = m.parent_move_id AND pm.unit_id = u.parent_id
               WHERE m.origin_move_id = ${moved.move!.id}::uuid) AS linked,
            (SELECT count(DISTINCT moved_at)::int FROM inventory.unit_moves WHERE origin_move_id = ${moved.move!.id}::uuid) AS times`,
    );
    expect(counts).toEqual({ units: 10_101, there: 10_101, records: 10_101, direct: 1, carried: 10_100, linked: 10_100, times: 1 });
    const back = await timed("and back", () => inv.units.moveTrackedUnit({ id: p.id, toWarehouseId: w.id }, { deadlineMs: 120_000 }));
    expect(back.carriedUnitCount).toBe(10_100n);
    expect((await inv.units.listUnitMoves({ originMoveId: back.move!.id, pageSize: 1000 })).nextPageToken).not.toBe("");
    // Read back through the API too: a page of the tree, and one unit deep inside it.
    const page = await inv.units.listTrackedUnits({ insideUnitId: p.id, pageSize: 500 });
    expect(page.trackedUnits).toHaveLength(500);
    expect(page.trackedUnits.every((u) => u.warehouseId === w.id && u.locationId === "")).toBe(true);
    expect(await unitInvariantProblems(inv.db)).toEqual([]);
  });
});

describe("an item with tracked units", () => {
  it("cannot be deleted while a live unit of it exists, and can once the units are gone", async () => {
    const own = await inv.newItem();
    const unit = await newUnit({ ...at(w1), itemId: own.id });
    const refused = await failure(inv.items.deleteItem({ id: own.id }));
    expect(refused).toMatchObject({ code: "FAILED_PRECONDITION", constraint: "has_tracked_units" });
    await inv.units.deleteTrackedUnit({ id: unit.id });
    expect((await inv.items.deleteItem({ id: own.id })).item?.deleteTime).toBeDefined();
  });
});

import { and, asc, desc, eq, inArray, isNull, or, sql, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { AssignmentAction, UnitMoveCause } from "@inv/gen/inventory/v1/tracked_unit_pb";
import { ItemStatus } from "@inv/gen/inventory/v1/item_pb";
import {
  Aborted,
  alreadyDeleted,
  duplicate,
  findPgError,
  findRow,
  inTransaction,
  isRetryableSqlState,
  lockRow,
  notFound,
  pageConditions,
  rows,
  softDelete,
  updateResource,
  violates,
  type Db,
  type LiveFilter,
  type PageQuery,
} from "@inv/platform";
import { uuidv7 } from "uuidv7";
import { containsPattern } from "../domain/item-rules.js";
import { itemNotActive, notAtParentPlace, unitCycle, unitInsideParent, unitNotEmpty } from "../domain/unit-rules.js";
import { items, trackedUnits, unitAssignments, unitMoves, type TrackedUnitRow, type UnitAssignmentRow, type UnitMoveRow } from "./schema.js";
import { lockItemByRef } from "./stock-reads.js";

/**
 * Tracked units and their histories. Every unit row carries its tree's facts (root_id, depth, and
 * the place, which is the root's), and the composite key tracked_units_in_parent_fk makes the
 * database refuse any state where a unit's root, place or depth disagrees with its parent's: no
 * cycles, no unit left behind by a move. The writes here are optimistic on top of that: each one
 * reads what it needs, then changes a whole subtree with one set-based statement computed from
 * what it read. If the tree changed meanwhile, the key check fails at the end of that statement
 * (or Postgres picks a deadlock victim), and the whole transaction runs again from a fresh read
 * (retryingTreeChanges). So that this stays rare, writers of one tree take turns at its root
 * (lockTrees), as a move of the tree does.
 */

const KIND = "tracked unit";
/** The parent key: its violation means the tree changed under a write, which then runs again. */
const TREE_KEY = "tracked_units_in_parent_fk";
/**
 * A carried unit's move record names its parent's record of the same statement: if the parent
 * was not moved with it, the tree changed under the statement (the parent key fails as well).
 */
const MOVE_PARENT_KEY = "unit_moves_parent_move_id_fkey";
const SERIAL_TAKEN = "tracked_units_serial_live_uq";
/** How many times a write runs in all when the tree keeps changing under it. */
const TREE_ATTEMPTS = 5;

/** The root a write read has changed before the write could lock the unit: run it again. */
class TreeChanged extends Error {}

const treeChanged = (err: unknown): boolean => {
  if (err instanceof TreeChanged) return true;
  const pg = findPgError(err);
  return pg !== undefined && (isRetryableSqlState(pg.code) || (pg.code === "23503" && (pg.constraint === TREE_KEY || pg.constraint === MOVE_PARENT_KEY)));
};

/**
 * Runs fn (a whole transaction) again, up to TREE_ATTEMPTS times in all, when the units it works
 * on changed under it: the parent key refused its statement, or Postgres aborted it for a
 * serialization failure or deadlock. What it read is read again, so a concurrent A-into-B and
 * B-into-A end with one success and one UNIT_CYCLE. After the last attempt: ABORTED, CONTENDED.
 * (retryingConflicts in the platform does the same for 40001/40P01 only.)
 */
export async function retryingTreeChanges<T>(doing: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!treeChanged(err)) throw err;
      if (attempt >= TREE_ATTEMPTS) throw new Aborted(`the units changed while ${doing}; retry`, undefined, "CONTENDED");
      await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** attempt * Math.random()));
    }
  }
}

/** A place: a warehouse, and a location in it or none (null). */
export interface Place {
  warehouseId: string;
  locationId: string | null;
}

const placeOf = (u: { warehouseId: string; locationId: string | null }): Place => ({ warehouseId: u.warehouseId, locationId: u.locationId ?? null });
const samePlace = (a: Place, b: Place) => a.warehouseId === b.warehouseId && (a.locationId ?? null) === (b.locationId ?? null);

/** Who made a change, and why: written on every history record of the change. */
export interface History {
  actor: string;
  notes: string;
  /** The call's request id, for tracing. */
  requestId: string;
}

/** A unit as the API shows it: its row, its item's SKU and type, and how many units are directly inside it. */
export type UnitView = TrackedUnitRow & { sku: string; itemTypeId: string; childCount: number };

// Counted in the same query, one index probe (tracked_units_in_parent_idx, led by parent_id) per unit returned. Only
// live units have a parent, so every child counted is live.
const childCount = sql<number>`(SELECT count(*) FROM inventory.tracked_units c WHERE c.parent_id = ${trackedUnits.id})::int`;

const selectViews = (db: Db) =>
  db
    .select({ unit: trackedUnits, sku: items.sku, itemTypeId: items.itemTypeId, childCount })
    .from(trackedUnits)
    .innerJoin(items, eq(items.id, trackedUnits.itemId));

const flatten = (r: { unit: TrackedUnitRow; sku: string; itemTypeId: string; childCount: number }): UnitView => ({
  ...r.unit,
  sku: r.sku,
  itemTypeId: r.itemTypeId,
  childCount: Number(r.childCount),
});

/** The unit with this id, deleted or not. */
export async function findUnit(db: Db, id: string): Promise<UnitView | undefined> {
  const [row] = await selectViews(db).where(eq(trackedUnits.id, id));
  return row && flatten(row);
}

async function viewOf(db: Db, id: string): Promise<UnitView> {
  const view = await findUnit(db, id);
  if (!view) throw notFound(KIND, id);
  return view;
}

export interface UnitFilter extends LiveFilter {
  itemId?: string | undefined;
  itemTypeId?: string | undefined;
  warehouseId?: string | undefined;
  locationId?: string | undefined;
  parentUnitId?: string | undefined;
  topLevelOnly: boolean;
  serialNumber?: string | undefined;
  /** Found (case-insensitively, wildcards taken literally) in the label, serial number or description. */
  query?: string | undefined;
  insideUnitId?: string | undefined;
}

/**
 * The units inside one, at any depth: a walk down the parent links (tracked_units_in_parent_idx, led by parent_id),
 * bounded by the subtree (each step goes exactly one level deeper, so it always ends), within
 * the container's tree (tracked_units_root_idx).
 */
const insideUnit = (id: string) => sql`${trackedUnits.rootId} = (SELECT root_id FROM inventory.tracked_units WHERE id = ${id}::uuid)
  AND ${trackedUnits.id} IN (
    WITH RECURSIVE sub AS (
      SELECT c.id, c.depth FROM inventory.tracked_units c WHERE c.parent_id = ${id}::uuid
      UNION ALL
      SELECT c.id, c.depth FROM inventory.tracked_units c JOIN sub s ON c.parent_id = s.id AND c.depth = s.depth + 1
    )
    SELECT id FROM sub)`;

/** One page in creation order (ids are UUIDv7), after the keyset cursor. */
export async function listUnits(db: Db, query: PageQuery<UnitFilter>): Promise<UnitView[]> {
  const { filter } = query;
  const pattern = filter.query ? containsPattern(filter.query) : undefined;
  const found = await selectViews(db)
    .where(
      and(
        ...pageConditions(trackedUnits, query),
        filter.itemId ? eq(trackedUnits.itemId, filter.itemId) : undefined,
        filter.itemTypeId ? eq(items.itemTypeId, filter.itemTypeId) : undefined,
        filter.warehouseId ? eq(trackedUnits.warehouseId, filter.warehouseId) : undefined,
        filter.locationId ? eq(trackedUnits.locationId, filter.locationId) : undefined,
        filter.parentUnitId ? eq(trackedUnits.parentId, filter.parentUnitId) : undefined,
        filter.topLevelOnly ? isNull(trackedUnits.parentId) : undefined,
        filter.serialNumber ? eq(trackedUnits.serialNumber, filter.serialNumber) : undefined,
        pattern
          ? or(
              sql`${trackedUnits.label} ILIKE ${pattern} ESCAPE '\\'`,
              sql`${trackedUnits.serialNumber} ILIKE ${pattern} ESCAPE '\\'`,
              sql`${trackedUnits.description} ILIKE ${pattern} ESCAPE '\\'`,
            )
          : undefined,
        filter.insideUnitId ? insideUnit(filter.insideUnitId) : undefined,
      ),
    )
    .orderBy(asc(trackedUnits.id))
    .limit(query.limit);
  return found.map(flatten);
}

/** Live units stored in a warehouse (any location of it), or at exactly one location: for StorageUsageService. */
export async function liveUnitCount(db: Db, place: Place): Promise<bigint> {
  const [row] = await db
    .select({ n: sql<string>`count(*)::text` })
    .from(trackedUnits)
    .where(
      and(
        isNull(trackedUnits.deletedAt),
        eq(trackedUnits.warehouseId, place.warehouseId),
        place.locationId === null ? undefined : eq(trackedUnits.locationId, place.locationId),
      ),
    );
  return BigInt(row?.n ?? "0");
}

/** A unit a write works on, with the lock it takes on the unit's tree and on the unit itself. */
interface TreeLock {
  id: string;
  /** The request field that named it, for NOT_FOUND and DELETED. */
  field: string;
  /**
   * "update" to change the tree (anything that changes a unit's root, depth, parent or place:
   * moves, assignments, deletes of a unit inside another); "share" to keep it as it is (a parent
   * that receives a unit must keep its root, place and depth until commit).
   */
  tree: "update" | "share";
  unit: "update" | "share";
}

/**
 * A transaction that changes trees. Postgres checks the parent key once per unit whose key
 * changed, with a plan it makes once per connection and then keeps. Made while the table was
 * nearly empty (a new database, the first units), that plan is a sequential scan, and it stays
 * one when a pallet of 10,000 units arrives: a move then checks every unit against the whole
 * table (14 s instead of 0.7 s for 10,101 units). Made with custom plans and statistics that
 * predate a tree's arrival, it looks the key up by place, through the whole tree, per unit
 * (8.7 s). So every transaction that may make or run those checks plans them generically, by the
 * key's shape, and through an index (tracked_units_in_parent_idx, tracked_units_tree_key).
 */
function inTreeTransaction<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  return inTransaction(db, async (tx) => {
    await tx.execute(sql`SET LOCAL plan_cache_mode = force_generic_plan`);
    await tx.execute(sql`SET LOCAL enable_seqscan = off`);
    return fn(tx);
  });
}

/**
 * Locks the trees a write works on, then the units, and returns the units (in the order asked).
 * A tree is locked at its root: its writers hold the root FOR UPDATE, so they take turns, and
 * whoever needs a tree to stay as it is holds it FOR SHARE. Roots are locked in id order, so two
 * tree writers do not deadlock: without these locks, A into a unit inside B while B into a unit
 * inside A deadlocked in most tries (each one's subtree UPDATE waits on the parent the other
 * share-locked), which Postgres breaks only after deadlock_timeout, 1 s. These locks only make
 * writers take turns; what keeps the trees whole is still the parent key (and the retry on its
 * failure). A root is read before it is locked: if a unit changed trees in between, the write
 * runs again (retryingTreeChanges). Missing is NOT_FOUND, deleted FAILED_PRECONDITION, naming the field.
 */
async function lockTrees<const T extends readonly TreeLock[]>(tx: Db, wanted: T): Promise<{ -readonly [K in keyof T]: TrackedUnitRow }> {
  const seen: TrackedUnitRow[] = [];
  for (const w of wanted) {
    const row = await findRow(tx, trackedUnits, w.id);
    if (!row) throw notFound(KIND, w.id, w.field);
    if (row.deletedAt) throw alreadyDeleted(KIND, w.id, w.field);
    seen.push(row);
  }
  const roots = new Map<string, "update" | "share">();
  wanted.forEach((w, i) => {
    const root = seen[i]!.rootId;
    roots.set(root, roots.get(root) === "update" || w.tree === "update" ? "update" : "share");
  });
  for (const [root, strength] of [...roots].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) await lockRow(tx, trackedUnits, root, strength);
  const locked: TrackedUnitRow[] = [];
  for (const [i, w] of wanted.entries()) {
    // A root is already locked, as strongly as the write needs it.
    const unit = roots.has(w.id) ? await findRow(tx, trackedUnits, w.id) : await lockRow(tx, trackedUnits, w.id, w.unit);
    if (!unit) throw notFound(KIND, w.id, w.field);
    if (unit.deletedAt) throw alreadyDeleted(KIND, w.id, w.field);
    if (unit.rootId !== seen[i]!.rootId) throw new TreeChanged(`tracked unit ${w.id} changed trees while it was being locked`);
    locked.push(unit);
  }
  return locked as { -readonly [K in keyof T]: TrackedUnitRow };
}

/** The live item a new unit is of, key-share-locked (as stock writes lock it) so it cannot be deleted under the insert. */
async function lockActiveItem(tx: Db, itemId: string, field: string) {
  const item = await lockItemByRef(tx, { id: itemId });
  if (!item) throw notFound("item", itemId, field);
  if (item.deletedAt) throw alreadyDeleted("item", itemId, field);
  if (item.status !== ItemStatus.ACTIVE) throw itemNotActive(itemId, field);
  return item;
}

const serialTaken = (serial: string) => duplicate("tracked_unit.serial_number", serial, `another live unit of this item already has serial number "${serial}"`);

export interface NewUnit {
  itemId: string;
  serialNumber: string;
  label: string;
  description: string;
  attributes: Record<string, string>;
  /** Inside this unit, or (null) at the place below. */
  parentId: string | null;
  /** Required without a parent; with one, empty (null) or the parent's. */
  warehouseId: string | null;
  locationId: string | null;
  createdBy: string;
}

/**
 * Creates a unit at a place (`checkPlace` says whether units may go there) or inside a live
 * parent, whose root, place and depth + 1 it takes. The parent and its tree are share-locked
 * until commit (lockTrees), so the parent can neither be deleted nor moved before the new unit is
 * in; a unit created inside a parent is recorded as an ASSIGN, so the history replays to the tree.
 */
export async function createUnit(db: Db, u: NewUnit, history: History, checkPlace: (place: Place) => Promise<void>): Promise<UnitView> {
  return inTreeTransaction(db, async (tx) => {
    await lockActiveItem(tx, u.itemId, "tracked_unit.item_id");
    const id = uuidv7();
    let at: { place: Place; rootId: string; depth: number };
    if (u.parentId) {
      const [parent] = await lockTrees(tx, [{ id: u.parentId, field: "tracked_unit.parent_unit_id", tree: "share", unit: "share" }]);
      if (u.warehouseId !== null && u.warehouseId !== parent.warehouseId) {
        throw notAtParentPlace("tracked_unit.warehouse_id", u.warehouseId, parent.id, parent.warehouseId);
      }
      if (u.locationId !== null && u.locationId !== parent.locationId) {
        throw notAtParentPlace("tracked_unit.location_id", u.locationId, parent.id, parent.locationId ?? "");
      }
      at = { place: placeOf(parent), rootId: parent.rootId, depth: parent.depth + 1 };
    } else {
      const place = { warehouseId: u.warehouseId ?? "", locationId: u.locationId };
      await checkPlace(place);
      at = { place, rootId: id, depth: 0 };
    }
    try {
      await tx.insert(trackedUnits).values({
        id,
        itemId: u.itemId,
        serialNumber: u.serialNumber,
        label: u.label,
        description: u.description,
        attributes: u.attributes,
        parentId: u.parentId,
        rootId: at.rootId,
        depth: at.depth,
        ...at.place,
        createdBy: u.createdBy,
      });
    } catch (err) {
      if (violates(err, SERIAL_TAKEN)) throw serialTaken(u.serialNumber);
      throw err;
    }
    if (u.parentId) await recordAssignment(tx, { childId: id, previousParentId: null, parentId: u.parentId, history });
    return viewOf(tx, id);
  });
}

export type UnitChanges = Partial<Pick<NewUnit, "serialNumber" | "label" | "description" | "attributes">>;

/**
 * Changes the descriptive fields of a live unit; with an etag, only if it is still current
 * (checked in the UPDATE itself). A label set to empty falls back to the serial number, as on create.
 */
export async function updateUnit(db: Db, id: string, etag: string, changes: UnitChanges): Promise<UnitView> {
  const label = changes.label === "" ? { label: changes.serialNumber ?? sql`${trackedUnits.serialNumber}` } : {};
  try {
    const row = await updateResource(db, trackedUnits, {
      kind: KIND,
      id,
      etag,
      changes: { ...changes, ...label },
      fields: { id: "tracked_unit.id", etag: "tracked_unit.etag" },
    });
    return viewOf(db, row.id);
  } catch (err) {
    if (violates(err, SERIAL_TAKEN)) throw serialTaken(changes.serialNumber ?? "");
    throw err;
  }
}

/**
 * Soft-deletes a unit that contains none. Under its row lock (softDelete): creating or assigning
 * a unit into it share-locks it first, so one being put in right now is committed, and counted,
 * before the check. A unit inside a parent is taken out in the same UPDATE (it becomes its own
 * root, at the same place, depth 0: the CHECK tracked_units_deleted_alone wants deleted units
 * alone), recorded as an UNASSIGN; that changes its tree, so it first locks the tree's root as
 * every tree writer does (lockTrees).
 */
export async function deleteUnit(db: Db, id: string, etag: string, history: History): Promise<UnitView> {
  return inTreeTransaction(db, async (tx) => {
    const seen = await findRow(tx, trackedUnits, id);
    const lockedRoot = seen && !seen.deletedAt && seen.parentId ? seen.rootId : null;
    if (lockedRoot) await lockRow(tx, trackedUnits, lockedRoot, "update");
    const taken: { from: string | null } = { from: null };
    await softDelete(tx, trackedUnits, {
      kind: KIND,
      id,
      etag,
      also: { parentId: null, rootId: id, depth: 0 },
      dependents: async (t, row) => {
        if (row.parentId && row.rootId !== lockedRoot) throw new TreeChanged(`tracked unit ${id} changed trees while it was being locked`);
        const [inside] = await t.select({ n: sql<number>`count(*)::int` }).from(trackedUnits).where(eq(trackedUnits.parentId, id));
        if (Number(inside?.n ?? 0) > 0) throw unitNotEmpty(id, Number(inside!.n));
        taken.from = row.parentId;
      },
    });
    if (taken.from) await recordAssignment(tx, { childId: id, previousParentId: taken.from, parentId: null, history });
    return viewOf(tx, id);
  });
}

/** What a move or an assignment did. */
export interface TreeChange {
  unit: UnitView;
  /** The assignment record written; undefined when the parent did not change. */
  assignment?: UnitAssignmentRow | undefined;
  /** The unit's own move record; undefined when it did not change place. */
  move?: UnitMoveRow | undefined;
  /** Units inside it that moved with it (one PARENT_MOVED record each). */
  carried: number;
}

/**
 * Moves a top-level unit and everything inside it to `to`. The root is locked FOR UPDATE first
 * (the tree's writer lock, lockTrees) and its place read under that lock: that is where every
 * unit of the tree comes from. Already there: nothing changes, nothing is recorded. Otherwise
 * `checkDestination` runs (inside the transaction, before anything is written), then one
 * statement moves the tree (moveSubtree).
 */
export async function moveUnit(db: Db, cmd: { id: string; to: Place; history: History }, checkDestination: () => Promise<void>): Promise<TreeChange> {
  return inTreeTransaction(db, async (tx) => {
    const [root] = await lockTrees(tx, [{ id: cmd.id, field: "id", tree: "update", unit: "update" }]);
    if (root.parentId) throw unitInsideParent(root.id, root.parentId);
    if (samePlace(root, cmd.to)) return { unit: await viewOf(tx, root.id), carried: 0 };
    await checkDestination();
    const moved = await moveSubtree(tx, {
      top: root,
      parentId: null,
      rootId: root.id,
      depth: 0,
      to: cmd.to,
      cause: UnitMoveCause.DIRECT,
      history: cmd.history,
    });
    return { unit: await viewOf(tx, root.id), move: moved.move, carried: moved.units - 1 };
  });
}

/**
 * Puts a unit (and everything inside it) into a live parent at any depth, unless the parent is
 * the unit or inside it (UNIT_CYCLE). The child's tree is locked for writing and the parent's
 * for reading (lockTrees: at their roots, in id order), so of two calls putting A into B and B
 * into A one waits for the other and then sees its result; the parent's root, place and depth
 * stay as read until commit. Then one statement re-roots the subtree under the parent, moving it
 * (with its move records) if the parent is elsewhere, and one ASSIGN or REASSIGN record is written.
 */
export async function assignUnit(db: Db, cmd: { childId: string; parentId: string; history: History }): Promise<TreeChange> {
  return inTreeTransaction(db, async (tx) => {
    const childLock = { id: cmd.childId, field: "id", tree: "update", unit: "update" } as const;
    if (cmd.childId === cmd.parentId) {
      await lockTrees(tx, [childLock]);
      throw unitCycle(cmd.childId, cmd.parentId);
    }
    const [child, parent] = await lockTrees(tx, [childLock, { id: cmd.parentId, field: "parent_unit_id", tree: "share", unit: "share" }]);
    if (child.parentId === parent.id) return { unit: await viewOf(tx, child.id), carried: 0 };
    if (await isInside(tx, parent, child)) throw unitCycle(child.id, parent.id);
    const to = placeOf(parent);
    const moves = !samePlace(child, to);
    const changed = await moveSubtree(tx, {
      top: child,
      parentId: parent.id,
      rootId: parent.rootId,
      depth: parent.depth + 1,
      to,
      cause: UnitMoveCause.ASSIGNED,
      history: cmd.history,
    });
    const assignment = await recordAssignment(tx, { childId: child.id, previousParentId: child.parentId, parentId: parent.id, history: cmd.history });
    return { unit: await viewOf(tx, child.id), assignment, move: changed.move, carried: moves ? changed.units - 1 : 0 };
  });
}

/**
 * Takes a unit (and everything inside it) out of its parent: it becomes the root of its own
 * tree, where it is. Without a parent nothing changes and nothing is recorded.
 */
export async function unassignUnit(db: Db, cmd: { childId: string; history: History }): Promise<TreeChange> {
  return inTreeTransaction(db, async (tx) => {
    const [child] = await lockTrees(tx, [{ id: cmd.childId, field: "id", tree: "update", unit: "update" }]);
    if (!child.parentId) return { unit: await viewOf(tx, child.id), carried: 0 };
    await moveSubtree(tx, {
      top: child,
      parentId: null,
      rootId: child.id,
      depth: 0,
      to: placeOf(child),
      cause: UnitMoveCause.DIRECT,
      history: cmd.history,
    });
    const assignment = await recordAssignment(tx, { childId: child.id, previousParentId: child.parentId, parentId: null, history: cmd.history });
    return { unit: await viewOf(tx, child.id), assignment, carried: 0 };
  });
}

/**
 * Whether `unit` is `container` or inside it: a walk up the parent links from `unit`, which
 * stops at the container's depth (the depth falls by exactly one per link).
 */
async function isInside(tx: Db, unit: TrackedUnitRow, container: TrackedUnitRow): Promise<boolean> {
  if (unit.id === container.id) return true;
  if (unit.rootId !== container.rootId || unit.depth <= container.depth) return false;
  const [found] = await rows<{ inside: boolean }>(
    tx,
    sql`WITH RECURSIVE up AS (
          SELECT id, parent_id, depth FROM inventory.tracked_units WHERE id = ${unit.id}::uuid
          UNION ALL
          SELECT t.id, t.parent_id, t.depth FROM inventory.tracked_units t JOIN up ON t.id = up.parent_id
          WHERE up.depth > ${container.depth}::int AND t.depth = up.depth - 1
        )
        SELECT EXISTS (SELECT 1 FROM up WHERE id = ${container.id}::uuid) AS inside`,
  );
  return found?.inside === true;
}

/** Where a subtree goes: the new parent of its top unit, its tree's root, the top's depth, and the place. */
interface SubtreeMove {
  /** The top of the subtree, as read under its row lock: its root, depth and place are the subtree's before the change. */
  top: TrackedUnitRow;
  parentId: string | null;
  rootId: string;
  depth: number;
  to: Place;
  /** The top unit's cause when the place changes: DIRECT (moved) or ASSIGNED. */
  cause: UnitMoveCause.DIRECT | UnitMoveCause.ASSIGNED;
  history: History;
}

/**
 * The one statement that changes a subtree: every live unit in it gets the new root, its depth
 * shifted by the top's, the new place, a new version; the top unit gets its new parent. When the
 * place changes, one unit_moves row per unit is inserted by the same statement: the top's with
 * `cause`, the others PARENT_MOVED, each linked to its parent's record of this operation, all
 * with the top's record as origin. Serves MoveTrackedUnit, AssignTrackedUnit (a child moving to
 * its parent's place, or not) and UnassignTrackedUnit (place unchanged, no move records).
 *
 * The UPDATE's WHERE says "still in this tree and live", which Postgres re-checks on a row
 * that changed since the statement began: a unit taken out of the tree meanwhile (with its own
 * subtree) is left alone and gets no record. A unit put into the subtree meanwhile is not seen,
 * stays behind, and the parent key refuses the statement, which then runs again.
 *
 * Move ids are derived from the unit ids and a salt of this statement (`moveId`), so a unit's
 * record names its parent's record by the parent's id alone: the records are written straight
 * from the UPDATE's RETURNING, without joining the subtree to itself (a join the planner, with no
 * estimate for a CTE, may run as nested loops: quadratic, 33 s of 48 s for 10,101 units).
 */
async function moveSubtree(tx: Db, m: SubtreeMove): Promise<{ units: number; move: UnitMoveRow | undefined }> {
  const top = m.top;
  const from = placeOf(top);
  const moves = !samePlace(from, m.to);
  const salt = uuidv7();
  const moveId = (unit: SQL) => sql`overlay(overlay(md5(${salt} || ${unit}::text) placing '4' from 13) placing '8' from 17)::uuid`;
  // A root's subtree is its whole tree; below a root, a walk down the parent links (each step
  // exactly one level deeper, so it ends).
  const [withSubtree, whereInSubtree] =
    top.parentId === null
      ? [sql`WITH`, sql`WHERE`]
      : [
          sql`WITH RECURSIVE sub AS (
                SELECT id, depth FROM inventory.tracked_units WHERE id = ${top.id}::uuid AND deleted_at IS NULL
                UNION ALL
                SELECT t.id, t.depth FROM inventory.tracked_units t JOIN sub s ON t.parent_id = s.id AND t.depth = s.depth + 1
              ),`,
          sql`FROM sub WHERE u.id = sub.id AND`,
        ];
  const [result] = await rows<{ units: number; move_id: string | null }>(
    tx,
    sql`${withSubtree} upd AS (
        UPDATE inventory.tracked_units u
        SET parent_id = CASE WHEN u.id = ${top.id}::uuid THEN ${m.parentId}::uuid ELSE u.parent_id END,
            root_id = ${m.rootId}::uuid,
            depth = u.depth + ${m.depth - top.depth}::int,
            warehouse_id = ${m.to.warehouseId}::uuid,
            location_id = ${m.to.locationId}::uuid,
            last_moved_at = CASE WHEN ${moves}::boolean THEN now() ELSE u.last_moved_at END,
            updated_at = now(),
            version = u.version + 1
        ${whereInSubtree} u.root_id = ${top.rootId}::uuid AND u.deleted_at IS NULL
        RETURNING u.id, u.parent_id, u.item_id, u.depth
      ),
      ins AS (
        INSERT INTO inventory.unit_moves (id, unit_id, item_id, from_warehouse_id, from_location_id, to_warehouse_id, to_location_id,
                                          cause, parent_move_id, origin_move_id, moved_by, notes, request_id)
        SELECT ${moveId(sql`u.id`)}, u.id, u.item_id, ${from.warehouseId}::uuid, ${from.locationId}::uuid, ${m.to.warehouseId}::uuid, ${m.to.locationId}::uuid,
               CASE WHEN u.id = ${top.id}::uuid THEN ${m.cause}::smallint ELSE ${UnitMoveCause.PARENT_MOVED}::smallint END,
               CASE WHEN u.id = ${top.id}::uuid THEN NULL ELSE ${moveId(sql`u.parent_id`)} END,
               ${moveId(sql`${top.id}::uuid`)}, ${m.history.actor}, ${m.history.notes}, ${m.history.requestId}
        FROM upd u
        WHERE ${moves}::boolean
        ORDER BY u.depth, u.id
        RETURNING id, unit_id
      )
      SELECT (SELECT count(*) FROM upd)::int AS units, (SELECT id::text FROM ins WHERE unit_id = ${top.id}::uuid) AS move_id`,
  );
  const units = Number(result?.units ?? 0);
  // The top is locked by this transaction, so it is always in the subtree and updated.
  if (units === 0) throw new TreeChanged(`tracked unit ${top.id} was not where it was read`);
  if (!result?.move_id) return { units, move: undefined };
  const [move] = await tx.select().from(unitMoves).where(eq(unitMoves.id, result.move_id));
  return { units, move };
}

async function recordAssignment(
  tx: Db,
  a: { childId: string; previousParentId: string | null; parentId: string | null; history: History },
): Promise<UnitAssignmentRow> {
  const action = a.parentId === null ? AssignmentAction.UNASSIGN : a.previousParentId === null ? AssignmentAction.ASSIGN : AssignmentAction.REASSIGN;
  const [row] = await tx
    .insert(unitAssignments)
    .values({
      id: uuidv7(),
      childUnitId: a.childId,
      previousParentId: a.previousParentId,
      parentId: a.parentId,
      action,
      actor: a.history.actor,
      notes: a.history.notes,
      requestId: a.history.requestId,
    })
    .returning();
  return row!;
}

/** The keyset of both histories: the record's time in microseconds since the epoch, then its sequence. */
export type HistoryCursor = [micros: string, sequence: number];

interface TimeRange {
  start?: Date | undefined;
  end?: Date | undefined;
  newestFirst: boolean;
}

export interface UnitMoveFilter extends TimeRange {
  unitId?: string | undefined;
  itemId?: string | undefined;
  /** From or to this warehouse. */
  warehouseId?: string | undefined;
  /** From or to this location. */
  locationId?: string | undefined;
  causes: number[];
  movedBy?: string | undefined;
  originMoveId?: string | undefined;
}

export interface UnitAssignmentFilter extends TimeRange {
  childUnitId?: string | undefined;
  /** The previous or the new parent. */
  parentUnitId?: string | undefined;
  actions: number[];
}

/** The keyset terms and order of a history table, by (time, sequence), ascending unless newest first. */
function historyPage(time: PgColumn, sequence: PgColumn, range: TimeRange, after: HistoryCursor | undefined) {
  const key = sql`((extract(epoch from ${time}) * 1000000)::bigint, ${sequence})`;
  const cursor = after ? sql`(${after[0]}::bigint, ${after[1]}::bigint)` : undefined;
  return {
    micros: sql<string>`(extract(epoch from ${time}) * 1000000)::bigint::text`,
    conditions: [
      range.start ? sql`${time} >= ${range.start.toISOString()}::timestamptz` : undefined,
      range.end ? sql`${time} < ${range.end.toISOString()}::timestamptz` : undefined,
      cursor ? (range.newestFirst ? sql`${key} < ${cursor}` : sql`${key} > ${cursor}`) : undefined,
    ],
    order: range.newestFirst ? [desc(time), desc(sequence)] : [asc(time), asc(sequence)],
  };
}

export async function listUnitMoves(
  db: Db,
  filter: UnitMoveFilter,
  after: HistoryCursor | undefined,
  limit: number,
): Promise<{ row: UnitMoveRow; cursor: HistoryCursor }[]> {
  const page = historyPage(unitMoves.movedAt, unitMoves.sequence, filter, after);
  const found = await db
    .select({ row: unitMoves, micros: page.micros })
    .from(unitMoves)
    .where(
      and(
        filter.unitId ? eq(unitMoves.unitId, filter.unitId) : undefined,
        filter.itemId ? eq(unitMoves.itemId, filter.itemId) : undefined,
        filter.warehouseId ? or(eq(unitMoves.fromWarehouseId, filter.warehouseId), eq(unitMoves.toWarehouseId, filter.warehouseId)) : undefined,
        filter.locationId ? or(eq(unitMoves.fromLocationId, filter.locationId), eq(unitMoves.toLocationId, filter.locationId)) : undefined,
        filter.causes.length > 0 ? inArray(unitMoves.cause, filter.causes) : undefined,
        filter.movedBy ? eq(unitMoves.movedBy, filter.movedBy) : undefined,
        filter.originMoveId ? eq(unitMoves.originMoveId, filter.originMoveId) : undefined,
        ...page.conditions,
      ),
    )
    .orderBy(...page.order)
    .limit(limit);
  return found.map((f) => ({ row: f.row, cursor: [f.micros, f.row.sequence] }));
}

export async function listUnitAssignments(
  db: Db,
  filter: UnitAssignmentFilter,
  after: HistoryCursor | undefined,
  limit: number,
): Promise<{ row: UnitAssignmentRow; cursor: HistoryCursor }[]> {
  const page = historyPage(unitAssignments.createdAt, unitAssignments.sequence, filter, after);
  const found = await db
    .select({ row: unitAssignments, micros: page.micros })
    .from(unitAssignments)
    .where(
      and(
        filter.childUnitId ? eq(unitAssignments.childUnitId, filter.childUnitId) : undefined,
        filter.parentUnitId ? or(eq(unitAssignments.parentId, filter.parentUnitId), eq(unitAssignments.previousParentId, filter.parentUnitId)) : undefined,
        filter.actions.length > 0 ? inArray(unitAssignments.action, filter.actions) : undefined,
        ...page.conditions,
      ),
    )
    .orderBy(...page.order)
    .limit(limit);
  return found.map((f) => ({ row: f.row, cursor: [f.micros, f.row.sequence] }));
}

import {
  actorOf,
  DESCRIPTION_MAX,
  NAME_MAX,
  FailedPrecondition,
  NotFound,
  audited,
  checkFields,
  decodePageToken,
  fieldsToUpdate,
  inTransaction,
  invalid,
  listPage,
  messageCodec,
  notFound,
  presentIn,
  registration,
  type AuditFacts,
  type CallContext,
  type FieldChecker,
  type ServiceImpl,
  pageFrom,
} from "@inv/platform";
import { TrackedUnitSchema, TrackedUnitService, type TrackedUnit } from "@inv/gen/inventory/v1/tracked_unit_pb";
import { QUERY_MAX, checkAttributes } from "../domain/item-rules.js";
import {
  ACTOR_FILTER_MAX,
  HISTORY_PAGE_DEFAULT,
  HISTORY_PAGE_MAX,
  SERIAL_NUMBER_MAX,
  checkActionFilter,
  checkCauseFilter,
  checkTimeRange,
} from "../domain/unit-rules.js";
import { toTrackedUnit, toUnitAssignment, toUnitMove } from "../tracked-unit-mapping.js";
import { createOnce } from "../store/item-types.js";
import {
  assignUnit,
  createUnit,
  deleteUnit,
  findUnit,
  listUnitAssignments,
  listUnitMoves,
  listUnits,
  moveUnit,
  retryingTreeChanges,
  unassignUnit,
  updateUnit,
  type History,
  type HistoryCursor,
  type Place,
  type UnitChanges,
  type UnitFilter,
  type UnitView,
} from "../store/tracked-units.js";
import { prefetchPlaces, requireActivePlace, type PlaceFields, type WarehouseDirectory } from "../warehouses.js";
import type { InventoryDeps } from "./deps.js";

type Impl = ServiceImpl<typeof TrackedUnitService>;

const codec = messageCodec(TrackedUnitSchema);
const MUTABLE = ["serial_number", "label", "description", "attributes"];
/** Where a unit is, and what it is of, change only through their own RPCs (or never: the item). */
const NOT_HERE: Record<string, string> = {
  item_id: "tracked_unit.item_id cannot be changed once the unit exists",
  warehouse_id: "tracked_unit.warehouse_id changes only through MoveTrackedUnit",
  location_id: "tracked_unit.location_id changes only through MoveTrackedUnit",
  parent_unit_id: "tracked_unit.parent_unit_id changes only through AssignTrackedUnit and UnassignTrackedUnit",
};

/** What the audit trail records about a change to a unit. */
const facts = (unit: UnitView, more: Record<string, unknown> = {}): AuditFacts => ({
  resourceType: "TrackedUnit",
  resourceId: unit.id,
  details: { itemId: unit.itemId, serialNumber: unit.serialNumber, ...more },
});

const historyOf = (ctx: CallContext, notes: string): History => ({ actor: actorOf(ctx.caller), notes, requestId: ctx.requestId });

/**
 * Checks that units may be placed here (requireActivePlace). The contract makes a missing
 * warehouse or location FAILED_PRECONDITION too, like an inactive one (the request names a place
 * that cannot hold units), where stock writes answer NOT_FOUND.
 */
async function requireUnitPlace(directory: WarehouseDirectory, place: Place, fields: PlaceFields): Promise<void> {
  try {
    await requireActivePlace(directory, place, fields);
  } catch (err) {
    if (!(err instanceof NotFound)) throw err;
    const reason = err.violation?.field === fields.warehouse ? "WAREHOUSE_NOT_FOUND" : "LOCATION_NOT_FOUND";
    throw new FailedPrecondition(err.message, err.violations, reason);
  }
}

const CREATE_PLACE = { warehouse: "tracked_unit.warehouse_id", location: "tracked_unit.location_id" };
const MOVE_PLACE = { warehouse: "to_warehouse_id", location: "to_location_id" };

/** The changes an update makes, from the fields its mask (or AIP-134) chose, each checked. */
function changesOf(v: FieldChecker, t: TrackedUnit, fields: readonly string[]): UnitChanges {
  const changes: UnitChanges = {};
  for (const field of fields) {
    if (field === "serial_number") changes.serialNumber = v.text("tracked_unit.serial_number", t.serialNumber, { max: SERIAL_NUMBER_MAX });
    else if (field === "label") changes.label = v.text("tracked_unit.label", t.label, { max: NAME_MAX });
    else if (field === "description") changes.description = v.text("tracked_unit.description", t.description, { max: DESCRIPTION_MAX });
    else changes.attributes = checkAttributes(v, "tracked_unit.attributes", t.attributes);
  }
  return changes;
}

/** The keyset cursor of a history page token, bound to the filter; anything of another shape is refused. */
function historyCursorOf(pageToken: string, filter: unknown): HistoryCursor | undefined {
  const cursor = decodePageToken(pageToken, filter);
  if (!cursor) return undefined;
  const [micros, sequence] = cursor;
  if (cursor.length !== 2 || typeof micros !== "string" || !/^-?\d{1,20}$/.test(micros) || typeof sequence !== "number") {
    throw invalid("page_token", "page_token", "page_token is malformed or was made for different filters", pageToken);
  }
  return [micros, sequence];
}

function historyPageSize(requested: number): number {
  if (requested < 0 || requested > HISTORY_PAGE_MAX) {
    throw invalid("page_size", "range", `page_size must be between 0 and ${HISTORY_PAGE_MAX}`, requested);
  }
  return requested || HISTORY_PAGE_DEFAULT;
}

const optional = (v: FieldChecker, field: string, value: string) => v.optionalId(field, value) ?? undefined;

export function trackedUnitHandlers({ db, warehouses }: InventoryDeps) {
  const createTrackedUnit: Impl["createTrackedUnit"] = async ({ trackedUnit: t, requestId }, ctx) => {
    if (!t) throw invalid("tracked_unit", "required", "tracked_unit is required");
    const { values, once } = checkFields((v) => {
      const parentId = v.optionalId("tracked_unit.parent_unit_id", t.parentUnitId);
      if (parentId === null && t.warehouseId === "") {
        v.fail("tracked_unit.warehouse_id", "required", "tracked_unit.warehouse_id is required unless tracked_unit.parent_unit_id is set");
      }
      const serialNumber = v.text("tracked_unit.serial_number", t.serialNumber, { max: SERIAL_NUMBER_MAX });
      const label = v.text("tracked_unit.label", t.label, { max: NAME_MAX });
      return {
        once: v.requestId("request_id", requestId),
        values: {
          itemId: v.id("tracked_unit.item_id", t.itemId),
          serialNumber,
          label: label || serialNumber,
          description: v.text("tracked_unit.description", t.description, { max: DESCRIPTION_MAX }),
          attributes: checkAttributes(v, "tracked_unit.attributes", t.attributes),
          parentId,
          warehouseId: v.optionalId("tracked_unit.warehouse_id", t.warehouseId),
          locationId: v.optionalId("tracked_unit.location_id", t.locationId),
          createdBy: actorOf(ctx.caller),
        },
      };
    });
    if (values.parentId === null && values.warehouseId !== null)
      await prefetchPlaces(warehouses, [{ warehouseId: values.warehouseId, locationId: values.locationId }]);
    const request = { scope: "CreateTrackedUnit", requestId: once, payload: values, codec };
    const history = historyOf(ctx, "");
    const trackedUnit = await retryingTreeChanges("creating the unit", () =>
      createOnce(db, request, (tx) =>
        inTransaction(tx, async (t2) => {
          const row = await createUnit(t2, values, history, (place) => requireUnitPlace(warehouses, place, CREATE_PLACE));
          await ctx.audit(t2, facts(row, { parentUnitId: row.parentId ?? "", warehouseId: row.warehouseId, locationId: row.locationId ?? "" }));
          return toTrackedUnit(row);
        }),
      ),
    );
    return { trackedUnit };
  };

  const getTrackedUnit: Impl["getTrackedUnit"] = async ({ id }) => {
    const key = checkFields((v) => v.id("id", id));
    const row = await findUnit(db, key);
    if (!row) throw notFound("tracked unit", key);
    return { trackedUnit: toTrackedUnit(row) };
  };

  const listTrackedUnits: Impl["listTrackedUnits"] = async (req) => {
    const filter: UnitFilter = checkFields((v) => ({
      itemId: optional(v, "item_id", req.itemId),
      itemTypeId: optional(v, "item_type_id", req.itemTypeId),
      warehouseId: optional(v, "warehouse_id", req.warehouseId),
      locationId: optional(v, "location_id", req.locationId),
      parentUnitId: optional(v, "parent_unit_id", req.parentUnitId),
      topLevelOnly: req.topLevelOnly,
      serialNumber: v.text("serial_number", req.serialNumber, { max: SERIAL_NUMBER_MAX }) || undefined,
      query: v.text("query", req.query, { max: QUERY_MAX }) || undefined,
      insideUnitId: optional(v, "inside_unit_id", req.insideUnitId),
      showDeleted: req.showDeleted,
    }));
    const page = await listPage(req, filter, (query) => listUnits(db, query), toTrackedUnit);
    return { trackedUnits: page.items, nextPageToken: page.nextPageToken };
  };

  const updateTrackedUnit: Impl["updateTrackedUnit"] = async ({ trackedUnit: t, updateMask }, ctx) => {
    if (!t) throw invalid("tracked_unit", "required", "tracked_unit is required");
    const fixed = updateMask?.paths.find((path) => path in NOT_HERE);
    if (fixed) throw invalid("update_mask", "immutable_field", NOT_HERE[fixed]!, fixed);
    const fields = fieldsToUpdate(updateMask?.paths, { mutable: MUTABLE, present: presentIn(TrackedUnitSchema, t) });
    const { id, changes } = checkFields((v) => ({ id: v.id("tracked_unit.id", t.id), changes: changesOf(v, t, fields) }));
    const row = await audited(
      db,
      ctx,
      (tx) => updateUnit(tx, id, t.etag, changes),
      (r) => facts(r, { fields }),
    );
    return { trackedUnit: toTrackedUnit(row) };
  };

  const deleteTrackedUnit: Impl["deleteTrackedUnit"] = async ({ id, etag }, ctx) => {
    const key = checkFields((v) => v.id("id", id));
    const row = await retryingTreeChanges("deleting the unit", () =>
      audited(
        db,
        ctx,
        (tx) => deleteUnit(tx, key, etag, historyOf(ctx, "")),
        (r) => facts(r),
      ),
    );
    return { trackedUnit: toTrackedUnit(row) };
  };

  const moveTrackedUnit: Impl["moveTrackedUnit"] = async (req, ctx) => {
    const cmd = checkFields((v) => ({
      id: v.id("id", req.id),
      to: { warehouseId: v.id("to_warehouse_id", req.toWarehouseId), locationId: v.optionalId("to_location_id", req.toLocationId) },
      notes: v.text("notes", req.notes, { max: DESCRIPTION_MAX }),
    }));
    await prefetchPlaces(warehouses, [cmd.to]);
    const history = historyOf(ctx, cmd.notes);
    const moved = await retryingTreeChanges("moving the unit", () =>
      audited(
        db,
        ctx,
        (tx) => moveUnit(tx, { id: cmd.id, to: cmd.to, history }, () => requireUnitPlace(warehouses, cmd.to, MOVE_PLACE)),
        (r) =>
          facts(r.unit, {
            toWarehouseId: cmd.to.warehouseId,
            toLocationId: cmd.to.locationId ?? "",
            moveId: r.move?.id ?? "",
            carriedUnitCount: r.carried,
          }),
      ),
    );
    return { trackedUnit: toTrackedUnit(moved.unit), move: moved.move && toUnitMove(moved.move), carriedUnitCount: BigInt(moved.carried) };
  };

  const assignTrackedUnit: Impl["assignTrackedUnit"] = async (req, ctx) => {
    const cmd = checkFields((v) => ({
      childId: v.id("id", req.id),
      parentId: v.id("parent_unit_id", req.parentUnitId),
      notes: v.text("notes", req.notes, { max: DESCRIPTION_MAX }),
    }));
    const history = historyOf(ctx, cmd.notes);
    const assigned = await retryingTreeChanges("assigning the unit", () =>
      audited(
        db,
        ctx,
        (tx) => assignUnit(tx, { childId: cmd.childId, parentId: cmd.parentId, history }),
        (r) =>
          facts(r.unit, {
            parentUnitId: cmd.parentId,
            previousParentUnitId: r.assignment?.previousParentId ?? "",
            moveId: r.move?.id ?? "",
            carriedUnitCount: r.carried,
          }),
      ),
    );
    return {
      trackedUnit: toTrackedUnit(assigned.unit),
      assignment: assigned.assignment && toUnitAssignment(assigned.assignment),
      move: assigned.move && toUnitMove(assigned.move),
      carriedUnitCount: BigInt(assigned.carried),
    };
  };

  const unassignTrackedUnit: Impl["unassignTrackedUnit"] = async (req, ctx) => {
    const cmd = checkFields((v) => ({ childId: v.id("id", req.id), notes: v.text("notes", req.notes, { max: DESCRIPTION_MAX }) }));
    const history = historyOf(ctx, cmd.notes);
    const unassigned = await retryingTreeChanges("unassigning the unit", () =>
      audited(
        db,
        ctx,
        (tx) => unassignUnit(tx, { childId: cmd.childId, history }),
        (r) => facts(r.unit, { previousParentUnitId: r.assignment?.previousParentId ?? "" }),
      ),
    );
    return { trackedUnit: toTrackedUnit(unassigned.unit), assignment: unassigned.assignment && toUnitAssignment(unassigned.assignment) };
  };

  const listUnitMovesHandler: Impl["listUnitMoves"] = async (req) => {
    const filter = checkFields((v) => ({
      unitId: optional(v, "unit_id", req.unitId),
      itemId: optional(v, "item_id", req.itemId),
      warehouseId: optional(v, "warehouse_id", req.warehouseId),
      locationId: optional(v, "location_id", req.locationId),
      causes: checkCauseFilter(v, "causes", req.causes),
      movedBy: v.text("moved_by", req.movedBy, { max: ACTOR_FILTER_MAX }) || undefined,
      originMoveId: optional(v, "origin_move_id", req.originMoveId),
      ...checkTimeRange(v, req.startTime, req.endTime),
      newestFirst: req.newestFirst,
    }));
    const size = historyPageSize(req.pageSize);
    const found = await listUnitMoves(db, withDates(filter), historyCursorOf(req.pageToken, filter), size + 1);
    const { page, nextPageToken } = pageFrom(found, size, (f) => f.cursor, filter);
    return { moves: page.map((f) => toUnitMove(f.row)), nextPageToken };
  };

  const listUnitAssignmentsHandler: Impl["listUnitAssignments"] = async (req) => {
    const filter = checkFields((v) => ({
      childUnitId: optional(v, "child_unit_id", req.childUnitId),
      parentUnitId: optional(v, "parent_unit_id", req.parentUnitId),
      actions: checkActionFilter(v, "actions", req.actions),
      ...checkTimeRange(v, req.startTime, req.endTime),
      newestFirst: req.newestFirst,
    }));
    const size = historyPageSize(req.pageSize);
    const found = await listUnitAssignments(db, withDates(filter), historyCursorOf(req.pageToken, filter), size + 1);
    const { page, nextPageToken } = pageFrom(found, size, (f) => f.cursor, filter);
    return { assignments: page.map((f) => toUnitAssignment(f.row)), nextPageToken };
  };

  return {
    createTrackedUnit,
    getTrackedUnit,
    listTrackedUnits,
    updateTrackedUnit,
    deleteTrackedUnit,
    moveTrackedUnit,
    assignTrackedUnit,
    unassignTrackedUnit,
    listUnitMoves: listUnitMovesHandler,
    listUnitAssignments: listUnitAssignmentsHandler,
  } satisfies Impl;
}

/** The filter's range (ISO strings, as the page token binds them) as dates for the store. */
const withDates = <F extends { start: string | undefined; end: string | undefined }>(f: F) => ({
  ...f,
  start: f.start ? new Date(f.start) : undefined,
  end: f.end ? new Date(f.end) : undefined,
});

/** Binds TrackedUnitService to its handlers. */
export const trackedUnitService = (deps: InventoryDeps) => registration(TrackedUnitService, trackedUnitHandlers(deps));

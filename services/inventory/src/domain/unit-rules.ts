import { AssignmentActionSchema, UnitMoveCauseSchema, type AssignmentAction, type UnitMoveCause } from "@inv/gen/inventory/v1/tracked_unit_pb";
import { FailedPrecondition, type FieldChecker } from "@inv/platform";

/**
 * The rules particular to tracked units; names, descriptions, ids and attributes follow the
 * platform's and the item catalogue's limits. The numbers are the ones the comments of
 * proto/inventory/v1/tracked_unit.proto state.
 */

/** Manufacturer serial numbers: up to 128 characters, unique among the live units of an item. */
export const SERIAL_NUMBER_MAX = 128;
/** ListUnitMoves and ListUnitAssignments: 0 means 100, at most 1000. */
export const HISTORY_PAGE_DEFAULT = 100;
export const HISTORY_PAGE_MAX = 1000;
/** The moved_by filter of ListUnitMoves: an actor id, at most as long as the ones we write. */
export const ACTOR_FILTER_MAX = 200;

export const checkCauseFilter = (v: FieldChecker, field: string, causes: readonly UnitMoveCause[]) => v.enumFilter(field, causes, UnitMoveCauseSchema);

export const checkActionFilter = (v: FieldChecker, field: string, actions: readonly AssignmentAction[]) => v.enumFilter(field, actions, AssignmentActionSchema);

/** A history date range: each end optional; when both are given, end_time must be after start_time. */
export function checkTimeRange(
  v: FieldChecker,
  start: Parameters<FieldChecker["timestamp"]>[1],
  end: Parameters<FieldChecker["timestamp"]>[1],
): { start: string | undefined; end: string | undefined } {
  // The same rule and constraint as ListMovements and the movement report.
  const { start: from, end: to } = v.timeRange({ start: "start_time", end: "end_time" }, start, end);
  return { start: from?.toISOString(), end: to?.toISOString() };
}

/** FAILED_PRECONDITION UNIT_CYCLE: the parent is the child itself, or inside it. */
export const unitCycle = (childId: string, parentId: string) =>
  new FailedPrecondition(
    parentId === childId
      ? `tracked unit ${childId} cannot be put inside itself`
      : `tracked unit ${parentId} is inside tracked unit ${childId}: putting ${childId} into it would make a cycle`,
    { field: "parent_unit_id", value: parentId, constraint: "not_inside_child" },
    "UNIT_CYCLE",
  );

/** FAILED_PRECONDITION UNIT_NOT_EMPTY: a unit that contains others cannot be deleted. */
export const unitNotEmpty = (id: string, children: number) =>
  new FailedPrecondition(
    `tracked unit ${id} contains ${children} unit(s); take them out (UnassignTrackedUnit) or delete them first`,
    { field: "id", value: id, constraint: "empty" },
    "UNIT_NOT_EMPTY",
  );

/** FAILED_PRECONDITION UNIT_INSIDE_PARENT: only a top-level unit moves on its own. */
export const unitInsideParent = (id: string, parentId: string) =>
  new FailedPrecondition(
    `tracked unit ${id} is inside tracked unit ${parentId} and goes where it goes; unassign it first to move it on its own`,
    { field: "id", value: id, constraint: "top_level" },
    "UNIT_INSIDE_PARENT",
  );

/** FAILED_PRECONDITION: a unit created inside a parent is at the parent's place, not the one the request named. */
export const notAtParentPlace = (field: string, given: string, parentId: string, parentValue: string) =>
  new FailedPrecondition(
    `${field} must be empty or the parent's (tracked unit ${parentId} is at ${parentValue || "no location"}): a unit inside another is where its parent is`,
    { field, value: given, constraint: "parent_place" },
    "PARENT_PLACE_MISMATCH",
  );

/** FAILED_PRECONDITION ITEM_NOT_ACTIVE: new units are made only of active items. */
export const itemNotActive = (id: string, field: string) =>
  new FailedPrecondition(`item ${id} is not active: no new units of it can be tracked`, { field, value: id, constraint: "active" }, "ITEM_NOT_ACTIVE");

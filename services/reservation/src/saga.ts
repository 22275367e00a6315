import { status } from "@grpc/grpc-js";
import { ShortageReason } from "@inv/gen/common/v1/allocation_pb";
import { HoldState, type Hold } from "@inv/gen/inventory/v1/hold_pb";
import { FailureReason } from "@inv/gen/reservation/v1/reservation_pb";
import { RemoteError, type Db } from "@inv/platform";
import type { StockHolds } from "./inventory.js";
import { linesFromHold, shortagesFromHold } from "./mapping.js";
import { findReservation, transition, type Changes } from "./store/reservations.js";
import { Status, type ReservationRow, type ShortageJson, type StatusCode } from "./store/schema.js";
import { byPriority, type WarehouseList } from "./warehouses.js";

/**
 * The steps of a reservation that cross into inventory, shared by the handlers and the sweeper.
 * Each step asks inventory first (every HoldService call is idempotent by reservation id), then
 * records what inventory said with a conditional update of the reservation (from the states the
 * step starts in), so a step cut off anywhere can be run again, by the caller's retry or by the
 * sweeper, and ends in the same place.
 */
export interface Saga {
  db: Db;
  holds: StockHolds;
  warehouses: WarehouseList;
}

/** What every move out of PENDING/ACTIVE sets: no expiry; and no step under way, once it is final. */
const ENDED = { expireAt: null };
const SETTLED = { step: "" } as const;

/**
 * Asks inventory to hold a PENDING reservation's stock, then records ACTIVE (with where each line
 * is held) or FAILED (with the shortages). Throws UNAVAILABLE when inventory cannot be reached:
 * the reservation stays PENDING, and the caller undoes it (undoPending) or the sweeper repairs it.
 */
export async function placeHold(saga: Saga, row: ReservationRow): Promise<ReservationRow> {
  const active = await saga.warehouses.active();
  const named = new Set(row.warehouseIds);
  // Allocation follows the warehouses' priorities, among the named ones when the caller named any.
  const warehouseIds = (row.warehouseIds.length > 0 ? active.filter((w) => named.has(w.id)) : active).sort(byPriority).map((w) => w.id);
  if (warehouseIds.length === 0) return settle(saga, row, undefined);
  const hold = await saga.holds.hold({
    reservationId: row.id,
    lines: row.lines.map((l) => ({ ...(l.itemId ? { itemId: l.itemId } : { sku: l.sku }), quantity: l.quantity })),
    warehouseIds,
    strategy: row.strategy,
    allowSplit: row.allowSplit,
  });
  return settle(saga, row, hold);
}

/**
 * Records a PENDING reservation's hold as inventory has it (undefined: no active warehouse to hold
 * in). Returns the reservation as it is after: if it had moved on meanwhile (cancelled while its
 * hold was being taken), as that left it.
 */
export async function settle(saga: Saga, row: ReservationRow, hold: Hold | undefined, db: Db = saga.db): Promise<ReservationRow> {
  let changes: Changes;
  if (!hold) {
    const shortages: ShortageJson[] = row.lines.map((l) => ({
      lineIndex: l.lineIndex,
      itemId: l.itemId,
      sku: l.sku,
      requested: l.quantity,
      available: 0,
      reason: ShortageReason.NO_ACTIVE_WAREHOUSE,
    }));
    changes = failed(FailureReason.SHORTAGE, "no active warehouse to reserve in", shortages);
  } else if (hold.state === HoldState.HELD) {
    changes = { status: Status.ACTIVE, lines: linesFromHold(row.lines, hold, row.allowSplit) };
  } else if (hold.state === HoldState.FAILED) {
    const shortages = shortagesFromHold(hold);
    const unknown = shortages.filter((s) => s.reason === ShortageReason.UNKNOWN_ITEM);
    changes = {
      ...(unknown.length > 0
        ? failed(FailureReason.INVALID_REQUEST, `${unknown.length} of ${row.lines.length} lines name no known item`, shortages)
        : failed(FailureReason.SHORTAGE, `${shortages.length} of ${row.lines.length} lines short`, shortages)),
      // The lines' items as inventory resolved them (a line given by SKU gets its item id), nothing held.
      lines: linesFromHold(row.lines, hold, row.allowSplit),
    };
  } else {
    // Released before it was taken: the step was undone (by undoPending or the sweeper).
    changes = failed(FailureReason.INVENTORY_ERROR, "the hold was withdrawn before it was taken");
  }
  return (await transition(db, row.id, [Status.PENDING], changes)) ?? (await current(db, row.id));
}

const failed = (reason: FailureReason, message: string, shortages: ShortageJson[] = []): Changes => ({
  status: Status.FAILED,
  failureReason: reason,
  failureMessage: message,
  shortages,
  ...ENDED,
});

/**
 * Undoes a PENDING reservation whose hold could not be placed (inventory unreachable): releases
 * the hold, which also records a released one if none was taken, so that a HoldStock still in
 * flight holds nothing, then records FAILED. When inventory cannot be reached for that either,
 * the reservation stays PENDING for the sweeper.
 */
export async function undoPending(saga: Saga, row: ReservationRow): Promise<ReservationRow | undefined> {
  try {
    await saga.holds.release(row.id, "inventory did not answer in time");
  } catch {
    return undefined;
  }
  return failReleased(saga.db, row.id, "inventory could not be reached; nothing is held");
}

/**
 * Records FAILED for a reservation whose hold this call has just released while it was PENDING.
 * From ACTIVE too, and whatever step is marked: a repair running beside it (the sweeper, or the
 * Reserve call it took over from) may have recorded ACTIVE from the hold as it read it before the
 * release; that hold is gone now, and an ACTIVE reservation without one would let another take
 * its stock (an oversell). Once released, a hold is never taken again, so FAILED is the truth.
 */
async function failReleased(db: Db, id: string, message: string): Promise<ReservationRow> {
  return (
    (await transition(db, id, [Status.PENDING, Status.ACTIVE], { ...failed(FailureReason.INVENTORY_ERROR, message), ...SETTLED })) ?? (await current(db, id))
  );
}

/**
 * Ends a PENDING or ACTIVE reservation past its expiry: releases its hold, then records EXPIRED.
 * If inventory says the hold was committed meanwhile (a confirm whose answer was cut off), the
 * reservation is recorded CONFIRMED instead: the step that got furthest wins.
 */
export async function expire(saga: Saga, row: ReservationRow, db: Db = saga.db): Promise<ReservationRow> {
  try {
    await saga.holds.release(row.id, "expired");
  } catch (err) {
    if (!wrongHoldState(err)) throw err;
    return finishFromHold(saga, row, db);
  }
  const expired = await transition(db, row.id, [Status.PENDING, Status.ACTIVE], {
    status: Status.EXPIRED,
    cancelReason: "expired",
    cancelledAt: row.expireAt,
    ...ENDED,
    ...SETTLED,
  });
  return expired ?? (await current(db, row.id));
}

/**
 * Settles a reservation that needs it and has no step marked: a PENDING one is repaired (its hold
 * may have been taken, or have failed, before it expired), an ACTIVE one past its expiry expired.
 */
export const settleStale = (saga: Saga, row: ReservationRow, db: Db = saga.db): Promise<ReservationRow> =>
  row.status === Status.PENDING ? repairPending(saga, row, db) : expire(saga, row, db);

/**
 * Repairs a reservation left PENDING (a Reserve cut off after recording it): asks inventory for
 * the hold and finishes the step (ACTIVE or FAILED as the hold is), or undoes it when inventory
 * never took one (releasing first, so a late hold holds nothing). Past its expiry it is expired.
 */
export async function repairPending(saga: Saga, row: ReservationRow, db: Db = saga.db): Promise<ReservationRow> {
  const hold = await saga.holds.get(row.id);
  const expired = row.expireAt !== null && row.expireAt.getTime() <= Date.now();
  if (hold?.state === HoldState.HELD && !expired) return settle(saga, row, hold, db);
  if (hold?.state === HoldState.FAILED) return settle(saga, row, hold, db);
  if (expired) return expire(saga, row, db);
  await saga.holds.release(row.id, "the reservation was not recorded in time");
  return failReleased(db, row.id, "the reservation was cut off before its stock was held");
}

/** Records what a hold that moved past HELD says of the reservation: committed is CONFIRMED, restocked is CANCELLED. */
async function finishFromHold(saga: Saga, row: ReservationRow, db: Db): Promise<ReservationRow> {
  const hold = await saga.holds.get(row.id);
  if (hold?.state === HoldState.COMMITTED) {
    return (
      (await transition(db, row.id, [Status.PENDING, Status.ACTIVE], { status: Status.CONFIRMED, confirmedAt: new Date(), ...ENDED, ...SETTLED })) ??
      (await current(db, row.id))
    );
  }
  if (hold?.state === HoldState.RESTOCKED) {
    return (
      (await transition(db, row.id, [Status.PENDING, Status.ACTIVE, Status.CONFIRMED], {
        status: Status.CANCELLED,
        cancelReason: hold.releaseReason || "restocked",
        cancelledAt: new Date(),
        ...ENDED,
      })) ?? (await current(db, row.id))
    );
  }
  return current(db, row.id);
}

/** A confirm or cancel under way: marked on the reservation before inventory is asked, cleared when recorded. */
export type Step = "confirm" | "cancel";

/** What a step's outcome records: the states it may still be recorded from, and the changes. */
export interface Outcome {
  from: StatusCode[];
  changes: Changes;
}

/**
 * Marks a step under way, from the states it starts in, only while the reservation has not
 * expired and no other step is under way (the same one may be: a retry, or a concurrent call of
 * the same kind): the row marked, or undefined when it had moved on. A cancel records its reason
 * now, so a sweeper that finishes it gives the same one.
 */
export function markStep(db: Db, row: ReservationRow, step: Step, reason = ""): Promise<ReservationRow | undefined> {
  const from: StatusCode[] = step === "confirm" ? [Status.ACTIVE] : [Status.PENDING, Status.ACTIVE, Status.CONFIRMED];
  return transition(db, row.id, from, step === "cancel" ? { step, cancelReason: reason } : { step }, { unexpired: true, steps: ["", step] });
}

/**
 * Asks inventory to do a marked step (again: every call is idempotent by reservation id) and says
 * what to record (recordOutcome). A step on a reservation that has moved on only clears its mark. A confirm commits the hold; if inventory released it meanwhile (it expired, or a
 * cancel won), the step is dropped and the reservation stays as it is. A cancel releases the hold,
 * or restocks it when it was committed (a confirmed reservation, or a confirm cut off before it
 * was recorded).
 */
export async function runStep(saga: Saga, row: ReservationRow): Promise<Outcome> {
  const reason = row.cancelReason || "cancelled";
  // Already where the step leads (another call recorded it), or somewhere it cannot start from: only the mark is left.
  const startsFrom: readonly number[] = row.step === "confirm" ? [Status.ACTIVE] : [Status.PENDING, Status.ACTIVE, Status.CONFIRMED];
  if (!startsFrom.includes(row.status)) return { from: [row.status as StatusCode], changes: { step: "" } };
  const cancelled: Outcome = {
    from: [Status.PENDING, Status.ACTIVE, Status.CONFIRMED],
    changes: { status: Status.CANCELLED, cancelledAt: new Date(), step: "", ...ENDED },
  };
  if (row.step === "confirm") {
    try {
      await saga.holds.commit(row.id, row.orderId);
      return { from: [Status.ACTIVE], changes: { status: Status.CONFIRMED, confirmedAt: new Date(), step: "", ...ENDED } };
    } catch (err) {
      if (!wrongHoldState(err)) throw err;
    }
    const hold = await saga.holds.get(row.id);
    return hold?.state === HoldState.RESTOCKED ? cancelled : { from: [row.status as StatusCode], changes: { step: "" } };
  }
  if (row.status !== Status.CONFIRMED) {
    try {
      await saga.holds.release(row.id, reason);
      return cancelled;
    } catch (err) {
      if (!wrongHoldState(err)) throw err;
    }
  }
  await saga.holds.restock(row.id, reason);
  return cancelled;
}

/**
 * Records a step's outcome (with `record`, e.g. one that writes the call's audit record too), or,
 * when the reservation has moved on meanwhile, at least clears the step's mark, so that nothing is
 * left marked that the sweeper would take up again and again. The row after, or undefined when
 * the outcome did not apply.
 */
export async function recordOutcome(
  db: Db,
  row: ReservationRow,
  outcome: Outcome,
  record: (from: StatusCode[], changes: Changes) => Promise<ReservationRow | undefined> = (from, changes) => transition(db, row.id, from, changes),
): Promise<ReservationRow | undefined> {
  const after = await record(outcome.from, outcome.changes);
  if (!after) await transition(db, row.id, ALL_STATUSES, { step: "" }, { steps: [row.step] });
  return after;
}

const ALL_STATUSES: StatusCode[] = Object.values(Status);

/** Inventory refused because the hold is in another state (HOLD_STATE). */
export const wrongHoldState = (err: unknown) => err instanceof RemoteError && err.code === status.FAILED_PRECONDITION && err.reason === "HOLD_STATE";

async function current(db: Db, id: string): Promise<ReservationRow> {
  const row = await findReservation(db, id);
  if (!row) throw new Error(`reservation ${id} vanished`);
  return row;
}

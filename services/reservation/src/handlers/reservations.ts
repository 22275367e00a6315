import { FailureReason, ReservationService } from "@inv/gen/reservation/v1/reservation_pb";
import {
  Aborted,
  AlreadyExists,
  FailedPrecondition,
  NotFound,
  Unavailable,
  actorOf,
  audited,
  checkFields,
  invalid,
  decodePageToken,
  notFound,
  pageSizeOf,
  payloadHash,
  registration,
  requestIdReused,
  type CallContext,
  type ServiceImpl,
  pageFrom,
} from "@inv/platform";
import { randomUUID } from "node:crypto";
import { ShortageReason } from "@inv/gen/common/v1/allocation_pb";
import {
  MAX_WAREHOUSES,
  REASON_MAX,
  REFERENCE_MAX,
  checkExternalId,
  checkLines,
  checkNewExpiry,
  checkStrategy,
  checkTtl,
  type TtlBounds,
} from "../domain/rules.js";
import { toReservation } from "../mapping.js";
import { markStep, placeHold, recordOutcome, runStep, settleStale, undoPending, type Saga } from "../saga.js";
import {
  findByOrder,
  findByRequestId,
  findLiveByOrder,
  findReservation,
  insertPending,
  listReservations,
  statusAt,
  transition,
  type Changes,
  type ReservationCursor,
} from "../store/reservations.js";
import { Status, type ReservationRow, type StatusCode } from "../store/schema.js";

type Impl = ServiceImpl<typeof ReservationService>;

export interface ReservationDeps extends Saga {
  ttl: TtlBounds;
}

const STATUS_NAMES: Record<number, string> = { 1: "PENDING", 2: "ACTIVE", 3: "CONFIRMED", 4: "FULFILLED", 5: "CANCELLED", 6: "EXPIRED", 7: "FAILED" };

/** FAILED_PRECONDITION naming the state the reservation is in. */
const wrongState = (row: ReservationRow, now: StatusCode, wanted: string) =>
  new FailedPrecondition(
    `reservation ${row.id} is ${STATUS_NAMES[now]}: it cannot be ${wanted}`,
    { field: "id", value: row.id, constraint: "status" },
    `RESERVATION_${STATUS_NAMES[now]}`,
  );

/** ABORTED: another call's confirm or cancel of the reservation is under way; a retry gets the answer once it ended. */
const stepUnderWay = (row: ReservationRow) =>
  new Aborted(`a ${row.step} of reservation ${row.id} is under way; retry`, { field: "id", value: row.id, constraint: "step" }, "STEP_UNDER_WAY");

const facts = (row: Pick<ReservationRow, "id" | "orderId" | "status">, details: Record<string, unknown> = {}) => ({
  resourceType: "Reservation",
  resourceId: row.id,
  details: { orderId: row.orderId, status: STATUS_NAMES[row.status], ...details },
});

/** How many times Reserve looks again when a concurrent call for the same order got in first. */
const RESERVE_ATTEMPTS = 5;

export function reservationHandlers(deps: ReservationDeps) {
  const { db } = deps;

  const load = async (id: string) => {
    const checked = checkFields((v) => v.id("id", id));
    const row = await findReservation(db, checked);
    if (!row) throw notFound("reservation", checked);
    return row;
  };

  /** A transition recorded with its audit record; the row after, or undefined if it had moved on. */
  const record = (
    ctx: CallContext,
    row: ReservationRow,
    from: StatusCode[],
    changes: Changes,
    details?: Record<string, unknown>,
    opts: { unexpired?: boolean; steps?: readonly string[] } = {},
  ) =>
    audited(
      db,
      ctx,
      (tx) => transition(tx, row.id, from, changes, opts),
      (after) => facts(after ?? row, details),
    );

  const reserve: Impl["reserve"] = async (req, ctx) => {
    const cmd = checkFields((v) => ({
      orderId: checkExternalId(v, "order_id", req.orderId),
      customerId: checkExternalId(v, "customer_id", req.customerId),
      lines: checkLines(v, req.lines),
      ttlSeconds: checkTtl(v, "ttl", req.ttl, deps.ttl),
      strategy: checkStrategy(req.strategy),
      allowSplit: req.allowSplit,
      warehouseIds: (() => {
        if (req.warehouseIds.length > MAX_WAREHOUSES)
          v.fail("warehouse_ids", "max_items", `warehouse_ids must have at most ${MAX_WAREHOUSES} ids`, req.warehouseIds.length);
        return [...new Set(req.warehouseIds.slice(0, MAX_WAREHOUSES).map((id, i) => v.id(`warehouse_ids[${i}]`, id).toLowerCase()))];
      })(),
      requestId: v.requestId("request_id", req.requestId),
    }));
    const { orderId, requestId, ...rest } = cmd;
    const hash = payloadHash(rest);

    for (let attempt = 1; attempt <= RESERVE_ATTEMPTS; attempt++) {
      if (requestId !== "") {
        const made = await findByRequestId(db, requestId);
        if (made) {
          if (made.payloadHash !== hash || made.orderId !== orderId) throw requestIdReused(requestId);
          return { reservation: toReservation(await resume(made)), replayed: true };
        }
      }
      const now = new Date();
      const pending = {
        id: randomUUID(),
        orderId,
        customerId: cmd.customerId,
        lines: cmd.lines.map((l, n) => ({
          lineIndex: n,
          itemId: "id" in l.item ? l.item.id : "",
          sku: "sku" in l.item ? l.item.sku : "",
          quantity: l.quantity,
          allocations: [],
          explanation: "",
        })),
        strategy: cmd.strategy,
        allowSplit: cmd.allowSplit,
        warehouseIds: cmd.warehouseIds,
        ttlSeconds: cmd.ttlSeconds,
        payloadHash: hash,
        requestId,
        expireAt: new Date(now.getTime() + cmd.ttlSeconds * 1000),
        createdBy: actorOf(ctx.caller),
        totalQuantity: cmd.lines.reduce((n, l) => n + l.quantity, 0),
      };
      const audit = ctx.auditRow(facts({ ...pending, status: Status.PENDING }, { lines: pending.lines.length }));
      const row = await insertPending(db, pending, audit?.row);
      if (row) audit?.written();
      else {
        // The order has a live reservation (or the request id was used meanwhile): answer from it.
        const live = await findLiveByOrder(db, orderId);
        if (!live) continue;
        if (statusAt(live, now) === Status.EXPIRED) {
          // Ended by time but not yet by the sweeper: end it now, then the order may be reserved again.
          await settleStale(deps, live);
          continue;
        }
        if (live.payloadHash !== hash) {
          throw new AlreadyExists(
            `order ${orderId} already has a ${STATUS_NAMES[live.status]} reservation (${live.id}) with other lines or terms`,
            { field: "order_id", value: orderId, constraint: "one_live_reservation" },
            "ORDER_ALREADY_RESERVED",
          );
        }
        return { reservation: toReservation(await resume(live)), replayed: true };
      }
      const after = await take(row);
      const unknown =
        after.status === Status.FAILED && after.failureReason === FailureReason.INVALID_REQUEST
          ? after.shortages.find((s) => s.reason === ShortageReason.UNKNOWN_ITEM)
          : undefined;
      if (unknown) {
        const line = after.lines[unknown.lineIndex];
        const field = line?.itemId ? `lines[${unknown.lineIndex}].item_id` : `lines[${unknown.lineIndex}].sku`;
        const named = line?.itemId || line?.sku || "";
        throw new NotFound(`no item ${named} (${field}): nothing was reserved`, { field, value: named, constraint: "exists" }, "UNKNOWN_ITEM");
      }
      return { reservation: toReservation(after), replayed: false };
    }
    throw new AlreadyExists(
      `order ${orderId} is being reserved by another call; retry`,
      { field: "order_id", value: orderId, constraint: "one_live_reservation" },
      "ORDER_CONTENDED",
    );
  };

  /** Takes the hold of a PENDING reservation; when inventory cannot be reached, undoes it and says UNAVAILABLE. */
  async function take(row: ReservationRow): Promise<ReservationRow> {
    try {
      return await placeHold(deps, row);
    } catch (err) {
      if (err instanceof Unavailable) await undoPending(deps, row);
      throw err;
    }
  }

  /** A reservation found by a repeated Reserve: a PENDING one (an earlier call cut off) is finished first. */
  async function resume(row: ReservationRow): Promise<ReservationRow> {
    if (row.status !== Status.PENDING || statusAt(row, new Date()) !== Status.PENDING) return row;
    return take(row);
  }

  const getReservation: Impl["getReservation"] = async ({ id }) => ({ reservation: toReservation(await load(id)) });

  const getReservationByOrderId: Impl["getReservationByOrderId"] = async ({ orderId }) => {
    const id = checkFields((v) => checkExternalId(v, "order_id", orderId));
    const row = await findByOrder(db, id);
    if (!row) throw notFound("reservation of order", id, "order_id");
    return { reservation: toReservation(row) };
  };

  const listReservationsHandler: Impl["listReservations"] = async (req) => {
    const filter = checkFields((v) => {
      const startTime = v.timestamp("start_time", req.startTime);
      const endTime = v.timestamp("end_time", req.endTime);
      if (startTime && endTime && endTime.getTime() <= startTime.getTime())
        v.fail("end_time", "after_start", "end_time must be after start_time", endTime.toISOString());
      return {
        statuses: [...new Set(req.statuses)].filter((s) => s !== 0).sort(),
        customerId: req.customerId ? checkExternalId(v, "customer_id", req.customerId) : undefined,
        itemId: req.itemId ? v.id("item_id", req.itemId).toLowerCase() : undefined,
        createdFrom: startTime?.toISOString(),
        createdBefore: endTime?.toISOString(),
        expireBefore: v.timestamp("expire_before", req.expireBefore)?.toISOString(),
        newestFirst: req.newestFirst,
      };
    });
    const size = pageSizeOf(req.pageSize);
    const after = decodePageToken(req.pageToken, filter) as ReservationCursor | undefined;
    const date = (s: string | undefined) => (s ? new Date(s) : undefined);
    const found = await listReservations(
      db,
      { ...filter, createdFrom: date(filter.createdFrom), createdBefore: date(filter.createdBefore), expireBefore: date(filter.expireBefore) },
      after,
      size + 1,
    );
    const { page, nextPageToken } = pageFrom(found, size, (f) => f.cursor, filter);
    const now = new Date();
    return { reservations: page.map((f) => toReservation(f.row, now)), nextPageToken };
  };

  const confirmReservation: Impl["confirmReservation"] = async ({ id }, ctx) => {
    const row = await load(id);
    const now = statusAt(row, new Date());
    if (now === Status.CONFIRMED || now === Status.FULFILLED) return { reservation: toReservation(row) };
    if (now !== Status.ACTIVE) throw wrongState(row, now, "confirmed");
    return { reservation: toReservation(await finish(ctx, row, await markStep(db, row, "confirm"), "confirmed")) };
  };

  const cancelReservation: Impl["cancelReservation"] = async (req, ctx) => {
    const row = await load(req.id);
    const reason = checkFields((v) => v.text("reason", req.reason, { max: REASON_MAX, required: true }));
    const now = statusAt(row, new Date());
    if (now === Status.CANCELLED) return { reservation: toReservation(row) };
    if (now !== Status.PENDING && now !== Status.ACTIVE && now !== Status.CONFIRMED) throw wrongState(row, now, "cancelled");
    return { reservation: toReservation(await finish(ctx, row, await markStep(db, row, "cancel", reason), "cancelled")) };
  };

  /**
   * Runs a step marked on the reservation (undefined: it could not be marked, as the reservation
   * had moved on), and records its outcome with the call's audit record. When the step could not
   * happen (a confirm of a hold released meanwhile), FAILED_PRECONDITION names the state.
   */
  async function finish(ctx: CallContext, before: ReservationRow, marked: ReservationRow | undefined, wanted: string): Promise<ReservationRow> {
    if (!marked) {
      const fresh = await load(before.id);
      const state = statusAt(fresh, new Date());
      // A concurrent call of the same kind got there first: its answer is ours.
      if ((wanted === "confirmed" && (state === Status.CONFIRMED || state === Status.FULFILLED)) || (wanted === "cancelled" && state === Status.CANCELLED))
        return fresh;
      // A call of the other kind is under way: its outcome decides what this one may do.
      if (fresh.step !== "") throw stepUnderWay(fresh);
      throw wrongState(fresh, state, wanted);
    }
    const step = marked.step;
    const outcome = await runStep(deps, marked);
    // An outcome that changes no status (a confirm too late) only clears the step: nothing to audit as done.
    const after = await recordOutcome(db, marked, outcome, (from, changes) =>
      changes.status === undefined ? transition(db, marked.id, from, changes) : record(ctx, marked, from, changes, { step }),
    );
    const fresh = after ?? (await load(before.id));
    const state = statusAt(fresh, new Date());
    const done = wanted === "confirmed" ? state === Status.CONFIRMED || state === Status.FULFILLED : state === Status.CANCELLED;
    if (!done) throw wrongState(fresh, state, wanted);
    return fresh;
  }

  const fulfillReservation: Impl["fulfillReservation"] = async (req, ctx) => {
    const row = await load(req.id);
    const reference = checkFields((v) => v.text("reference", req.reference, { max: REFERENCE_MAX }));
    const now = statusAt(row, new Date());
    if (now === Status.FULFILLED) return { reservation: toReservation(row) };
    if (now !== Status.CONFIRMED) throw wrongState(row, now, "fulfilled");
    const fulfilled = { status: Status.FULFILLED, fulfilledAt: new Date(), fulfilReference: reference } as const;
    const after = await record(ctx, row, [Status.CONFIRMED], fulfilled, { reference }, { steps: [""] });
    if (after) return { reservation: toReservation(after) };
    const fresh = await load(row.id);
    const state = statusAt(fresh, new Date());
    if (state === Status.FULFILLED) return { reservation: toReservation(fresh) };
    // A cancel under way may be putting the stock back: fulfilling now would ship restocked units.
    if (fresh.step !== "") throw stepUnderWay(fresh);
    throw wrongState(fresh, state, "fulfilled");
  };

  const extendReservation: Impl["extendReservation"] = async (req, ctx) => {
    const row = await load(req.id);
    const at = checkFields((v) => checkNewExpiry(v, "expire_time", req.expireTime, deps.ttl, new Date()));
    const now = statusAt(row, new Date());
    if (now !== Status.ACTIVE && now !== Status.PENDING) throw wrongState(row, now, "extended");
    const current = row.expireAt!;
    if (at!.getTime() === current.getTime()) return { reservation: toReservation(row) };
    if (at!.getTime() < current.getTime()) {
      throw invalid("expire_time", "not_earlier", `expire_time must not be earlier than the current expiry ${current.toISOString()}`, at!.toISOString());
    }
    const after = await record(ctx, row, [Status.PENDING, Status.ACTIVE], { expireAt: at! }, { expireTime: at!.toISOString() }, { unexpired: true });
    if (!after) {
      const fresh = await load(row.id);
      throw wrongState(fresh, statusAt(fresh, new Date()), "extended");
    }
    return { reservation: toReservation(after) };
  };

  return {
    reserve,
    getReservation,
    getReservationByOrderId,
    listReservations: listReservationsHandler,
    confirmReservation,
    cancelReservation,
    fulfillReservation,
    extendReservation,
  } satisfies Impl;
}

export const reservationService = (deps: ReservationDeps) => registration(ReservationService, reservationHandlers(deps));

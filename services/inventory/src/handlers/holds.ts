import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AllocationStrategy, ShortageReason } from "@inv/gen/common/v1/allocation_pb";
import { ItemStatus } from "@inv/gen/inventory/v1/item_pb";
import { HoldSchema, HoldService, HoldState, type Hold } from "@inv/gen/inventory/v1/hold_pb";
import {
  actorOf,
  Aborted,
  FailedPrecondition,
  IDEMPOTENCY_KEY_PATTERN,
  Internal,
  checkFields,
  decodePageToken,
  inTransaction,
  notFound,
  pageSizeOf,
  payloadHash,
  registration,
  requestIdReused,
  type CallContext,
  type Db,
  type FieldChecker,
  type ServiceImpl,
  pageFrom,
} from "@inv/platform";
import { uuidv7 } from "uuidv7";
import { planHold, type PlanLine, type PlannedAllocation, type PlannedShortage } from "../domain/allocation.js";
import { MAX_BASKET_LINES, checkQuantity, checkReason, checkReference } from "../domain/stock-rules.js";
import { holdBatches, planningReads } from "../hold-batches.js";
import { invalidateStock } from "../stock-ops.js";
import { Kind, applyToLevel, type KindCode, type LevelChange } from "../store/levels.js";
import { findHold, insertHold, listHolds, lockHold, setHoldState, type HoldCursor, type StoredHold } from "../store/holds.js";
import type { HoldAllocationRow } from "../store/schema.js";
import { warehousesById, type WarehouseInfo } from "../warehouses.js";
import type { InventoryDeps } from "./deps.js";
import { itemFields, checkItemRef } from "../domain/item-rules.js";

type Impl = ServiceImpl<typeof HoldService>;

/** How many times a hold is planned again when the stock it planned on was taken meanwhile. */
const PLAN_ATTEMPTS = 50;
const MAX_WAREHOUSES = 100;

const checkReservationId = (v: FieldChecker, value: string) => {
  if (value === "") v.fail("reservation_id", "required", "reservation_id is required");
  else if (!IDEMPOTENCY_KEY_PATTERN.test(value))
    v.fail("reservation_id", "format", 'reservation_id must be 1 to 128 letters, digits, "-", "_", "." or ":"', value);
  return value;
};

/**
 * HoldService: stock set aside for reservations. Every write is idempotent by reservation id,
 * touches levels in level id order (so holds never deadlock each other) and changes each level
 * with one conditional UPDATE and its ledger entry (apply_to_level, migration 0002). A new hold
 * is read and planned here, then taken in one statement, batched with the holds that arrive
 * meanwhile (hold-batches.ts).
 */
export function holdHandlers({ db, cache, warehouses }: InventoryDeps) {
  const batches = holdBatches(db);
  const plannings = planningReads(db);
  const holdStock: Impl["holdStock"] = async (req, ctx) => {
    const cmd = checkFields((v) => {
      if (req.lines.length === 0) v.fail("lines", "required", "lines must have at least one line");
      if (req.lines.length > MAX_BASKET_LINES) v.fail("lines", "max_items", `lines must have at most ${MAX_BASKET_LINES} lines`, req.lines.length);
      if (req.warehouseIds.length === 0) v.fail("warehouse_ids", "required", "warehouse_ids must name at least one warehouse");
      if (req.warehouseIds.length > MAX_WAREHOUSES)
        v.fail("warehouse_ids", "max_items", `warehouse_ids must have at most ${MAX_WAREHOUSES} ids`, req.warehouseIds.length);
      return {
        reservationId: checkReservationId(v, req.reservationId),
        lines: req.lines.slice(0, MAX_BASKET_LINES).map((l, i) => ({
          item: checkItemRef(v, itemFields(`lines[${i}].`), l.itemId, l.sku),
          quantity: checkQuantity(v, `lines[${i}].quantity`, l.quantity),
        })),
        warehouseIds: [...new Set(req.warehouseIds.slice(0, MAX_WAREHOUSES).map((id, i) => v.id(`warehouse_ids[${i}]`, id)))],
        strategy: req.strategy === AllocationStrategy.MOST_STOCK ? AllocationStrategy.MOST_STOCK : AllocationStrategy.PRIORITY,
        allowSplit: req.allowSplit,
      };
    });
    const { reservationId, ...payload } = cmd;
    const hash = payloadHash(payload);
    const refs = {
      reservationId,
      itemIds: cmd.lines.flatMap((l) => ("id" in l.item ? [l.item.id] : [])),
      skus: cmd.lines.flatMap((l) => ("sku" in l.item ? [l.item.sku] : [])),
    };
    const [first, known] = await Promise.all([plannings.read({ ...refs, warehouseIds: cmd.warehouseIds }), warehousesById(warehouses, cmd.warehouseIds)]);
    // In the caller's priority order, the ones that may be allocated from.
    const active = cmd.warehouseIds.map((id) => known.get(id)).filter((w): w is WarehouseInfo => !!w && w.active && !w.deleted);
    const plannedFrom = { ...refs, warehouseIds: active.map((w) => w.id) };

    // Lines for one item are merged into the first line that names it.
    const merged = new Map<string, PlanLine>();
    const refused: PlannedShortage[] = [];
    for (const [i, line] of cmd.lines.entries()) {
      const item = first.items.find((it) => ("id" in line.item ? it.id === line.item.id : it.sku === line.item.sku));
      const base = {
        lineIndex: i,
        itemId: item?.id ?? ("id" in line.item ? line.item.id : ""),
        sku: item?.sku ?? ("sku" in line.item ? line.item.sku : ""),
        requested: line.quantity,
        available: 0,
      };
      if (!item) refused.push({ ...base, reason: ShortageReason.UNKNOWN_ITEM });
      else if (item.status !== ItemStatus.ACTIVE) refused.push({ ...base, reason: ShortageReason.ITEM_NOT_ACTIVE });
      else {
        const seen = merged.get(item.id);
        if (seen) seen.quantity += line.quantity;
        else merged.set(item.id, { lineIndex: i, itemId: item.id, sku: item.sku, quantity: line.quantity });
      }
    }
    const lines = [...merged.values()];
    const record = {
      reservationId,
      payloadHash: hash,
      strategy: cmd.strategy,
      allowSplit: cmd.allowSplit,
      warehouseIds: cmd.warehouseIds,
      lines: lines.map((l) => ({ lineIndex: l.lineIndex, itemId: l.itemId, sku: l.sku, quantity: l.quantity })),
    };

    let planning = first;
    for (let attempt = 1; attempt <= PLAN_ATTEMPTS; attempt++) {
      // The warehouses' levels come from the same read as the items; only active warehouses count.
      if (attempt > 1) planning = await plannings.read(plannedFrom);
      if (planning.held) return replay(await storedHold(reservationId), hash);
      const plan = planHold({
        lines,
        warehouses: active.map((w) => ({ id: w.id, code: w.code, priority: w.priority })),
        levels: planning.levels.filter((l) => plannedFrom.warehouseIds.includes(l.warehouseId)),
        strategy: cmd.strategy,
        allowSplit: cmd.allowSplit,
      });
      const shortages = [...refused, ...(plan.ok ? [] : plan.shortages)].sort((a, b) => a.lineIndex - b.lineIndex);
      // Nothing is held for a hold that falls short; it is recorded as FAILED, so that a retry gets the same answer.
      const failed = shortages.length > 0;
      const allocations = failed || !plan.ok ? [] : plan.allocations.map((a) => ({ ...allocationRow(reservationId, a), movementId: uuidv7() }));
      const hold = { ...record, state: failed ? HoldState.FAILED : HoldState.HELD, shortages };
      const facts = failed ? { state: "FAILED", shortages: shortages.length } : { state: "HELD", allocations: allocations.length };
      const audit = ctx.auditRow(holdFacts(reservationId, facts));
      const outcome = await batches.take({ hold, allocations, actor: actorOf(ctx.caller), requestId: ctx.requestId, audit: audit?.row });
      if (outcome.taken) {
        audit?.written();
        await invalidateAllocated(allocations);
        const stored = { hold: { ...hold, releaseReason: "", commitReference: "", createdAt: outcome.createdAt, updatedAt: outcome.createdAt }, allocations };
        return { hold: toHold(stored), replayed: false };
      }
      // "held": a concurrent call for the same reservation recorded its hold first (the next read says so);
      // "stale": the stock planned on was taken meanwhile: plan again from fresh numbers.
    }
    throw new Aborted(`the stock for reservation ${reservationId} kept being taken while it was held; retry`, undefined, "CONTENDED");
  };

  async function storedHold(reservationId: string): Promise<StoredHold> {
    const stored = await findHold(db, reservationId);
    if (!stored) throw new Internal(`hold ${reservationId} was recorded but cannot be read`);
    return stored;
  }

  /** The stored answer to a repeated HoldStock: the same hold, or ALREADY_EXISTS for other lines. */
  function replay(stored: StoredHold, hash: string) {
    // A reservation released before its hold arrived has an empty RELEASED hold: any lines get it.
    if (stored.hold.payloadHash !== "" && stored.hold.payloadHash !== hash) throw requestIdReused(stored.hold.reservationId, "reservation_id");
    return { hold: toHold(stored), replayed: true };
  }

  const getHold: Impl["getHold"] = async ({ reservationId }) => {
    const id = checkFields((v) => checkReservationId(v, reservationId));
    const stored = await findHold(db, id);
    if (!stored) throw notFound("hold of reservation", id, "reservation_id");
    return { hold: toHold(stored) };
  };

  const listHoldsHandler: Impl["listHolds"] = async (req) => {
    const filter = checkFields((v) => ({
      states: [...new Set(req.states)].sort(),
      itemId: req.itemId ? v.id("item_id", req.itemId) : undefined,
      warehouseId: req.warehouseId ? v.id("warehouse_id", req.warehouseId) : undefined,
      createdBefore: v.timestamp("created_before", req.createdBefore)?.toISOString(),
    }));
    const size = pageSizeOf(req.pageSize);
    const after = decodePageToken(req.pageToken, filter) as HoldCursor | undefined;
    const found = await listHolds(db, { ...filter, createdBefore: filter.createdBefore ? new Date(filter.createdBefore) : undefined }, after, size + 1);
    const { page, nextPageToken } = pageFrom(found, size, (f) => f.cursor, filter);
    return { holds: page.map((f) => toHold(f.stored)), nextPageToken };
  };

  const releaseHold: Impl["releaseHold"] = async (req, ctx) => {
    const { reservationId, reason } = checkFields((v) => ({
      reservationId: checkReservationId(v, req.reservationId),
      reason: checkReason(v, "reason", req.reason),
    }));
    const { stored, touched } = await inTransaction(db, async (tx) => {
      let current = await lockHold(tx, reservationId);
      if (!current) {
        // Released before it was held: record an empty RELEASED hold, so a late HoldStock holds nothing.
        await insertHold(tx, {
          reservationId,
          state: HoldState.RELEASED,
          strategy: AllocationStrategy.PRIORITY,
          allowSplit: false,
          warehouseIds: [],
          lines: [],
          releaseReason: reason,
        });
        current = await lockHold(tx, reservationId);
        await ctx.audit(tx, holdFacts(reservationId, { state: "RELEASED", before: "NONE" }));
        return { stored: current!, touched: [] };
      }
      const state = current.hold.state;
      if (state === HoldState.COMMITTED || state === HoldState.RESTOCKED) throw wrongState(reservationId, state, "released");
      if (state !== HoldState.HELD) return { stored: current, touched: [] };
      await applyAll(tx, current.allocations, (a) => holdChange(ctx, Kind.RELEASE, 0, -a.quantity, reservationId, reason || "released", ""));
      const hold = await setHoldState(tx, reservationId, { state: HoldState.RELEASED, releaseReason: reason });
      await ctx.audit(tx, holdFacts(reservationId, { state: "RELEASED", reason }));
      return { stored: { hold, allocations: current.allocations }, touched: current.allocations };
    });
    await invalidateAllocated(touched);
    return { hold: toHold(stored) };
  };

  const commitHold: Impl["commitHold"] = async (req, ctx) => {
    const { reservationId, reference } = checkFields((v) => ({
      reservationId: checkReservationId(v, req.reservationId),
      reference: checkReference(v, "reference", req.reference),
    }));
    const { stored, touched } = await inTransaction(db, async (tx) => {
      const current = await lockHold(tx, reservationId);
      if (!current) throw notFound("hold of reservation", reservationId, "reservation_id");
      const state = current.hold.state;
      if (state === HoldState.COMMITTED || state === HoldState.RESTOCKED) return { stored: current, touched: [] };
      if (state !== HoldState.HELD) throw wrongState(reservationId, state, "committed");
      await applyAll(tx, current.allocations, (a) => holdChange(ctx, Kind.COMMIT, -a.quantity, -a.quantity, reservationId, "committed", reference));
      const hold = await setHoldState(tx, reservationId, { state: HoldState.COMMITTED, commitReference: reference });
      await ctx.audit(tx, holdFacts(reservationId, { state: "COMMITTED", reference }));
      return { stored: { hold, allocations: current.allocations }, touched: current.allocations };
    });
    await invalidateAllocated(touched);
    return { hold: toHold(stored) };
  };

  const restockHold: Impl["restockHold"] = async (req, ctx) => {
    const { reservationId, reason } = checkFields((v) => ({
      reservationId: checkReservationId(v, req.reservationId),
      reason: checkReason(v, "reason", req.reason),
    }));
    const { stored, touched } = await inTransaction(db, async (tx) => {
      const current = await lockHold(tx, reservationId);
      if (!current) throw notFound("hold of reservation", reservationId, "reservation_id");
      const state = current.hold.state;
      if (state === HoldState.RESTOCKED) return { stored: current, touched: [] };
      if (state !== HoldState.COMMITTED) throw wrongState(reservationId, state, "restocked");
      await applyAll(tx, current.allocations, (a) =>
        holdChange(ctx, Kind.RESTOCK, a.quantity, 0, reservationId, reason || "restocked", current.hold.commitReference),
      );
      const hold = await setHoldState(tx, reservationId, { state: HoldState.RESTOCKED });
      await ctx.audit(tx, holdFacts(reservationId, { state: "RESTOCKED", reason }));
      return { stored: { hold, allocations: current.allocations }, touched: current.allocations };
    });
    await invalidateAllocated(touched);
    return { hold: toHold(stored) };
  };

  async function invalidateAllocated(rows: HoldAllocationRow[]) {
    await invalidateStock(
      cache,
      rows.map((a) => ({ id: a.stockLevelId, itemId: a.itemId, warehouseId: a.warehouseId, locationId: a.locationId })),
    );
  }

  return {
    holdStock,
    getHold,
    listHolds: listHoldsHandler,
    releaseHold,
    commitHold,
    restockHold,
  } satisfies Impl;
}

export const holdService = (deps: InventoryDeps) => registration(HoldService, holdHandlers(deps));

/**
 * Applies one change per allocation, in level key order. These changes cannot be refused while
 * the invariants hold (a held quantity is always within reserved and on_hand), so a refusal is
 * an inconsistency, reported as INTERNAL and rolled back.
 */
async function applyAll(tx: Db, allocations: HoldAllocationRow[], changeOf: (a: HoldAllocationRow) => LevelChange) {
  for (const a of byLevel(allocations)) {
    if (!(await applyToLevel(tx, a.stockLevelId, changeOf(a)))) {
      throw new Internal(`stock level ${a.stockLevelId} cannot take back ${a.quantity} of reservation ${a.reservationId}`);
    }
  }
}

/** Level id order, as Postgres orders uuids (take_hold follows it too). */
const byLevel = <T extends { stockLevelId: string }>(rows: T[]) =>
  [...rows].sort((a, b) => (a.stockLevelId < b.stockLevelId ? -1 : a.stockLevelId > b.stockLevelId ? 1 : 0));

const holdChange = (
  ctx: CallContext,
  kind: KindCode,
  onHand: number,
  reserved: number,
  reservationId: string,
  reason: string,
  reference: string,
): LevelChange => ({
  kind,
  onHand,
  reserved,
  entry: { actor: actorOf(ctx.caller), reason, reference, reservationId, idempotencyKey: reservationId, requestId: ctx.requestId },
});

const STATE_NAMES: Record<number, string> = { 1: "HELD", 2: "RELEASED", 3: "COMMITTED", 4: "FAILED", 5: "RESTOCKED" };

const wrongState = (reservationId: string, state: number, wanted: string) =>
  new FailedPrecondition(
    `the hold of reservation ${reservationId} is ${STATE_NAMES[state]}: it cannot be ${wanted}`,
    { field: "reservation_id", value: reservationId, constraint: "hold_state" },
    "HOLD_STATE",
  );

const holdFacts = (reservationId: string, details: Record<string, unknown>) => ({ resourceType: "Hold", resourceId: reservationId, details });

const allocationRow = (reservationId: string, a: PlannedAllocation): HoldAllocationRow => ({
  reservationId,
  stockLevelId: a.levelId,
  lineIndex: a.lineIndex,
  itemId: a.itemId,
  warehouseId: a.warehouseId,
  warehouseCode: a.warehouseCode,
  locationId: a.locationId,
  quantity: a.quantity,
  rank: a.rank,
  warehousePriority: a.warehousePriority,
  availableBefore: a.availableBefore,
  reason: a.reason,
  explanation: a.explanation,
});

export function toHold({ hold, allocations }: StoredHold): Hold {
  return create(HoldSchema, {
    reservationId: hold.reservationId,
    state: hold.state,
    lines: hold.lines.map((l) => ({
      lineIndex: l.lineIndex,
      itemId: l.itemId,
      sku: l.sku,
      quantity: BigInt(l.quantity),
      allocations: allocations
        .filter((a) => a.lineIndex === l.lineIndex)
        .map((a) => ({
          warehouseId: a.warehouseId,
          warehouseCode: a.warehouseCode,
          locationId: a.locationId ?? "",
          stockLevelId: a.stockLevelId,
          quantity: BigInt(a.quantity),
          rank: a.rank,
          warehousePriority: a.warehousePriority,
          availableBefore: BigInt(a.availableBefore),
          reason: a.reason,
          explanation: a.explanation,
        })),
    })),
    shortages: hold.shortages.map((s) => ({ ...s, requested: BigInt(s.requested), available: BigInt(s.available) })),
    strategy: hold.strategy,
    allowSplit: hold.allowSplit,
    warehouseIds: hold.warehouseIds,
    releaseReason: hold.releaseReason,
    commitReference: hold.commitReference,
    createTime: timestampFromDate(hold.createdAt),
    updateTime: timestampFromDate(hold.updatedAt),
  });
}

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Hold } from "@inv/gen/inventory/v1/hold_pb";
import { ReservationSchema, type Reservation } from "@inv/gen/reservation/v1/reservation_pb";
import { statusAt } from "./store/reservations.js";
import type { AllocationJson, LineJson, ReservationRow, ShortageJson } from "./store/schema.js";

const time = (d: Date | null) => (d ? timestampFromDate(d) : undefined);

/** A stored reservation as callers see it, with expiry applied at `now`. */
export function toReservation(row: ReservationRow, now = new Date()): Reservation {
  const status = statusAt(row, now);
  const expired = status !== row.status;
  return create(ReservationSchema, {
    id: row.id,
    orderId: row.orderId,
    customerId: row.customerId,
    status,
    lines: row.lines.map((l) => ({
      lineIndex: l.lineIndex,
      itemId: l.itemId,
      sku: l.sku,
      quantity: BigInt(l.quantity),
      allocations: l.allocations.map((a) => ({ ...a, quantity: BigInt(a.quantity), availableBefore: BigInt(a.availableBefore) })),
      explanation: l.explanation,
    })),
    strategy: row.strategy,
    allowSplit: row.allowSplit,
    warehouseIds: row.warehouseIds,
    expireTime: expired ? undefined : time(row.expireAt),
    failureReason: row.failureReason,
    failureMessage: row.failureMessage,
    shortages: row.shortages.map((s) => ({ ...s, requested: BigInt(s.requested), available: BigInt(s.available) })),
    cancelReason: expired ? "expired" : row.cancelReason,
    createdBy: row.createdBy,
    createTime: timestampFromDate(row.createdAt),
    updateTime: timestampFromDate(row.updatedAt),
    confirmTime: time(row.confirmedAt),
    fulfillTime: time(row.fulfilledAt),
    cancelTime: expired ? time(row.expireAt) : time(row.cancelledAt),
    fulfillReference: row.fulfilReference,
  });
}

/** The reservation's lines with what the hold took for each, and a sentence per line. */
export function linesFromHold(lines: LineJson[], hold: Hold, allowSplit: boolean): LineJson[] {
  return lines.map((line) => {
    const held = hold.lines.find((h) => h.lineIndex === line.lineIndex);
    const allocations: AllocationJson[] = (held?.allocations ?? []).map((a) => ({
      warehouseId: a.warehouseId,
      warehouseCode: a.warehouseCode,
      locationId: a.locationId,
      stockLevelId: a.stockLevelId,
      quantity: Number(a.quantity),
      rank: a.rank,
      warehousePriority: a.warehousePriority,
      availableBefore: Number(a.availableBefore),
      reason: a.reason,
      explanation: a.explanation,
    }));
    return {
      ...line,
      itemId: held?.itemId || line.itemId,
      sku: held?.sku || line.sku,
      allocations,
      explanation: explain(allocations, line.quantity, allowSplit),
    };
  });
}

/** "8 held: 5 from AMS-1 (priority 900), 3 from RTM-2 (priority 500); split allowed". */
export function explain(allocations: AllocationJson[], quantity: number, allowSplit: boolean): string {
  if (allocations.length === 0) return "";
  const parts = allocations.map((a) => `${a.quantity} from ${a.warehouseCode || a.warehouseId} (priority ${a.warehousePriority})`);
  return `${quantity} held: ${parts.join(", ")}${allowSplit ? "; split allowed" : ""}`;
}

export const shortagesFromHold = (hold: Hold): ShortageJson[] =>
  hold.shortages.map((s) => ({
    lineIndex: s.lineIndex,
    itemId: s.itemId,
    sku: s.sku,
    requested: Number(s.requested),
    available: Number(s.available),
    reason: s.reason,
  }));

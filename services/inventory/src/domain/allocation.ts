import { AllocationReason, AllocationStrategy, ShortageReason } from "@inv/gen/common/v1/allocation_pb";

/**
 * Where a hold takes its stock from: a pure function of what the caller asked and what the
 * levels had when they were read. The plan is only a proposal: each allocation is then applied
 * by a conditional update that takes it only if it is still there, and a plan that meets less
 * than it saw is made again from fresh numbers.
 */

export interface PlanLine {
  lineIndex: number;
  itemId: string;
  sku: string;
  quantity: number;
}

export interface PlanWarehouse {
  id: string;
  code: string;
  priority: number;
}

export interface PlanLevel {
  id: string;
  itemId: string;
  warehouseId: string;
  locationId: string | null;
  available: number;
}

export interface PlannedAllocation {
  lineIndex: number;
  itemId: string;
  levelId: string;
  warehouseId: string;
  warehouseCode: string;
  warehousePriority: number;
  locationId: string | null;
  quantity: number;
  /** 1-based position of the warehouse in the order the strategy considered them. */
  rank: number;
  availableBefore: number;
  reason: AllocationReason;
  explanation: string;
}

export interface PlannedShortage {
  lineIndex: number;
  itemId: string;
  sku: string;
  requested: number;
  available: number;
  reason: ShortageReason;
}

export type Plan = { ok: true; allocations: PlannedAllocation[] } | { ok: false; shortages: PlannedShortage[] };

export interface PlanRequest {
  lines: PlanLine[];
  /** The active warehouses, in the caller's priority order (highest first). */
  warehouses: PlanWarehouse[];
  levels: PlanLevel[];
  strategy: AllocationStrategy;
  allowSplit: boolean;
}

export function planHold(req: PlanRequest): Plan {
  const allocations: PlannedAllocation[] = [];
  const shortages: PlannedShortage[] = [];
  for (const line of req.lines) {
    const levels = req.levels.filter((l) => l.itemId === line.itemId && l.available > 0);
    const inWarehouse = (w: PlanWarehouse) =>
      levels.filter((l) => l.warehouseId === w.id).sort((a, b) => (a.locationId ?? "").localeCompare(b.locationId ?? "") || a.id.localeCompare(b.id));
    const total = (w: PlanWarehouse) => inWarehouse(w).reduce((s, l) => s + l.available, 0);
    const order = orderFor(req.strategy, req.warehouses, total);
    if (order.length === 0) {
      shortages.push({ ...shortageBase(line), available: 0, reason: ShortageReason.NO_ACTIVE_WAREHOUSE });
      continue;
    }
    const whole = order.findIndex((w) => total(w) >= line.quantity);
    if (whole >= 0) {
      const w = order[whole]!;
      const reason = req.strategy === AllocationStrategy.MOST_STOCK ? AllocationReason.MOST_STOCK : AllocationReason.PRIORITY;
      const why = reason === AllocationReason.MOST_STOCK ? `most available stock (${total(w)})` : `highest priority (${w.priority}) with enough stock`;
      allocations.push(...take(line, w, whole + 1, inWarehouse(w), line.quantity, reason, (q) => `${q} of ${line.quantity} from ${w.code || w.id}: ${why}`));
      continue;
    }
    const sum = order.reduce((s, w) => s + total(w), 0);
    if (!req.allowSplit || sum < line.quantity) {
      const available = req.allowSplit ? sum : Math.max(0, ...order.map(total));
      shortages.push({ ...shortageBase(line), available, reason: ShortageReason.INSUFFICIENT_STOCK });
      continue;
    }
    let remaining = line.quantity;
    for (const [i, w] of order.entries()) {
      if (remaining === 0) break;
      const part = Math.min(remaining, total(w));
      if (part === 0) continue;
      allocations.push(
        ...take(
          line,
          w,
          i + 1,
          inWarehouse(w),
          part,
          AllocationReason.SPLIT,
          (q) => `${q} of ${line.quantity} from ${w.code || w.id}: no single warehouse had enough; split allowed`,
        ),
      );
      remaining -= part;
    }
  }
  return shortages.length > 0 ? { ok: false, shortages } : { ok: true, allocations };
}

/** The warehouses in the order the strategy considers them. */
function orderFor(strategy: AllocationStrategy, warehouses: PlanWarehouse[], total: (w: PlanWarehouse) => number): PlanWarehouse[] {
  if (strategy !== AllocationStrategy.MOST_STOCK) return warehouses;
  const position = new Map(warehouses.map((w, i) => [w.id, i]));
  return [...warehouses].sort((a, b) => total(b) - total(a) || position.get(a.id)! - position.get(b.id)!);
}

/** `quantity` from one warehouse's levels, warehouse-level stock first, then by location. */
function take(
  line: PlanLine,
  w: PlanWarehouse,
  rank: number,
  levels: PlanLevel[],
  quantity: number,
  reason: AllocationReason,
  explain: (q: number) => string,
): PlannedAllocation[] {
  const out: PlannedAllocation[] = [];
  let remaining = quantity;
  for (const level of levels) {
    if (remaining === 0) break;
    const q = Math.min(remaining, level.available);
    out.push({
      lineIndex: line.lineIndex,
      itemId: line.itemId,
      levelId: level.id,
      warehouseId: w.id,
      warehouseCode: w.code,
      warehousePriority: w.priority,
      locationId: level.locationId,
      quantity: q,
      rank,
      availableBefore: level.available,
      reason,
      explanation: explain(q),
    });
    remaining -= q;
  }
  return out;
}

const shortageBase = (line: PlanLine) => ({ lineIndex: line.lineIndex, itemId: line.itemId, sku: line.sku, requested: line.quantity });

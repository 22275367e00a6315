import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";
import { AllocationStrategy } from "@inv/gen/common/v1/allocation_pb";
import { IDEMPOTENCY_KEY_PATTERN, UUID_PATTERN, type FieldChecker } from "@inv/platform";

/** The largest quantity of one line: a billion units, as inventory takes. */
export const MAX_QUANTITY = 1_000_000_000;
/** Lines of one reservation, as inventory holds at most. */
export const MAX_LINES = 500;
/** Warehouses one reservation may name. */
export const MAX_WAREHOUSES = 100;
export const REASON_MAX = 500;
export const REFERENCE_MAX = 200;
const ID_MAX = 128;
const SKU_MAX = 64;

/** How long a reservation may hold stock unless confirmed (RESERVATION_*_TTL_SECONDS). */
export interface TtlBounds {
  minSeconds: number;
  maxSeconds: number;
  defaultSeconds: number;
}

/** An order or customer id: 1 to 128 letters, digits, "-", "_", "." or ":". */
export function checkExternalId(v: FieldChecker, field: string, value: string): string {
  if (value === "") v.fail(field, "required", `${field} is required`);
  else if (value.length > ID_MAX || !IDEMPOTENCY_KEY_PATTERN.test(value))
    v.fail(field, "format", `${field} must be 1 to ${ID_MAX} letters, digits, "-", "_", "." or ":"`, value);
  return value;
}

export type ItemRef = { id: string } | { sku: string };

export interface ReserveLineInput {
  itemId: string;
  sku: string;
  quantity: bigint;
}

/**
 * The lines of a Reserve: 1 to MAX_LINES, each naming its item by id or SKU, with a quantity of 1
 * to MAX_QUANTITY, and no item twice (a basket names each item once).
 */
export function checkLines(v: FieldChecker, lines: readonly ReserveLineInput[]): { item: ItemRef; quantity: number }[] {
  if (lines.length === 0) v.fail("lines", "required", "lines must have at least one line");
  if (lines.length > MAX_LINES) v.fail("lines", "max_items", `lines must have at most ${MAX_LINES} lines`, lines.length);
  const seen = new Map<string, number>();
  return lines.slice(0, MAX_LINES).map((line, i) => {
    const at = `lines[${i}]`;
    let item: ItemRef = { sku: "" };
    if (line.itemId !== "") {
      if (line.sku !== "") v.fail(`${at}.sku`, "one_of", `give ${at}.item_id or ${at}.sku, not both`, line.sku);
      if (!UUID_PATTERN.test(line.itemId)) v.fail(`${at}.item_id`, "format", `${at}.item_id must be a UUID`, line.itemId);
      item = { id: line.itemId.toLowerCase() };
    } else if (line.sku !== "") {
      if (line.sku.length > SKU_MAX) v.fail(`${at}.sku`, "max_length", `${at}.sku must be at most ${SKU_MAX} characters`, line.sku);
      item = { sku: line.sku };
    } else v.fail(`${at}.item_id`, "required", `${at} must name its item by item_id or sku`);
    const key = "id" in item ? `id:${item.id}` : `sku:${item.sku}`;
    const first = seen.get(key);
    if (first !== undefined && key !== "sku:") {
      const field = "id" in item ? `${at}.item_id` : `${at}.sku`;
      v.fail(
        field,
        "unique",
        `${field} names the same item as lines[${first}]: give each item once, with the whole quantity`,
        "id" in item ? item.id : item.sku,
      );
    } else seen.set(key, i);
    let quantity = 0;
    if (line.quantity < 1n || line.quantity > BigInt(MAX_QUANTITY))
      v.fail(`${at}.quantity`, "range", `${at}.quantity must be between 1 and ${MAX_QUANTITY.toLocaleString("en")}`, line.quantity.toString());
    else quantity = Number(line.quantity);
    return { item, quantity };
  });
}

/** A time to live within the bounds; unset gives the default. */
export function checkTtl(v: FieldChecker, field: string, ttl: Duration | undefined, bounds: TtlBounds): number {
  if (ttl === undefined) return bounds.defaultSeconds;
  const seconds = Number(ttl.seconds) + ttl.nanos / 1e9;
  if (!(seconds >= bounds.minSeconds && seconds <= bounds.maxSeconds)) {
    v.fail(field, "range", `${field} must be between ${describe(bounds.minSeconds)} and ${describe(bounds.maxSeconds)}`, `${seconds}s`);
    return bounds.defaultSeconds;
  }
  return Math.ceil(seconds);
}

/** A new expiry: in the future and at most the longest time to live from now. */
export function checkNewExpiry(v: FieldChecker, field: string, value: Timestamp | undefined, bounds: TtlBounds, now: Date): Date | undefined {
  if (value === undefined) {
    v.fail(field, "required", `${field} is required`);
    return undefined;
  }
  const at = v.timestamp(field, value);
  if (!at) return undefined;
  if (at.getTime() <= now.getTime()) v.fail(field, "future", `${field} must be in the future`, at.toISOString());
  else if (at.getTime() > now.getTime() + bounds.maxSeconds * 1000)
    v.fail(field, "range", `${field} must be at most ${describe(bounds.maxSeconds)} from now`, at.toISOString());
  return at;
}

export const checkStrategy = (value: AllocationStrategy) =>
  value === AllocationStrategy.MOST_STOCK ? AllocationStrategy.MOST_STOCK : AllocationStrategy.PRIORITY;

/** Seconds in words: "1 minute", "7 days", "90 seconds". */
function describe(seconds: number): string {
  const unit = (n: number, name: string) => `${n} ${name}${n === 1 ? "" : "s"}`;
  if (seconds % 86_400 === 0) return unit(seconds / 86_400, "day");
  if (seconds % 3600 === 0) return unit(seconds / 3600, "hour");
  if (seconds % 60 === 0) return unit(seconds / 60, "minute");
  return unit(seconds, "second");
}

import type { FieldChecker } from "@inv/platform";

/** The largest quantity one call may move, receive or hold: a billion units. */
export const MAX_QUANTITY = 1_000_000_000;
/** Why, as the caller tells it. */
export const REASON_MAX = 500;
/** An external reference (purchase order, shipment id). */
export const REFERENCE_MAX = 200;
/** Lines of one bulk adjustment. */
export const MAX_BULK_LINES = 1000;
/** Lines of one availability check or hold. */
export const MAX_BASKET_LINES = 500;

/** A quantity that must be positive: 1 to MAX_QUANTITY. */
export function checkQuantity(v: FieldChecker, field: string, value: bigint): number {
  if (value < 1n || value > BigInt(MAX_QUANTITY)) {
    v.fail(field, "range", `${field} must be between 1 and ${MAX_QUANTITY.toLocaleString("en")}`, value.toString());
    return 0;
  }
  return Number(value);
}

/** A signed change of on_hand: not zero, at most MAX_QUANTITY either way. */
export function checkDelta(v: FieldChecker, field: string, value: bigint): number {
  if (value === 0n) v.fail(field, "non_zero", `${field} must not be zero: an adjustment changes on_hand`, "0");
  else if (value < -BigInt(MAX_QUANTITY) || value > BigInt(MAX_QUANTITY)) {
    v.fail(field, "range", `${field} must be between -${MAX_QUANTITY.toLocaleString("en")} and ${MAX_QUANTITY.toLocaleString("en")}`, value.toString());
  } else return Number(value);
  return 0;
}

/** An expected on_hand for a compare-and-set: 0 or more. */
export function checkExpected(v: FieldChecker, field: string, value: bigint | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    v.fail(field, "range", `${field} must be 0 or more`, value.toString());
    return undefined;
  }
  return Number(value);
}

export const checkReason = (v: FieldChecker, field: string, value: string, required = false) => v.text(field, value, { max: REASON_MAX, required });
export const checkReference = (v: FieldChecker, field: string, value: string) => v.text(field, value, { max: REFERENCE_MAX });

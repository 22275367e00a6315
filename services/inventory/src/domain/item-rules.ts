import type { FieldChecker } from "@inv/platform";
import { ItemCategory, ItemStatus } from "@inv/gen/inventory/v1/item_pb";

/**
 * The rules of the item catalogue's own fields. Names, descriptions and ids follow the platform's
 * shared limits (FIELD_LIMITS); only what is particular to items and item types is here. The
 * numbers are the ones the comments of proto/inventory/v1/item.proto state.
 */

/** SKUs: 1 to 64 letters, digits, "-", "_" and "."; compared exactly (case-sensitively), never trimmed. */
export const SKU_MAX = 64;
export const SKU_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** Item descriptions hold product copy, so they are longer than DESCRIPTION_MAX (item types keep that). */
export const ITEM_DESCRIPTION_MAX = 4000;
/**
 * Units of measure: 1 to 16 letters or digits, stored in upper case ("kg" is "KG": two spellings
 * of one unit must not count as two units); "EA" (each) when none is given.
 */
export const UNIT_OF_MEASURE_MAX = 16;
export const DEFAULT_UNIT_OF_MEASURE = "EA";
const UNIT_OF_MEASURE = /^[A-Za-z0-9]{1,16}$/;
/** ISO 4217 alphabetic currency codes, in upper case ("EUR", "USD"). */
const CURRENCY = /^[A-Z]{3}$/;
export const NANOS_MAX = 999_999_999;
/** Product image URLs: absolute http(s), no longer than browsers and CDNs reliably accept. */
export const IMAGE_URL_MAX = 2048;
/** Attributes: more generous than labels, as they carry product data ("material", "ean"). */
export const ATTRIBUTES_MAX_ENTRIES = 64;
export const ATTRIBUTE_KEY_MAX = 64;
export const ATTRIBUTE_VALUE_MAX = 1024;
/** Reorder points and quantities given to new stock levels. */
export const REORDER_MAX = 1_000_000_000;
/** ListItems: the text search, the SKU filter and the attribute filter are bounded like the contract says. */
export const QUERY_MAX = 200;
export const SKUS_FILTER_MAX = 500;
export const ATTRIBUTES_FILTER_MAX = 16;

// Control characters have no place in attribute keys and values (they break logs and CSV exports).
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A required SKU, exactly as given: surrounding spaces are a violation, not something to trim. */
export function checkSku(v: FieldChecker, field: string, value: string): string {
  if (value === "") v.fail(field, "required", `${field} is required`);
  else if (value.length > SKU_MAX) v.fail(field, "max_length", `${field} must be at most ${SKU_MAX} characters`, value.slice(0, 50));
  else if (!SKU_PATTERN.test(value)) v.fail(field, "pattern", `${field} must be 1 to ${SKU_MAX} letters, digits, "-", "_" or "."`, value);
  return value;
}

/** A unit of measure, upper-cased; empty means the default, "EA". */
export function checkUnitOfMeasure(v: FieldChecker, field: string, value: string): string {
  const unit = value.trim();
  if (unit === "") return DEFAULT_UNIT_OF_MEASURE;
  if (unit.length > UNIT_OF_MEASURE_MAX) v.fail(field, "max_length", `${field} must be at most ${UNIT_OF_MEASURE_MAX} characters`, unit.slice(0, 50));
  else if (!UNIT_OF_MEASURE.test(unit))
    v.fail(field, "pattern", `${field} must be 1 to ${UNIT_OF_MEASURE_MAX} letters or digits, e.g. "EA", "KG", "BOX"`, unit);
  return unit.toUpperCase();
}

/** A price as stored: the three columns of common.v1.Money, all set or (no price) all null. */
export interface Price {
  currencyCode: string;
  units: bigint;
  nanos: number;
}

/** The fields of common.v1.Money the checks read. */
export interface MoneyInput {
  currencyCode: string;
  units: bigint;
  nanos: number;
}

/** A list price: unset is no price; otherwise an ISO 4217 code and an amount of zero or more. */
export function checkPrice(v: FieldChecker, field: string, money: MoneyInput | undefined): Price | null {
  if (!money) return null;
  const currency = `${field}.currency_code`;
  if (money.currencyCode === "") v.fail(currency, "required", `${currency} is required when a price is given`);
  else if (!CURRENCY.test(money.currencyCode)) {
    v.fail(currency, "pattern", `${currency} must be an ISO 4217 currency code in upper case, e.g. "EUR"`, money.currencyCode);
  }
  if (money.units < 0n) v.fail(`${field}.units`, "range", `${field}.units must not be negative: prices are zero or more`, money.units.toString());
  if (!Number.isInteger(money.nanos) || money.nanos < 0 || money.nanos > NANOS_MAX) {
    v.fail(`${field}.nanos`, "range", `${field}.nanos must be between 0 and ${NANOS_MAX}`, money.nanos);
  }
  return { currencyCode: money.currencyCode, units: money.units, nanos: money.nanos };
}

/** An image URL: empty for none, otherwise an absolute http or https URL. */
export function checkImageUrl(v: FieldChecker, field: string, value: string): string {
  const url = value.trim();
  if (url === "") return "";
  if (url.length > IMAGE_URL_MAX) {
    v.fail(field, "max_length", `${field} must be at most ${IMAGE_URL_MAX} characters`, url.slice(0, 50));
    return url;
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:") || CONTROL.test(url)) {
    v.fail(field, "format", `${field} must be an absolute http or https URL`, url.slice(0, 50));
  }
  return url;
}

/** Free-form attributes: bounded in entries, keys and values; a bad entry is named by its key. Kept as given. */
export function checkAttributes(v: FieldChecker, field: string, attributes: Record<string, string>): Record<string, string> {
  const entries = Object.entries(attributes);
  if (entries.length > ATTRIBUTES_MAX_ENTRIES) {
    v.fail(field, "max_entries", `${field} may have at most ${ATTRIBUTES_MAX_ENTRIES} entries`, entries.length);
    return attributes;
  }
  for (const [key, value] of entries) {
    const at = `${field}.${key}`;
    if (key.length < 1 || key.length > ATTRIBUTE_KEY_MAX || CONTROL.test(key)) {
      v.fail(at, "key_format", `${field} keys must be 1 to ${ATTRIBUTE_KEY_MAX} printable characters`, key.slice(0, 50));
    } else if (value.length > ATTRIBUTE_VALUE_MAX) {
      v.fail(at, "max_length", `${at} must be at most ${ATTRIBUTE_VALUE_MAX} characters`, value.slice(0, 50));
    } else if (CONTROL.test(value)) {
      v.fail(at, "no_control_characters", `${at} must not contain control characters`);
    }
  }
  return { ...attributes };
}

/** A default reorder point or quantity: a whole number from 0 to REORDER_MAX. */
export function checkReorder(v: FieldChecker, field: string, value: bigint): number {
  if (value < 0n || value > BigInt(REORDER_MAX)) {
    v.fail(field, "range", `${field} must be between 0 and ${REORDER_MAX}`, value.toString());
    return 0;
  }
  return Number(value);
}

const STATUSES = [ItemStatus.ACTIVE, ItemStatus.INACTIVE, ItemStatus.DISCONTINUED];

/**
 * An item status to store. UNSPECIFIED is ACTIVE when the item is created (`create`); an update
 * that names status must say which one. Numbers the contract does not define are refused.
 */
export function checkStatus(v: FieldChecker, field: string, value: ItemStatus, opts: { create: boolean }): ItemStatus {
  if (value === ItemStatus.UNSPECIFIED) {
    if (opts.create) return ItemStatus.ACTIVE;
    v.fail(field, "required", `${field} must be ITEM_STATUS_ACTIVE, ITEM_STATUS_INACTIVE or ITEM_STATUS_DISCONTINUED`);
    return value;
  }
  if (!STATUSES.includes(value)) v.fail(field, "enum", `${field} is not a known ItemStatus`, value);
  return value;
}

/** A status filter: UNSPECIFIED is "any"; numbers the contract does not define are refused. */
export function checkStatusFilter(v: FieldChecker, field: string, value: ItemStatus): ItemStatus | undefined {
  if (value === ItemStatus.UNSPECIFIED) return undefined;
  if (!STATUSES.includes(value)) v.fail(field, "enum", `${field} is not a known ItemStatus`, value);
  return value;
}

/** An item category to store: UNSPECIFIED is stored as OTHER; numbers the contract does not define are refused. */
export function checkCategory(v: FieldChecker, field: string, value: ItemCategory): ItemCategory {
  if (value === ItemCategory.UNSPECIFIED) return ItemCategory.OTHER;
  if (!Number.isInteger(value) || value < ItemCategory.FINISHED_GOOD || value > ItemCategory.OTHER) {
    v.fail(field, "enum", `${field} is not a known ItemCategory`, value);
  }
  return value;
}

/** A category filter: UNSPECIFIED is "any". */
export function checkCategoryFilter(v: FieldChecker, field: string, value: ItemCategory): ItemCategory | undefined {
  return value === ItemCategory.UNSPECIFIED ? undefined : checkCategory(v, field, value);
}

/**
 * The words of a ListItems text search: split on whitespace, each to be found (case-insensitively)
 * in the SKU, name or description. Duplicates collapse; an empty query has no words (matches all).
 */
export function searchWords(v: FieldChecker, field: string, query: string): string[] {
  if (query.length > QUERY_MAX) {
    v.fail(field, "max_length", `${field} must be at most ${QUERY_MAX} characters`, query.slice(0, 50));
    return [];
  }
  if (CONTROL.test(query.replace(/\s/g, " "))) {
    v.fail(field, "no_control_characters", `${field} must not contain control characters`);
    return [];
  }
  return [...new Set(query.split(/\s+/).filter((w) => w !== ""))];
}

/** A LIKE pattern that matches `text` anywhere, with the wildcards and the escape character of the input taken literally. */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The SKU filter of ListItems: at most SKUS_FILTER_MAX SKUs, each well formed; duplicates collapse. */
export function checkSkuFilter(v: FieldChecker, field: string, skus: readonly string[]): string[] {
  if (skus.length > SKUS_FILTER_MAX) {
    v.fail(field, "max_entries", `${field} may name at most ${SKUS_FILTER_MAX} SKUs`, skus.length);
    return [];
  }
  skus.forEach((sku, i) => checkSku(v, `${field}[${i}]`, sku));
  return [...new Set(skus)];
}

/**
 * The attribute filter of ListItems: entries written "key=value" (the first "=" separates them),
 * at most ATTRIBUTES_FILTER_MAX, each key 1 to ATTRIBUTE_KEY_MAX characters.
 */
export function checkAttributeFilter(v: FieldChecker, field: string, entries: readonly string[]): [key: string, value: string][] {
  if (entries.length > ATTRIBUTES_FILTER_MAX) {
    v.fail(field, "max_entries", `${field} may have at most ${ATTRIBUTES_FILTER_MAX} entries`, entries.length);
    return [];
  }
  const pairs: [string, string][] = [];
  entries.forEach((entry, i) => {
    const at = `${field}[${i}]`;
    const eq = entry.indexOf("=");
    const key = eq < 0 ? "" : entry.slice(0, eq);
    if (eq < 0 || key.length < 1 || key.length > ATTRIBUTE_KEY_MAX) {
      v.fail(at, "format", `${at} must be written "key=value", with a key of 1 to ${ATTRIBUTE_KEY_MAX} characters`, entry.slice(0, 50));
    } else if (entry.length - eq - 1 > ATTRIBUTE_VALUE_MAX) {
      v.fail(at, "max_length", `${at} has a value longer than ${ATTRIBUTE_VALUE_MAX} characters`, entry.slice(0, 50));
    } else {
      pairs.push([key, entry.slice(eq + 1)]);
    }
  });
  return pairs;
}

/** Where a request named the item: item_id or sku, possibly under a repeated field ("lines[2].sku"). */
export interface ItemFields {
  id: string;
  sku: string;
}

export const itemFields = (prefix = ""): ItemFields => ({ id: `${prefix}item_id`, sku: `${prefix}sku` });

/** An item as a request names it: by id, or by SKU. */
export type ItemRef = { id: string } | { sku: string };

/** An item named by item_id or, when that is empty, by sku. */
export function checkItemRef(v: FieldChecker, fields: ItemFields, itemId: string, sku: string): ItemRef {
  if (itemId !== "") return { id: v.id(fields.id, itemId) };
  if (sku !== "") return { sku: checkSku(v, fields.sku, sku) };
  v.fail(fields.id, "required", `${fields.id} or ${fields.sku} is required`);
  return { id: "" };
}

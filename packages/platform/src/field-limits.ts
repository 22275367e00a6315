/**
 * The limits every service applies to the same kinds of field, named once so the contracts,
 * the checks and the database agree. A change here is a contract change: the proto comments
 * state these numbers.
 */

/** Human-readable names: long enough for "Amsterdam Distribution Centre, Building 4". */
export const NAME_MAX = 200;
/** Free-text descriptions. */
export const DESCRIPTION_MAX = 1000;
/** Business codes: short enough to print on a label or scan from a barcode. */
export const CODE_MAX = 32;
/** Codes of top-level things (warehouses, types, SKUs): 2 to 32 of A-Z, 0-9, "-" and "_". */
export const CODE_PATTERN = /^[A-Z0-9][A-Z0-9_-]{1,31}$/;
/** Codes inside a parent (a location in its warehouse) may be a single character, e.g. "A". */
export const SHORT_CODE_PATTERN = /^[A-Z0-9][A-Z0-9_-]{0,31}$/;
/** Free-form labels (proto map<string, string>): bounded so one row cannot grow without limit. */
export const LABELS_MAX_ENTRIES = 32;
export const LABEL_KEY_MAX = 64;
export const LABEL_VALUE_MAX = 256;
/** AIP-155 request ids: a UUID fits, and so do most callers' own idempotency keys. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
/** Idempotency keys of stock writes: longer than request ids, so callers can compose their own (order + line). */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** Server-assigned ids are UUIDs (v7, so they sort by creation time). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** All of the above in one object, for code that wants to list or print them. */
export const FIELD_LIMITS = {
  NAME_MAX,
  DESCRIPTION_MAX,
  CODE_MAX,
  CODE_PATTERN,
  SHORT_CODE_PATTERN,
  LABELS_MAX_ENTRIES,
  LABEL_KEY_MAX,
  LABEL_VALUE_MAX,
  REQUEST_ID_PATTERN,
  IDEMPOTENCY_KEY_PATTERN,
  UUID_PATTERN,
} as const;

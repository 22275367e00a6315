import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { invalidFields, type FieldViolation } from "./errors.js";
import { CODE_PATTERN, IDEMPOTENCY_KEY_PATTERN, LABEL_KEY_MAX, LABEL_VALUE_MAX, LABELS_MAX_ENTRIES, REQUEST_ID_PATTERN, UUID_PATTERN } from "./field-limits.js";

// Control characters have no place in names and break logs and CSV exports.
const CONTROL = /[\u0000-\u001f\u007f]/;

type Violation = FieldViolation & { description: string };

/**
 * Checks the fields of one request and collects every violation instead of stopping at the
 * first, so a caller fixing a form learns everything wrong with it in one round trip. Each
 * check returns the cleaned value (or the input as given when it is wrong); a field keeps only
 * its first violation. Use it through `checkFields`, which throws when anything was wrong.
 */
export class FieldChecker {
  readonly #violations: Violation[] = [];

  /** Records a violation of a rule the checks below do not cover. */
  fail(field: string, constraint: string, description: string, value?: unknown): void {
    if (this.has(field)) return;
    this.#violations.push({ field, constraint, description, ...(value === undefined ? {} : { value }) });
  }

  /** Whether the field already has a violation (later checks of it are skipped). */
  has(field: string): boolean {
    return this.#violations.some((v) => v.field === field);
  }

  get violations(): readonly Violation[] {
    return this.#violations;
  }

  /** A required UUID, lower-cased. */
  id(field: string, value: string): string {
    if (value === "") this.fail(field, "required", `${field} is required`);
    else if (!UUID_PATTERN.test(value)) this.fail(field, "format", `${field} must be a UUID`, value);
    return value.toLowerCase();
  }

  /** An optional reference: empty means "none". */
  optionalId(field: string, value: string): string | null {
    return value === "" ? null : this.id(field, value);
  }

  /** A required business code matching the pattern (CODE_PATTERN unless told otherwise). */
  code(field: string, value: string, pattern: RegExp = CODE_PATTERN): string {
    if (value === "") this.fail(field, "required", `${field} is required`);
    else if (!pattern.test(value)) {
      this.fail(field, "pattern", `${field} must match ${pattern.source} (upper-case letters, digits, "-" and "_")`, value);
    }
    return value;
  }

  /** Text trimmed of surrounding spaces, at most `max` characters, free of control characters. */
  text(field: string, value: string, opts: { max: number; required?: boolean }): string {
    const text = value.trim();
    if (opts.required && text === "") this.fail(field, "required", `${field} is required`);
    else if (text.length > opts.max) this.fail(field, "max_length", `${field} must be at most ${opts.max} characters`, value.slice(0, 50));
    else if (CONTROL.test(text)) this.fail(field, "no_control_characters", `${field} must not contain control characters`);
    return text;
  }

  /** An integer from min to max, both included. */
  integer(field: string, value: number, opts: { min: number; max: number }): number {
    if (!Number.isInteger(value) || value < opts.min || value > opts.max) {
      this.fail(field, "range", `${field} must be between ${opts.min} and ${opts.max}`, value);
    }
    return value;
  }

  /** Free-form labels: bounded in entries, keys and values; a bad entry is named by its key. */
  labels(field: string, labels: Record<string, string>): Record<string, string> {
    const entries = Object.entries(labels);
    if (entries.length > LABELS_MAX_ENTRIES) {
      this.fail(field, "max_entries", `${field} may have at most ${LABELS_MAX_ENTRIES} entries`, entries.length);
      return labels;
    }
    for (const [key, value] of entries) {
      if (key.length < 1 || key.length > LABEL_KEY_MAX || CONTROL.test(key)) {
        this.fail(`${field}.${key}`, "key_format", `${field} keys must be 1 to ${LABEL_KEY_MAX} printable characters`, key);
      } else {
        this.text(`${field}.${key}`, value, { max: LABEL_VALUE_MAX });
      }
    }
    return labels;
  }

  /**
   * A google.protobuf.Timestamp as a Date, or undefined when it is unset. A timestamp outside
   * what the protobuf spec allows (years 0001 to 9999, nanos below a second) is a violation: as a
   * Date it would be invalid or beyond what Postgres and JSON can hold.
   */
  timestamp(field: string, value: Timestamp | undefined, opts: { future?: boolean } = {}): Date | undefined {
    if (value === undefined) return undefined;
    const seconds = Number(value.seconds);
    if (seconds < TIMESTAMP_MIN_SECONDS || seconds > TIMESTAMP_MAX_SECONDS || value.nanos < 0 || value.nanos > 999_999_999) {
      this.fail(field, "range", `${field} must be a time between 0001-01-01 and 9999-12-31`, String(value.seconds));
      return undefined;
    }
    const date = timestampDate(value);
    if (opts.future && date.getTime() <= Date.now()) this.fail(field, "future", `${field} must be in the future`, date.toISOString());
    return date;
  }

  /**
   * A time range [start, end) of a list or report filter: each end as timestamp() reads it, and
   * the end after the start (constraint "after_start") when both are set. `required` makes both
   * ends required; `maxDays` bounds the range's length (constraint "max_range").
   */
  timeRange(
    fields: { start: string; end: string },
    start: Timestamp | undefined,
    end: Timestamp | undefined,
    opts: { required?: boolean; maxDays?: number } = {},
  ): { start: Date | undefined; end: Date | undefined } {
    const range = { start: this.timestamp(fields.start, start), end: this.timestamp(fields.end, end) };
    if (opts.required) {
      if (start === undefined) this.fail(fields.start, "required", `${fields.start} is required`);
      if (end === undefined) this.fail(fields.end, "required", `${fields.end} is required`);
    }
    if (range.start && range.end) {
      const span = range.end.getTime() - range.start.getTime();
      if (span <= 0) this.fail(fields.end, "after_start", `${fields.end} must be after ${fields.start}`, range.end.toISOString());
      else if (opts.maxDays !== undefined && span > opts.maxDays * 86_400_000) {
        this.fail(fields.end, "max_range", `${fields.end} must be at most ${opts.maxDays} days after ${fields.start}`, range.end.toISOString());
      }
    }
    return range;
  }

  /**
   * A repeated enum filter: every value one of the enum's (`known`, its generated descriptor)
   * other than 0, which is UNSPECIFIED and nothing to filter on; sorted, duplicates collapsed.
   */
  enumFilter<E extends number>(field: string, values: readonly E[], known: { name: string; values: readonly { number: number }[] }): E[] {
    values.forEach((value, i) => {
      if (value === 0 || !known.values.some((k) => k.number === value)) {
        this.fail(`${field}[${i}]`, "enum", `${field}[${i}] is not a known ${known.name}`, value);
      }
    });
    return [...new Set(values)].sort((a, b) => a - b);
  }

  /** An AIP-155 request id; empty means the caller asked for no deduplication. */
  requestId(field: string, value: string): string {
    if (value !== "" && !REQUEST_ID_PATTERN.test(value)) {
      this.fail(field, "format", `${field} must be 1 to 64 letters, digits, "-", "_", "." or ":" (a UUID is a good choice)`, value);
    }
    return value;
  }

  /** A required idempotency key of a write that must be safe to retry. */
  idempotencyKey(field: string, value: string): string {
    if (value === "") this.fail(field, "required", `${field} is required: every change to stock must be safe to retry`);
    else if (!IDEMPOTENCY_KEY_PATTERN.test(value)) {
      this.fail(field, "format", `${field} must be 1 to 128 letters, digits, "-", "_", "." or ":"`, value);
    }
    return value;
  }

  /** Throws INVALID_ARGUMENT naming every field at fault, if any. */
  throwIfAny(): void {
    if (this.#violations.length > 0) throw invalidFields(this.#violations);
  }
}

/** The range of google.protobuf.Timestamp: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z. */
const TIMESTAMP_MIN_SECONDS = -62_135_596_800;
const TIMESTAMP_MAX_SECONDS = 253_402_300_799;

/**
 * Runs the checks of one request and returns what they built, or throws one INVALID_ARGUMENT
 * listing every violation. Building the cleaned value inside the callback means no code path
 * can use a value whose check failed.
 */
export function checkFields<T>(build: (check: FieldChecker) => T): T {
  const checker = new FieldChecker();
  const value = build(checker);
  checker.throwIfAny();
  return value;
}

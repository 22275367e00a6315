/**
 * The rule a request broke while being transcoded. Named like the service-side
 * `FieldViolation.constraint` values ("range", ...) so clients see one vocabulary.
 */
export type TranscodeConstraint =
  | "malformed_json"
  | "encoding"
  | "depth"
  | "duplicate_key"
  | "forbidden_key"
  | "nul_character"
  | "body_not_allowed"
  | "unknown_field"
  | "unknown_query_parameter"
  | "multiple_values"
  | "duplicate_field"
  | "oneof"
  | "conflict"
  | "type"
  | "range"
  | "enum"
  | "format"
  | "invalid";

/**
 * A REST request that cannot be turned into the method's input message. `field` is the
 * proto field path at fault (e.g. "warehouse.priority", "locations[2].code"), the query
 * parameter as written when it names no field, or the body's keys as written for faults in the
 * JSON text itself (a repeated key, say); undefined when the whole request is at fault.
 */
export class TranscodeError extends Error {
  override readonly name = "TranscodeError";
  /** Every fault found, this one first: a request with several bad fields hears of all of them. */
  readonly faults: readonly TranscodeFault[];

  constructor(
    readonly field: string | undefined,
    readonly value: unknown,
    readonly constraint: TranscodeConstraint,
    message: string,
    more: readonly TranscodeFault[] = [],
  ) {
    super(more.length === 0 ? message : [message, ...more.map((f) => f.message)].join("; "));
    this.faults = [{ field, value, constraint, message }, ...more];
  }

  /** One error for several faults (at least one). */
  static of(faults: readonly TranscodeFault[]): TranscodeError {
    const [first, ...more] = faults;
    if (first === undefined) throw new Error("TranscodeError.of needs a fault");
    return new TranscodeError(first.field, first.value, first.constraint, first.message, more);
  }
}

/** One thing wrong with a request, as TranscodeError carries it. */
export interface TranscodeFault {
  readonly field: string | undefined;
  readonly value: unknown;
  readonly constraint: TranscodeConstraint;
  readonly message: string;
}

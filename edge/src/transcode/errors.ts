/**
 * The rule a request broke while being transcoded. Named like the service-side
 * `FieldViolation.constraint` values ("range", ...) so clients see one vocabulary.
 */
export type TranscodeConstraint =
  | "malformed_json"
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
 * proto field path at fault (e.g. "warehouse.priority", "locations[2].code"), or the
 * query parameter as written when it names no field; undefined when the whole request is at fault.
 */
export class TranscodeError extends Error {
  override readonly name = "TranscodeError";

  constructor(
    readonly field: string | undefined,
    readonly value: unknown,
    readonly constraint: TranscodeConstraint,
    message: string,
  ) {
    super(message);
  }
}

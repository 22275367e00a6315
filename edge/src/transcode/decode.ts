import { fromJson, ScalarType, type DescField, type DescMessage, type JsonValue, type MessageShape, type Registry } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { TranscodeError, type TranscodeConstraint, type TranscodeFault } from "./errors.js";
import { findField, isPlainMessage, isPlainObject } from "./fields.js";

/** At most this many faults are reported at once, so an error body stays small. */
export const MAX_FAULTS = 20;

/**
 * Decodes proto JSON strictly (unknown fields are errors) with protobuf-es. protobuf-es only
 * says which message type failed, so on failure the JSON is walked again, one key at a time,
 * to name every field path at fault. That second walk runs only for bad requests.
 */
export function decodeMessage<D extends DescMessage>(schema: D, json: JsonValue, registry?: Registry): MessageShape<D> {
  try {
    return fromJson(schema, json, { registry });
  } catch (cause) {
    const faults = locateInMessage(schema, json, "", registry);
    if (faults.length > 0) throw TranscodeError.of(faults.slice(0, MAX_FAULTS));
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new TranscodeError(undefined, undefined, "invalid", `invalid request: ${detail}`);
  }
}

function tryDecode(schema: DescMessage, json: JsonValue, registry: Registry | undefined): string | undefined {
  try {
    fromJson(schema, json, { registry });
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

const join = (path: string, name: string) => (path === "" ? name : `${path}.${name}`);

const fault = (field: string | undefined, value: unknown, constraint: TranscodeConstraint, message: string): TranscodeFault => ({
  field,
  value,
  constraint,
  message,
});

function locateInMessage(schema: DescMessage, json: unknown, path: string, registry: Registry | undefined): TranscodeFault[] {
  if (!isPlainObject(json)) {
    return [fault(path || undefined, json, "type", `${path || "request"}: expected an object, got ${show(json)}`)];
  }
  const faults: TranscodeFault[] = [];
  const seen = new Set<DescField>();
  const oneofs = new Map<string, DescField>();
  for (const [key, value] of Object.entries(json)) {
    if (faults.length >= MAX_FAULTS) break;
    const field = findField(schema, key);
    if (field === undefined) {
      faults.push(fault(join(path, key), value, "unknown_field", `${join(path, key)}: unknown field of ${schema.typeName}`));
      continue;
    }
    const fieldPath = join(path, field.name);
    if (seen.has(field)) {
      faults.push(fault(fieldPath, value, "duplicate_field", `${fieldPath}: set twice (by proto name and JSON name)`));
      continue;
    }
    seen.add(field);
    if (field.oneof && value !== null) {
      const other = oneofs.get(field.oneof.name);
      if (other) {
        faults.push(fault(fieldPath, value, "oneof", `${fieldPath}: only one of ${other.name} and ${field.name} may be set`));
        continue;
      }
      oneofs.set(field.oneof.name, field);
    }
    const detail = tryDecode(schema, { [key]: value as JsonValue }, registry);
    if (detail !== undefined) faults.push(...locateInField(schema, key, field, value, fieldPath, detail, registry));
  }
  return faults;
}

function locateInField(
  parent: DescMessage,
  key: string,
  field: DescField,
  value: unknown,
  path: string,
  detail: string,
  registry: Registry | undefined,
): TranscodeFault[] {
  // A list or map is tried one element at a time so the error names each bad element.
  const faults: TranscodeFault[] = [];
  if (field.fieldKind === "list" && Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      if (faults.length >= MAX_FAULTS) break;
      const itemDetail = tryDecode(parent, { [key]: [item as JsonValue] }, registry);
      if (itemDetail !== undefined) faults.push(...locateValue(field, item, `${path}[${i}]`, itemDetail, registry));
    }
  } else if (field.fieldKind === "map" && isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (faults.length >= MAX_FAULTS) break;
      const entryDetail = tryDecode(parent, { [key]: { [k]: v as JsonValue } }, registry);
      if (entryDetail !== undefined) faults.push(...locateValue(field, v, `${path}[${JSON.stringify(k)}]`, entryDetail, registry));
    }
  } else if (field.fieldKind === "list" || field.fieldKind === "map") {
    const expected = field.fieldKind === "list" ? "an array" : "an object";
    return [fault(path, value, "type", `${path}: expected ${expected}, got ${show(value)}`)];
  }
  return faults.length > 0 ? faults : locateValue(field, value, path, detail, registry);
}

function locateValue(field: DescField, value: unknown, path: string, detail: string, registry: Registry | undefined): TranscodeFault[] {
  if (field.message && isPlainMessage(field.message) && isPlainObject(value)) {
    const inner = locateInMessage(field.message, value, path, registry);
    if (inner.length > 0) return inner;
  }
  // JSON.parse reads 1e400 as Infinity, which JSON cannot even echo back.
  if (typeof value === "number" && !Number.isFinite(value)) {
    return [fault(path, undefined, "range", `${path}: the number is out of range for ${expectation(field)}`)];
  }
  const constraint = classify(field, value, detail);
  if (constraint === "range") {
    return [fault(path, value, "range", `${path}: ${show(value)} is out of range for ${expectation(field)}`)];
  }
  return [fault(path, value, constraint, `${path}: expected ${expectation(field)}, got ${show(value)}`)];
}

/** The scalar a field (or list/map element, or wrapper message) finally holds. */
function scalarOf(field: DescField): ScalarType | undefined {
  if (field.scalar !== undefined) return field.scalar;
  return field.message && isWrapperDesc(field.message) ? field.message.fields[0].scalar : undefined;
}

function classify(field: DescField, value: unknown, detail: string): TranscodeConstraint {
  const scalar = scalarOf(field);
  if (scalar !== undefined) {
    const numeric = typeof value === "number" || (typeof value === "string" && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value));
    if (numeric && /out of range/.test(detail)) return "range";
    if (scalar === ScalarType.BYTES && typeof value === "string") return "format";
    return "type";
  }
  if (field.enum) return typeof value === "string" || Number.isInteger(value) ? "enum" : "type";
  if (field.message && !isPlainMessage(field.message) && typeof value === "string") return "format";
  return "type";
}

const scalarNames: Record<ScalarType, string> = {
  [ScalarType.DOUBLE]: "a number",
  [ScalarType.FLOAT]: "a 32-bit float",
  [ScalarType.INT64]: "a 64-bit integer (number or decimal string)",
  [ScalarType.SINT64]: "a 64-bit integer (number or decimal string)",
  [ScalarType.SFIXED64]: "a 64-bit integer (number or decimal string)",
  [ScalarType.UINT64]: "an unsigned 64-bit integer (number or decimal string)",
  [ScalarType.FIXED64]: "an unsigned 64-bit integer (number or decimal string)",
  [ScalarType.INT32]: "a 32-bit integer",
  [ScalarType.SINT32]: "a 32-bit integer",
  [ScalarType.SFIXED32]: "a 32-bit integer",
  [ScalarType.UINT32]: "an unsigned 32-bit integer",
  [ScalarType.FIXED32]: "an unsigned 32-bit integer",
  [ScalarType.BOOL]: "true or false",
  [ScalarType.STRING]: "a string",
  [ScalarType.BYTES]: "a base64 string",
};

const wktNames: Record<string, string> = {
  "google.protobuf.Timestamp": 'an RFC 3339 timestamp such as "2024-01-31T12:00:00Z"',
  "google.protobuf.Duration": 'a duration such as "1.5s"',
  "google.protobuf.FieldMask": "a comma-separated list of field paths",
  "google.protobuf.Struct": "an object",
  "google.protobuf.ListValue": "an array",
  "google.protobuf.Value": "a JSON value",
  "google.protobuf.Any": 'an object with "@type"',
};

/** What a field (or one element of a list/map field) accepts, in words for the error message. */
function expectation(field: DescField): string {
  const scalar = scalarOf(field);
  if (scalar !== undefined) return scalarNames[scalar];
  if (field.enum) {
    const names = field.enum.values.map((v) => v.name);
    return `one of ${names.slice(0, 20).join(", ")}${names.length > 20 ? ", ..." : ""}`;
  }
  return (field.message && wktNames[field.message.typeName]) ?? "an object";
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

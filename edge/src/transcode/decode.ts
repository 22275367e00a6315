import {
  fromJson,
  ScalarType,
  type DescField,
  type DescMessage,
  type JsonValue,
  type MessageShape,
  type Registry,
} from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { TranscodeError, type TranscodeConstraint } from "./errors.js";
import { findField, isPlainMessage, isPlainObject } from "./fields.js";

/**
 * Decodes proto JSON strictly (unknown fields are errors) with protobuf-es. protobuf-es only
 * says which message type failed, so on failure the JSON is walked again, one key at a time,
 * to name the exact field path at fault. That second walk runs only for bad requests.
 */
export function decodeMessage<D extends DescMessage>(schema: D, json: JsonValue, registry?: Registry): MessageShape<D> {
  try {
    return fromJson(schema, json, { registry });
  } catch (cause) {
    const fault = locateInMessage(schema, json, "", registry);
    if (fault !== undefined) throw fault;
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

function locateInMessage(schema: DescMessage, json: unknown, path: string, registry: Registry | undefined): TranscodeError | undefined {
  if (!isPlainObject(json)) {
    return new TranscodeError(path || undefined, json, "type", `${path || "request"}: expected an object, got ${show(json)}`);
  }
  const seen = new Set<DescField>();
  const oneofs = new Map<string, DescField>();
  for (const [key, value] of Object.entries(json)) {
    const field = findField(schema, key);
    if (field === undefined) {
      return new TranscodeError(join(path, key), value, "unknown_field", `${join(path, key)}: unknown field of ${schema.typeName}`);
    }
    const fieldPath = join(path, field.name);
    if (seen.has(field)) {
      return new TranscodeError(fieldPath, value, "duplicate_field", `${fieldPath}: set twice (by proto name and JSON name)`);
    }
    seen.add(field);
    if (field.oneof && value !== null) {
      const other = oneofs.get(field.oneof.name);
      if (other) {
        return new TranscodeError(fieldPath, value, "oneof", `${fieldPath}: only one of ${other.name} and ${field.name} may be set`);
      }
      oneofs.set(field.oneof.name, field);
    }
    const detail = tryDecode(schema, { [key]: value as JsonValue }, registry);
    if (detail !== undefined) return locateInField(schema, key, field, value, fieldPath, detail, registry);
  }
  return undefined;
}

function locateInField(
  parent: DescMessage, key: string, field: DescField, value: unknown, path: string, detail: string, registry: Registry | undefined,
): TranscodeError {
  // A list or map is tried one element at a time so the error names the element.
  if (field.fieldKind === "list" && Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const itemDetail = tryDecode(parent, { [key]: [item as JsonValue] }, registry);
      if (itemDetail !== undefined) return locateValue(field, item, `${path}[${i}]`, itemDetail, registry);
    }
  } else if (field.fieldKind === "map" && isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const entryDetail = tryDecode(parent, { [key]: { [k]: v as JsonValue } }, registry);
      if (entryDetail !== undefined) return locateValue(field, v, `${path}[${JSON.stringify(k)}]`, entryDetail, registry);
    }
  } else if (field.fieldKind === "list" || field.fieldKind === "map") {
    const expected = field.fieldKind === "list" ? "an array" : "an object";
    return new TranscodeError(path, value, "type", `${path}: expected ${expected}, got ${show(value)}`);
  }
  return locateValue(field, value, path, detail, registry);
}

function locateValue(field: DescField, value: unknown, path: string, detail: string, registry: Registry | undefined): TranscodeError {
  if (field.message && isPlainMessage(field.message) && isPlainObject(value)) {
    const inner = locateInMessage(field.message, value, path, registry);
    if (inner !== undefined) return inner;
  }
  const constraint = classify(field, value, detail);
  if (constraint === "range") {
    return new TranscodeError(path, value, "range", `${path}: ${show(value)} is out of range for ${expectation(field)}`);
  }
  return new TranscodeError(path, value, constraint, `${path}: expected ${expectation(field)}, got ${show(value)}`);
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

import { ScalarType, type DescField, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { TranscodeError } from "./errors.js";
import { findField, isPlainMessage, protoPath } from "./fields.js";

/** Well-known types whose JSON form is a single string or scalar, so a query parameter can carry them. */
const textualWkts = new Set(["google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"]);

/** Whether a field (the last one of a query parameter's path) can take its value from query text. */
export function isQueryLeaf(field: DescField): boolean {
  if (field.fieldKind === "map") return false;
  if (field.scalar !== undefined || field.enum !== undefined) return true;
  return textualWkts.has(field.message.typeName) || isWrapperDesc(field.message);
}

/**
 * Proto JSON for one query or path value. Numbers stay strings (proto JSON accepts decimal
 * strings for every numeric type), so range and type checks happen in one place: fromJson.
 */
export function textToJson(field: DescField, text: string): JsonValue {
  const scalar = field.scalar ?? (field.message && isWrapperDesc(field.message) ? field.message.fields[0].scalar : undefined);
  if (scalar === ScalarType.BOOL) return text === "true" ? true : text === "false" ? false : text;
  if (field.enum !== undefined) return /^-?\d+$/.test(text) ? Number(text) : text;
  if (field.message?.typeName === "google.protobuf.FieldMask") return camelCaseFieldMask(text);
  return text;
}

/** Query strings may name mask paths in snake_case; proto JSON wants lowerCamelCase. */
function camelCaseFieldMask(text: string): string {
  return text
    .split(",")
    .map((path) => path.trim().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()))
    .join(",");
}

/** A NUL in a path or query value ("%00") is refused here: no service can store it (Postgres text cannot). */
export function rejectNul(field: string, text: string): void {
  if (text.includes("\0")) throw new TranscodeError(field, undefined, "nul_character", `${field}: the value holds a NUL character (%00)`);
}

export interface QueryParameter {
  /** The fields from the input message down to the leaf. */
  readonly chain: DescField[];
  /** The JSON values, one per occurrence (an array for repeated fields). */
  readonly value: JsonValue;
}

/**
 * Resolves each query parameter (proto or JSON names, dotted for nested fields) to a field
 * path and its JSON value. `isBound` says whether a field path (proto names) is already
 * taken by the URL path or the body, which makes the parameter an error.
 */
export function readQuery(input: DescMessage, query: URLSearchParams, isBound: (protoPath: string) => "path" | "body" | undefined): QueryParameter[] {
  const params: QueryParameter[] = [];
  const taken = new Map<string, string>();
  for (const key of new Set(query.keys())) {
    const texts = query.getAll(key);
    const chain = resolveQueryKey(input, key);
    const leaf = chain?.at(-1);
    if (chain === undefined || leaf === undefined) {
      throw new TranscodeError(key, texts.length === 1 ? texts[0] : texts, "unknown_query_parameter", `unknown query parameter "${key}"`);
    }
    const path = protoPath(chain);
    const bound = isBound(path);
    if (bound !== undefined) {
      const where = bound === "path" ? "the URL path" : "the request body";
      throw new TranscodeError(path, texts, "conflict", `${path}: already bound by ${where}; it cannot also be a query parameter`);
    }
    const earlier = taken.get(path);
    if (earlier !== undefined) {
      throw new TranscodeError(path, texts, "multiple_values", `${path}: given as both "${earlier}" and "${key}"`);
    }
    taken.set(path, key);
    if (leaf.fieldKind !== "list" && texts.length > 1) {
      throw new TranscodeError(path, texts, "multiple_values", `${path}: not repeated, but given ${texts.length} times`);
    }
    for (const text of texts) rejectNul(path, text);
    const values = texts.map((t) => textToJson(leaf, t));
    params.push({ chain, value: leaf.fieldKind === "list" ? values : values[0]! });
  }
  return params;
}

/** Like resolveFieldPath, but only paths that end in a field a query parameter can set. */
function resolveQueryKey(input: DescMessage, key: string): DescField[] | undefined {
  const chain: DescField[] = [];
  let message: DescMessage | undefined = input;
  for (const name of key.split(".")) {
    const field: DescField | undefined = message && findField(message, name);
    if (field === undefined) return undefined;
    chain.push(field);
    message = field.fieldKind === "message" && isPlainMessage(field.message) ? field.message : undefined;
  }
  return isQueryLeaf(chain.at(-1)!) ? chain : undefined;
}

/**
 * Every field path a query parameter may set: leaves reachable through singular plain
 * messages, stopping at recursion. `skip` prunes paths bound elsewhere (path or body).
 */
export function queryParameterChains(input: DescMessage, skip: (protoPath: string) => boolean): DescField[][] {
  const out: DescField[][] = [];
  const walk = (message: DescMessage, prefix: DescField[], stack: Set<string>) => {
    for (const field of message.fields) {
      const chain = [...prefix, field];
      if (skip(protoPath(chain))) continue;
      if (isQueryLeaf(field)) {
        out.push(chain);
      } else if (field.fieldKind === "message" && isPlainMessage(field.message) && !stack.has(field.message.typeName)) {
        walk(field.message, chain, new Set([...stack, field.message.typeName]));
      }
    }
  };
  walk(input, [], new Set([input.typeName]));
  return out;
}

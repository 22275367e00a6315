import {
  create,
  ScalarType,
  type DescField,
  type DescMessage,
  type DescMethod,
  type JsonObject,
  type JsonValue,
  type MessageShape,
  type Registry,
} from "@bufbuild/protobuf";
import { decodeMessage } from "./decode.js";
import { TranscodeError } from "./errors.js";
import { findField, isPlainMessage, isPlainObject, protoPath, resolveFieldPath } from "./fields.js";
import { checkJsonText } from "./json-text.js";
import { rejectNul, readQuery, textToJson } from "./query.js";
import type { HttpBinding } from "./routes.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses a request body. Empty text means "no body" (undefined); anything else must be UTF-8
 * JSON that checkJsonText accepts (bounded depth, no repeated keys, no NUL). `bodyField` is the
 * rule's body (HttpBinding.body): when it names a field, faults in the text are named under it.
 */
export function parseJsonBody(body: string | Uint8Array, bodyField = ""): unknown {
  let source: string;
  try {
    source = typeof body === "string" ? body : utf8.decode(body);
  } catch {
    throw new TranscodeError(undefined, undefined, "encoding", "request body is not valid UTF-8");
  }
  if (source.trim() === "") return undefined;
  // Before parsing: what comes after the parse (fromJson, error reporting) recurses.
  checkJsonText(source, bodyField === "*" ? "" : bodyField);
  try {
    return JSON.parse(source) as unknown;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new TranscodeError(undefined, undefined, "malformed_json", `request body is not valid JSON: ${why}`);
  }
}

/**
 * Builds the input message of `method` from a REST request matched to `rule`:
 * - body "*": the JSON body is the message; path variables are set on top of it;
 * - body "<field>": the JSON body is that field; other fields come from path and query;
 * - no body: path variables and query parameters fill the message.
 * `body` is the parsed JSON (see parseJsonBody), undefined when the request had none.
 * Throws TranscodeError for anything the request gets wrong.
 */
export function buildRequest<I extends DescMessage>(
  method: DescMethod & { readonly input: I },
  rule: HttpBinding,
  pathVars: Readonly<Record<string, string>>,
  query: URLSearchParams,
  body: unknown,
  options?: { registry?: Registry },
): MessageShape<I> {
  const input = method.input;
  if (rule.body === "" && body === undefined && query.keys().next().done) {
    const direct = fromPathOnly(input, pathVars);
    if (direct !== undefined) return direct;
  }
  let json: JsonObject = {};
  if (rule.body === "") {
    if (body !== undefined) {
      throw new TranscodeError(undefined, undefined, "body_not_allowed", `${rule.httpMethod} ${rule.template.source} takes no request body`);
    }
  } else if (rule.body === "*") {
    if (body !== undefined && !isPlainObject(body)) {
      throw new TranscodeError(undefined, body, "type", "the request body must be a JSON object");
    }
    json = { ...(body as JsonObject | undefined) };
  } else if (body !== undefined) {
    const field = findField(input, rule.body)!;
    if (field.fieldKind === "message" && isPlainMessage(field.message) && !isPlainObject(body)) {
      throw new TranscodeError(field.name, body, "type", `${field.name}: the request body must be a JSON object`);
    }
    json = { [field.jsonName]: body as JsonValue };
  }

  for (const [path, text] of Object.entries(pathVars)) {
    const chain = resolveFieldPath(input, path);
    if (chain === undefined) throw new Error(`path variable {${path}} is not a field of ${input.typeName}`);
    rejectNul(protoPath(chain), text);
    json = setIn(json, chain, textToJson(chain.at(-1)!, text), "the URL path");
  }

  if ([...query.keys()].length > 0) {
    if (rule.body === "*") {
      const key = [...query.keys()][0]!;
      throw new TranscodeError(
        key,
        query.get(key),
        "unknown_query_parameter",
        `query parameter "${key}" is not accepted: this endpoint takes every field in the body`,
      );
    }
    const bound = new Set(Object.keys(pathVars).map((p) => protoPath(resolveFieldPath(input, p)!)));
    const isBound = (path: string) =>
      bound.has(path) ? "path" : rule.body !== "" && (path === rule.body || path.startsWith(`${rule.body}.`)) ? "body" : undefined;
    for (const param of readQuery(input, query, isBound)) {
      json = setIn(json, param.chain, param.value, "a query parameter");
    }
  }
  return decodeMessage(input, json, options?.registry);
}

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The request of a call that only the URL path fills (a GET or DELETE by id, say), made
 * directly when every path variable is a top-level string field outside any oneof and its text
 * is one fromJson would take as it is (well-formed, no NUL). Proto JSON and fromJson would give
 * the same message at several times the cost. Undefined sends the request the general way,
 * which also reports whatever is wrong with it.
 */
function fromPathOnly<I extends DescMessage>(input: I, pathVars: Readonly<Record<string, string>>): MessageShape<I> | undefined {
  const init: Record<string, string> = {};
  for (const path of Object.keys(pathVars)) {
    const text = pathVars[path]!;
    const field = findField(input, path);
    if (field === undefined || field.fieldKind !== "scalar" || field.scalar !== ScalarType.STRING || field.oneof !== undefined) return undefined;
    if (field.localName in init || text.includes("\0") || LONE_SURROGATE.test(text)) return undefined;
    init[field.localName] = text;
  }
  return create(input, init as never);
}

/**
 * Returns a copy of `json` with the value at `chain` set, copying only the objects on the
 * way so the caller's body is never mutated. A different value already there (from the
 * body) is a conflict; the same value is fine, since clients often repeat the id.
 */
function setIn(json: JsonObject, chain: readonly DescField[], value: JsonValue, source: string, depth = 0): JsonObject {
  const field = chain[depth];
  if (field === undefined) return json;
  const key = field.jsonName in json ? field.jsonName : field.name in json ? field.name : field.jsonName;
  const existing = json[key];
  const path = protoPath(chain.slice(0, depth + 1));
  if (depth === chain.length - 1) {
    if (existing !== undefined && existing !== null && !sameValue(field, existing, value)) {
      const message = `${path}: the body says ${JSON.stringify(existing)} but ${source} says ${JSON.stringify(value)}`;
      throw new TranscodeError(path, existing, "conflict", message);
    }
    return { ...json, [key]: value };
  }
  if (existing !== undefined && existing !== null && !isPlainObject(existing)) {
    throw new TranscodeError(path, existing, "type", `${path}: expected an object, got ${JSON.stringify(existing)}`);
  }
  const inner = (existing as JsonObject | null | undefined) ?? {};
  return { ...json, [key]: setIn(inner, chain, value, source, depth + 1) };
}

function sameValue(field: DescField, a: JsonValue, b: JsonValue): boolean {
  if (field.enum !== undefined) {
    const number = (v: JsonValue) => (typeof v === "string" ? (field.enum.values.find((e) => e.name === v)?.number ?? v) : v);
    return number(a) === number(b);
  }
  return String(a) === String(b);
}

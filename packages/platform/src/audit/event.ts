import { randomUUID } from "node:crypto";
import { create, type DescMethod, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import { AuditEventSchema, AuditOutcome, type AuditEvent } from "@inv/gen/user/v1/audit_pb";
import { methodPath } from "../grpc/adapter.js";
import type { Caller } from "../auth/principal.js";
import { PRINCIPAL_KINDS } from "../auth/wire.js";
import type { AuditFacts } from "./facts.js";

/** The most a record's details may take as JSON (UTF-8 bytes), as audit.proto promises. */
export const AUDIT_DETAILS_MAX_BYTES = 8 * 1024;
/** audit.proto keeps at most this many characters of a User-Agent. */
export const AUDIT_USER_AGENT_MAX_CHARS = 256;
/** Error messages are the caller's text, not a dump: longer ones are cut, so one record stays small. */
export const AUDIT_ERROR_MESSAGE_MAX_CHARS = 1024;
/** What replaces the value of a secret-looking key in the details. */
export const AUDIT_REDACTED = "[redacted]";

/**
 * Keys whose values never reach the audit trail, at any depth. Deliberately broad ("passport"
 * and "bypass" match "pass" too): a redacted harmless fact costs less than a leaked secret.
 */
export const AUDIT_SECRET_KEY = /pass(word)?|secret|token|api[_-]?key|authorization|credential/i;

/** What the platform knows about a finished call, from which auditEventOf builds its record. */
export interface AuditEventInput {
  /** The service that handled the call, e.g. "inventory". */
  service: string;
  /** The RPC, as its descriptor or as its path "/pkg.Service/Method". */
  method: DescMethod | string;
  /** The permission the RPC required, e.g. "stock.write"; "" for public RPCs. */
  permission: string;
  caller: Caller;
  /** The call's x-request-id. */
  requestId: string;
  /** The gRPC status the call ended with. */
  code: status;
  /** The message returned to the caller; kept only when the call did not succeed. */
  errorMessage?: string | undefined;
  /** What the handler told the trail (resource and details). */
  facts?: AuditFacts | undefined;
  /** When the call finished; now by default. */
  occurTime?: Date | undefined;
}

/**
 * One audit record for one call (a fresh UUID as its id, so the receiver can store each record
 * once however often the relay ships it). Details are scrubbed of secret-looking keys and capped
 * at AUDIT_DETAILS_MAX_BYTES (see scrubDetails).
 */
export function auditEventOf(input: AuditEventInput): AuditEvent {
  const outcome = outcomeOf(input.code);
  const details = input.facts?.details === undefined ? undefined : scrubDetails(input.facts.details);
  return create(AuditEventSchema, {
    id: randomUUID(),
    occurTime: timestampFromDate(input.occurTime ?? new Date()),
    requestId: input.requestId,
    ...actorOf(input.caller),
    service: input.service,
    method: typeof input.method === "string" ? input.method : methodPath(input.method),
    permission: input.permission,
    resourceType: input.facts?.resourceType ?? "",
    resourceId: input.facts?.resourceId ?? "",
    outcome,
    statusCode: status[input.code] ?? String(input.code),
    errorMessage: outcome === AuditOutcome.SUCCESS ? "" : truncateChars(input.errorMessage ?? "", AUDIT_ERROR_MESSAGE_MAX_CHARS),
    clientIp: input.caller.clientIp ?? "",
    userAgent: truncateChars(input.caller.userAgent ?? "", AUDIT_USER_AGENT_MAX_CHARS),
    ...(details ? { details } : {}),
  });
}

/** OK is a success; a refusal for lack of credentials or permission is a denial; the rest failures. */
export function outcomeOf(code: status): AuditOutcome {
  if (code === status.OK) return AuditOutcome.SUCCESS;
  if (code === status.UNAUTHENTICATED || code === status.PERMISSION_DENIED) return AuditOutcome.DENIED;
  return AuditOutcome.FAILURE;
}

/**
 * Who acted. Users: their id and username. API keys: the key id, acting on behalf of the owner
 * (the principal carries the owner's username, not the key's name, so that is the name recorded).
 * Services: "service:<name>" and the name.
 */
function actorOf(caller: Caller) {
  const p = caller.principal;
  switch (p.kind) {
    case "user":
      return { actorKind: PRINCIPAL_KINDS.user, actorId: p.subject, actorName: p.username, onBehalfOfUserId: "" };
    case "api_key":
      return { actorKind: PRINCIPAL_KINDS.api_key, actorId: p.apiKeyId ?? "", actorName: p.username, onBehalfOfUserId: p.subject };
    case "service": {
      const name = p.username || p.subject.replace(/^service:/, "");
      return { actorKind: PRINCIPAL_KINDS.service, actorId: `service:${name}`, actorName: name, onBehalfOfUserId: "" };
    }
    default:
      return { actorKind: PRINCIPAL_KINDS.anonymous, actorId: "", actorName: "", onBehalfOfUserId: "" };
  }
}

/**
 * The details as plain JSON that is safe and small enough to keep. (protobuf-es holds a
 * google.protobuf.Struct field as a JsonObject and converts it on encoding, so the result must
 * be exactly JSON: no undefined, bigint, Date or NaN, which the JSON round trip here ensures.)
 * - every key matching AUDIT_SECRET_KEY, at any depth (in arrays too), has its value replaced by
 *   AUDIT_REDACTED;
 * - a key named "__proto__" is dropped;
 * - values JSON cannot hold are dropped or converted the way JSON.stringify does (undefined and
 *   functions dropped, Dates as ISO strings, NaN as null), bigints become decimal strings;
 * - when the result is over AUDIT_DETAILS_MAX_BYTES as JSON, it becomes `{ truncated: true }`
 *   plus, in their order, the top-level entries that still fit (an oversized entry is left out
 *   whole: a cut-off value could mislead, a missing one cannot);
 * - details that cannot be encoded at all (a cycle) become `{ unserializable: true }`.
 */
export function scrubDetails(details: Record<string, unknown>): JsonObject {
  let json: string;
  try {
    json = JSON.stringify(details, scrubber) ?? "{}";
  } catch {
    return { unserializable: true };
  }
  const scrubbed = JSON.parse(json) as unknown;
  if (scrubbed === null || typeof scrubbed !== "object" || Array.isArray(scrubbed)) return {};
  if (Buffer.byteLength(json) <= AUDIT_DETAILS_MAX_BYTES) return scrubbed as JsonObject;
  return truncated(scrubbed as JsonObject);
}

function scrubber(this: unknown, key: string, value: unknown): unknown {
  // A "__proto__" key would not survive the trip through google.protobuf.Struct (it would set
  // the prototype of the object it lands in), and no handler means one: it is dropped.
  if (key === "__proto__") return undefined;
  // Array indices are keys too ("0", "1"): they never look like secrets.
  if (key !== "" && !Array.isArray(this) && AUDIT_SECRET_KEY.test(key)) return AUDIT_REDACTED;
  return typeof value === "bigint" ? value.toString() : value;
}

function truncated(scrubbed: JsonObject): JsonObject {
  const entries: [string, JsonObject[string]][] = [["truncated", true]];
  let size = Buffer.byteLength(JSON.stringify({ truncated: true }));
  for (const [key, value] of Object.entries(scrubbed)) {
    if (key === "truncated") continue;
    // One more entry costs a comma, its key, a colon and its value.
    const cost = 2 + Buffer.byteLength(JSON.stringify(key)) + Buffer.byteLength(JSON.stringify(value));
    if (size + cost > AUDIT_DETAILS_MAX_BYTES) continue;
    entries.push([key, value]);
    size += cost;
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays a plain key.
  return Object.fromEntries(entries);
}

/** At most `max` characters, counted in code points so a surrogate pair is never split. */
function truncateChars(text: string, max: number): string {
  if (text.length <= max) return text;
  return Array.from(text).slice(0, max).join("");
}

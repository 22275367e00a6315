import { timestampDate } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import { AuditOutcome, AuditRecordService, PrincipalKind } from "@inv/gen/user/v1/audit_pb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Caller, Principal } from "../auth/principal.js";
import { ANONYMOUS_CALLER } from "../auth/principal.js";
import { AUDIT_DETAILS_MAX_BYTES, AUDIT_REDACTED, AUDIT_SECRET_KEY, auditEventOf, scrubDetails, type AuditEventInput } from "./event.js";
import { decodeAuditEvent, encodeAuditEvent } from "./outbox.js";

const callerOf = (principal: Partial<Principal> & Pick<Principal, "kind">, extra: Partial<Caller> = {}): Caller => ({
  principal: { subject: "", username: "", roles: [], permissions: [], ...principal },
  credentials: {},
  ...extra,
});

const alice = callerOf({ kind: "user", subject: "u-1", username: "alice" }, { clientIp: "10.0.0.7", userAgent: "curl/8" });

const input = (over: Partial<AuditEventInput> = {}): AuditEventInput => ({
  service: "inventory",
  method: "/inventory.v1.StockService/AdjustStock",
  permission: "stock.write",
  caller: alice,
  requestId: "req-1",
  code: status.OK,
  ...over,
});

/** The details as they would travel: the Struct's JSON. */
const detailsJson = (details: Record<string, unknown>) => {
  const event = decodeAuditEvent(encodeAuditEvent(auditEventOf(input({ facts: { details } }))));
  return JSON.stringify(event.details ?? null);
};

describe("auditEventOf", () => {
  it("records who, what, when and how", () => {
    const before = Date.now();
    const e = auditEventOf(
      input({ method: AuditRecordService.method.recordAuditEvents, facts: { resourceType: "StockLevel", resourceId: "s-9", details: { delta: -3 } } }),
    );
    expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(timestampDate(e.occurTime!).getTime()).toBeGreaterThanOrEqual(before);
    expect(e).toMatchObject({
      requestId: "req-1",
      service: "inventory",
      method: "/user.v1.AuditRecordService/RecordAuditEvents",
      permission: "stock.write",
      resourceType: "StockLevel",
      resourceId: "s-9",
      outcome: AuditOutcome.SUCCESS,
      statusCode: "OK",
      errorMessage: "",
      clientIp: "10.0.0.7",
      userAgent: "curl/8",
    });
    expect(e.details).toEqual({ delta: -3 });
    expect(decodeAuditEvent(encodeAuditEvent(e))).toEqual(e);
  });

  it("maps status codes to outcomes and names", () => {
    const expected = (code: status) =>
      code === status.OK
        ? AuditOutcome.SUCCESS
        : code === status.UNAUTHENTICATED || code === status.PERMISSION_DENIED
          ? AuditOutcome.DENIED
          : AuditOutcome.FAILURE;
    for (let code = status.OK; code <= status.UNAUTHENTICATED; code++) {
      const e = auditEventOf(input({ code, errorMessage: "nope" }));
      expect(e.outcome).toBe(expected(code));
      expect(e.statusCode).toBe(status[code]);
      expect(e.errorMessage).toBe(code === status.OK ? "" : "nope");
    }
    expect(auditEventOf(input({ code: status.ABORTED })).statusCode).toBe("ABORTED");
  });

  it("names the actor per principal kind", () => {
    const actor = (c: Caller) => {
      const e = auditEventOf(input({ caller: c }));
      return { kind: e.actorKind, id: e.actorId, name: e.actorName, onBehalfOf: e.onBehalfOfUserId };
    };
    expect(actor(alice)).toEqual({ kind: PrincipalKind.USER, id: "u-1", name: "alice", onBehalfOf: "" });
    expect(actor(callerOf({ kind: "api_key", subject: "u-2", username: "bob", apiKeyId: "k-5" }))).toEqual({
      kind: PrincipalKind.API_KEY,
      id: "k-5",
      name: "bob",
      onBehalfOf: "u-2",
    });
    expect(actor(callerOf({ kind: "service", subject: "service:reservation", username: "reservation" }))).toEqual({
      kind: PrincipalKind.SERVICE,
      id: "service:reservation",
      name: "reservation",
      onBehalfOf: "",
    });
    expect(actor(ANONYMOUS_CALLER)).toEqual({ kind: PrincipalKind.ANONYMOUS, id: "", name: "", onBehalfOf: "" });
  });

  it("keeps 256 characters of a user agent, never splitting a character", () => {
    expect(auditEventOf(input({ caller: { ...alice, userAgent: "a".repeat(300) } })).userAgent).toBe("a".repeat(256));
    const emoji = "😀".repeat(300);
    expect(auditEventOf(input({ caller: { ...alice, userAgent: emoji } })).userAgent).toBe("😀".repeat(256));
    expect(auditEventOf(input({ caller: { ...alice, userAgent: undefined } })).userAgent).toBe("");
  });

  it("leaves details unset when the handler gave none", () => {
    expect(auditEventOf(input()).details).toBeUndefined();
  });
});

describe("scrubDetails", () => {
  it("redacts secret-looking keys at any depth, in arrays too", () => {
    const scrubbed = scrubDetails({
      sku: "SKU-1",
      password: "hunter2",
      nested: { deeper: [{ apiKey: "k", ok: 1 }, { Authorization: { scheme: "Bearer", value: "t" } }] },
      refresh_token: null,
      credentials: ["a", "b"],
    });
    expect(scrubbed).toEqual({
      sku: "SKU-1",
      password: AUDIT_REDACTED,
      nested: { deeper: [{ apiKey: AUDIT_REDACTED, ok: 1 }, { Authorization: AUDIT_REDACTED }] },
      refresh_token: AUDIT_REDACTED,
      credentials: AUDIT_REDACTED,
    });
  });

  it("keeps what JSON keeps and survives what it cannot encode", () => {
    expect(scrubDetails({ n: 10n, d: new Date(0), u: undefined, f: () => 1, x: Number.NaN })).toEqual({ n: "10", d: "1970-01-01T00:00:00.000Z", x: null });
    const cycle: Record<string, unknown> = {};
    cycle["self"] = cycle;
    expect(scrubDetails(cycle)).toEqual({ unserializable: true });
  });

  it("caps details at 8 KiB: truncated, with the top-level entries that fit", () => {
    const details = { a: "x".repeat(3000), big: "y".repeat(9000), b: "z".repeat(3000), c: "é".repeat(3000), truncated: "mine" };
    const json = detailsJson(details);
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(AUDIT_DETAILS_MAX_BYTES);
    expect(JSON.parse(json)).toEqual({ truncated: true, a: details.a, b: details.b });
  });

  it("drops a key named __proto__, which google.protobuf.Struct could not carry, and pollutes nothing", () => {
    const details = JSON.parse(`{"__proto__": {"x": 1}, "big": "${"y".repeat(9000)}"}`) as Record<string, unknown>;
    expect(Object.keys(scrubDetails(details))).toEqual(["truncated"]);
    expect(scrubDetails(JSON.parse('{"__proto__": {"x": 1}, "a": 2}') as Record<string, unknown>)).toEqual({ a: 2 });
    expect(detailsJson(JSON.parse('{"__proto__": {"x": 1}, "a": 2}'))).toBe('{"a":2}');
    expect(({} as Record<string, unknown>)["x"]).toBeUndefined();
  });
});

/** Values under secret keys carry this mark, so any survivor is easy to spot. */
const MARK = "S3CR3T-VALUE-";
const SECRET_NAMES = ["password", "Password", "pass", "passwd", "secret", "clientSecret", "token", "refresh_token", "accessToken"].concat([
  "api_key",
  "apiKey",
  "API-KEY",
  "apikey",
  "authorization",
  "Authorization",
  "credential",
  "credentials",
]);
const secretKey = fc
  .tuple(fc.constantFrom("", "x", "user_", "db."), fc.constantFrom(...SECRET_NAMES), fc.constantFrom("", "_hash", "Value", "2"))
  .map((parts) => parts.join(""));
const secretValue = fc.oneof(
  fc.string().map((s) => MARK + s),
  fc.array(
    fc.string().map((s) => MARK + s),
    { minLength: 1, maxLength: 3 },
  ),
  fc.dictionary(
    fc.string(),
    fc.string().map((s) => MARK + s),
    { minKeys: 1, maxKeys: 3 },
  ),
);
const leaf = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  // Long runs of one character (multi-byte ones too), so some details go over 8 KiB.
  fc
    .tuple(fc.string({ unit: "binary", minLength: 1, maxLength: 1 }), fc.nat({ max: 3000 }))
    .map(([c, n]) => c.repeat(n)),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const { object: detailsArb } = fc.letrec<{ tree: unknown; array: unknown[]; object: Record<string, unknown> }>((tie) => ({
  tree: fc.oneof({ depthSize: "small" }, leaf, tie("array"), tie("object")),
  array: fc.array(tie("tree"), { maxLength: 5 }),
  object: fc
    .array(fc.oneof(fc.tuple(fc.string({ unit: "binary", maxLength: 12 }), tie("tree")), fc.tuple(secretKey, secretValue)), { maxLength: 8 })
    .map((entries) => Object.fromEntries(entries)),
}));

/** The scrubbing rule, written out plainly for comparison. */
const redact = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== "__proto__")
      .map(([k, v]) => [k, AUDIT_SECRET_KEY.test(k) ? AUDIT_REDACTED : redact(v)]),
  );
};

describe("scrubbing, for arbitrary details", () => {
  it("lets no secret through and never exceeds 8 KiB; small details arrive whole", () => {
    let truncatedRuns = 0;
    fc.assert(
      fc.property(detailsArb, (details) => {
        const json = detailsJson(details);
        expect(json).not.toContain(MARK);
        expect(Buffer.byteLength(json)).toBeLessThanOrEqual(AUDIT_DETAILS_MAX_BYTES);
        const whole = JSON.stringify(redact(details));
        if (Buffer.byteLength(whole) <= AUDIT_DETAILS_MAX_BYTES) expect(json).toBe(whole);
        else {
          truncatedRuns++;
          expect(JSON.parse(json)).toMatchObject({ truncated: true });
        }
      }),
      { numRuns: 300 },
    );
    expect(truncatedRuns).toBeGreaterThan(0);
  });
});

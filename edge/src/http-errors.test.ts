/** How the edge turns a gRPC status into an HTTP status and the one error body (with every violation). */
import { status } from "@grpc/grpc-js";
import { type DomainError, Internal, InvalidArgument, NotFound, RemoteError, type FieldViolation } from "@inv/platform";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { EdgeError, asDomainError, errorBody, errorBodySchema, httpStatusOf } from "./http-errors.js";

describe("httpStatusOf", () => {
  it.each([
    [status.INVALID_ARGUMENT, 400],
    [status.FAILED_PRECONDITION, 400],
    [status.OUT_OF_RANGE, 400],
    [status.UNAUTHENTICATED, 401],
    [status.PERMISSION_DENIED, 403],
    [status.NOT_FOUND, 404],
    [status.ALREADY_EXISTS, 409],
    [status.ABORTED, 409],
    [status.RESOURCE_EXHAUSTED, 429],
    [status.CANCELLED, 499],
    [status.UNIMPLEMENTED, 501],
    [status.UNAVAILABLE, 503],
    [status.DEADLINE_EXCEEDED, 504],
    [status.INTERNAL, 500],
    [status.UNKNOWN, 500],
    [status.DATA_LOSS, 500],
  ])("gRPC %s → HTTP %i, whether the error came from a service or from the edge", (code, http) => {
    expect(httpStatusOf(new RemoteError(code, "x"))).toBe(http);
    expect(httpStatusOf(new EdgeError(code, "x"))).toBe(http);
  });

  it("maps the services' own error classes by their code", () => {
    expect(httpStatusOf(new InvalidArgument("bad", { field: "f", constraint: "pattern" }))).toBe(400);
    expect(httpStatusOf(new NotFound("gone"))).toBe(404);
    expect(httpStatusOf(new Internal("boom"))).toBe(500);
  });

  it("a code outside the table (OK, or not a gRPC code at all) → 500", () => {
    expect(httpStatusOf(new RemoteError(status.OK, "x"))).toBe(500);
    expect(httpStatusOf(new RemoteError(99 as status, "x"))).toBe(500);
  });

  it("an EdgeError's own httpStatus (405, 413, 415) wins over its code's", () => {
    expect(httpStatusOf(new EdgeError(status.INVALID_ARGUMENT, "wrong verb", undefined, 405))).toBe(405);
    expect(httpStatusOf(new EdgeError(status.RESOURCE_EXHAUSTED, "too big", undefined, 413))).toBe(413);
    expect(httpStatusOf(new EdgeError(status.INVALID_ARGUMENT, "form data", undefined, 415))).toBe(415);
  });
});

const bad = (...violations: FieldViolation[]) => new InvalidArgument(violations.map((v) => v.description ?? v.field).join("; "), violations);

describe("errorBody", () => {
  it("has code, reason, message, details, timestamp and request_id, with the first violation as details", () => {
    const before = Date.now();
    const body = errorBody(bad({ field: "warehouse.code", value: "lower", constraint: "pattern", description: "code must match" }), "req-1");
    expect(body).toEqual({
      error: {
        code: "INVALID_ARGUMENT",
        reason: "INVALID_ARGUMENT",
        message: "code must match",
        details: { field: "warehouse.code", value: "lower", constraint: "pattern" },
        violations: [{ field: "warehouse.code", value: "lower", constraint: "pattern", description: "code must match" }],
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        request_id: "req-1",
      },
    });
    expect(Date.parse(body.error.timestamp)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(body.error.timestamp)).toBeLessThanOrEqual(Date.now());
  });

  it("lists every violation, each with a description (the message when it has none)", () => {
    const err = new RemoteError(status.INVALID_ARGUMENT, "warehouse.code is required; warehouse.name is required", [
      { field: "warehouse.code", constraint: "required", description: "warehouse.code is required" },
      { field: "warehouse.name", constraint: "required" },
    ]);
    const { details, violations } = errorBody(err, "r").error;
    expect(details).toEqual({ field: "warehouse.code", constraint: "required" });
    expect(violations).toEqual([
      { field: "warehouse.code", constraint: "required", description: "warehouse.code is required" },
      { field: "warehouse.name", constraint: "required", description: "warehouse.code is required; warehouse.name is required" },
    ]);
  });

  it("details is {} and violations absent when no field is at fault", () => {
    const { error } = errorBody(new EdgeError(status.NOT_FOUND, "no route"), "req-2");
    expect(error.details).toEqual({});
    expect("violations" in error).toBe(false);
  });

  it("omits value when the violation has none, and keeps falsy values that are there", () => {
    const noValue = errorBody(bad({ field: "warehouse.name", constraint: "required" }), "r").error.details;
    expect(noValue).toEqual({ field: "warehouse.name", constraint: "required" });
    expect("value" in noValue).toBe(false);
    for (const value of [0, "", false, null]) {
      expect(errorBody(bad({ field: "f", value, constraint: "c" }), "r").error.details).toEqual({ field: "f", value, constraint: "c" });
    }
  });

  it("echoes no value that is long, not finite, cyclic or a BigInt, and still builds", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const value of ["x".repeat(600), Array.from({ length: 1000 }, (_, i) => i), Infinity, NaN, cyclic, 10n]) {
      const { error } = errorBody(bad({ field: "f", value, constraint: "c" }), "r");
      expect(error.details).toEqual({ field: "f", constraint: "c" });
      expect(error.violations![0]).not.toHaveProperty("value");
      expect(() => JSON.stringify(error)).not.toThrow();
    }
  });

  it("names every code by its gRPC name, and an unknown number UNKNOWN", () => {
    expect(errorBody(new EdgeError(status.FAILED_PRECONDITION, "m"), "r").error.code).toBe("FAILED_PRECONDITION");
    expect(errorBody(new EdgeError(status.DEADLINE_EXCEEDED, "m"), "r").error.code).toBe("DEADLINE_EXCEEDED");
    expect(errorBody(new RemoteError(99 as status, "m"), "r").error.code).toBe("UNKNOWN");
  });

  it("carries the service's reason when it says more than the code", () => {
    const err = new RemoteError(status.FAILED_PRECONDITION, "cycle", [{ field: "parent_unit_id", constraint: "no_cycle" }], "UNIT_CYCLE");
    expect(errorBody(err, "r").error).toMatchObject({ code: "FAILED_PRECONDITION", reason: "UNIT_CYCLE" });
  });

  it("serialises to the documented JSON, in order", () => {
    const json = JSON.stringify(
      errorBody(new RemoteError(status.ALREADY_EXISTS, "dup", [{ field: "warehouse.code", value: "W1", constraint: "unique" }]), "r9"),
    );
    expect(json).toMatch(
      /^\{"error":\{"code":"ALREADY_EXISTS","reason":"ALREADY_EXISTS","message":"dup","details":\{"field":"warehouse.code","value":"W1","constraint":"unique"\},"violations":\[\{"field":"warehouse.code","value":"W1","constraint":"unique","description":"dup"\}\],"timestamp":"[^"]+","request_id":"r9"\}\}$/,
    );
  });

  it("always matches errorBodySchema, the schema the OpenAPI document publishes", () => {
    const validate = new Ajv2020({ strict: false }).addFormat("date-time", true).compile(errorBodySchema);
    const bodies = [
      errorBody(new EdgeError(status.NOT_FOUND, "no route"), "r"),
      errorBody(bad({ field: "a", constraint: "required" }, { field: "b", value: { x: [1] }, constraint: "type", description: "b: expected" }), "r"),
    ];
    for (const body of bodies) expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ error: { code: "X", message: "m", timestamp: "t", request_id: "r" } })).toBe(false); // details is required
  });
});

describe("asDomainError", () => {
  it("passes domain errors through and hides anything else behind INTERNAL with the request id", () => {
    const domain: DomainError = new NotFound("gone");
    expect(asDomainError(domain, "r")).toEqual({ error: domain, unexpected: false });
    const { error, unexpected } = asDomainError(new Error("SELECT * FROM secrets"), "req-7");
    expect(unexpected).toBe(true);
    expect(error.code).toBe(status.INTERNAL);
    expect(error.message).toBe("internal error (request id req-7)");
    expect(httpStatusOf(error)).toBe(500);
  });
});

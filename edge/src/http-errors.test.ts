/** How the edge turns a gRPC status into an HTTP status and seed 000's error body. */
import { status } from "@grpc/grpc-js";
import { DomainError, Internal, InvalidArgument, NotFound, RemoteError } from "@inv/platform";
import { describe, expect, it } from "vitest";
import { EdgeError, asDomainError, errorBody, httpStatusOf } from "./http-errors.js";

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

describe("errorBody", () => {
  it("has exactly code, message, details, timestamp and request_id, with the violation as details", () => {
    const before = Date.now();
    const body = errorBody(status.INVALID_ARGUMENT, "code must match", { field: "warehouse.code", value: "lower", constraint: "pattern" }, "req-1");
    expect(body).toEqual({
      error: {
        code: "INVALID_ARGUMENT",
        message: "code must match",
        details: { field: "warehouse.code", value: "lower", constraint: "pattern" },
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        request_id: "req-1",
      },
    });
    expect(Date.parse(body.error.timestamp)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(body.error.timestamp)).toBeLessThanOrEqual(Date.now());
  });

  it("details is {} when there is no violation", () => {
    expect(errorBody(status.NOT_FOUND, "no route", undefined, "req-2").error.details).toEqual({});
  });

  it("omits value when the violation has none, and keeps falsy values that are there", () => {
    const noValue = errorBody(status.INVALID_ARGUMENT, "m", { field: "warehouse.name", constraint: "required" }, "r").error.details;
    expect(noValue).toEqual({ field: "warehouse.name", constraint: "required" });
    expect("value" in noValue).toBe(false);
    for (const value of [0, "", false, null]) {
      expect(errorBody(status.INVALID_ARGUMENT, "m", { field: "f", value, constraint: "c" }, "r").error.details).toEqual({ field: "f", value, constraint: "c" });
    }
  });

  it("names every code by its gRPC name, and an unknown number UNKNOWN", () => {
    expect(errorBody(status.FAILED_PRECONDITION, "m", undefined, "r").error.code).toBe("FAILED_PRECONDITION");
    expect(errorBody(status.DEADLINE_EXCEEDED, "m", undefined, "r").error.code).toBe("DEADLINE_EXCEEDED");
    expect(errorBody(99 as status, "m", undefined, "r").error.code).toBe("UNKNOWN");
  });

  it("serialises to the documented JSON, in order", () => {
    const json = JSON.stringify(errorBody(status.ALREADY_EXISTS, "dup", { field: "warehouse.code", value: "W1", constraint: "unique" }, "r9"));
    expect(json).toMatch(
      /^\{"error":\{"code":"ALREADY_EXISTS","message":"dup","details":\{"field":"warehouse.code","value":"W1","constraint":"unique"\},"timestamp":"[^"]+","request_id":"r9"\}\}$/,
    );
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

import { create } from "@bufbuild/protobuf";
import { TimestampSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { violationsOf } from "./testing/violations.js";
import { SHORT_CODE_PATTERN } from "./field-limits.js";
import { checkFields, type FieldChecker } from "./validation.js";

const first = (check: (v: FieldChecker) => unknown) => violationsOf(check)[0];

describe("FieldChecker", () => {
  it("codes: upper case, digits, - and _; short codes may be one character", () => {
    expect(checkFields((v) => v.code("code", "AMS-1"))).toBe("AMS-1");
    expect(checkFields((v) => v.code("code", "A", SHORT_CODE_PATTERN))).toBe("A");
    expect(first((v) => v.code("code", "A"))).toMatchObject({ constraint: "pattern" });
    expect(first((v) => v.code("code", "ams"))).toMatchObject({ field: "code", constraint: "pattern", value: "ams" });
    expect(first((v) => v.code("code", ""))).toMatchObject({ constraint: "required" });
    expect(first((v) => v.code("code", "X".repeat(33)))).toMatchObject({ constraint: "pattern" });
  });

  it("ids are UUIDs, normalised to lower case; optional ids may be empty", () => {
    expect(checkFields((v) => v.id("id", "0190A0A0-0000-7000-8000-00000000ABCD"))).toBe("0190a0a0-0000-7000-8000-00000000abcd");
    expect(checkFields((v) => v.optionalId("id", ""))).toBeNull();
    expect(first((v) => v.id("id", "1"))).toMatchObject({ constraint: "format" });
    expect(first((v) => v.id("id", ""))).toMatchObject({ constraint: "required" });
  });

  it("text is trimmed, bounded and free of control characters", () => {
    expect(checkFields((v) => v.text("name", "  Main  ", { max: 10 }))).toBe("Main");
    expect(first((v) => v.text("name", "   ", { max: 10, required: true }))).toMatchObject({ constraint: "required" });
    expect(first((v) => v.text("name", "x".repeat(11), { max: 10 }))).toMatchObject({ constraint: "max_length" });
    expect(first((v) => v.text("name", "a\nb", { max: 10 }))).toMatchObject({ constraint: "no_control_characters" });
  });

  it("integers are bounded on both sides", () => {
    fc.assert(
      fc.property(fc.integer({ min: -5000, max: 5000 }), (n) => {
        const found = first((v) => v.integer("priority", n, { min: 0, max: 1000 }));
        if (n >= 0 && n <= 1000) expect(found).toBeUndefined();
        else expect(found).toMatchObject({ field: "priority", constraint: "range", value: n });
      }),
      { numRuns: 200 },
    );
  });

  it("labels are bounded in entries, keys and values", () => {
    expect(checkFields((v) => v.labels("m", { a: "b" }))).toEqual({ a: "b" });
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"]));
    expect(first((v) => v.labels("m", many))).toMatchObject({ constraint: "max_entries" });
    expect(first((v) => v.labels("m", { ["k".repeat(65)]: "v" }))).toMatchObject({ constraint: "key_format" });
    expect(first((v) => v.labels("m", { k: "v".repeat(257) }))).toMatchObject({ field: "m.k", constraint: "max_length" });
  });

  it("request ids are optional, and bounded when given", () => {
    expect(checkFields((v) => v.requestId("request_id", ""))).toBe("");
    expect(first((v) => v.requestId("request_id", "a b"))).toMatchObject({ field: "request_id", constraint: "format" });
  });

  it("timestamps stay within the protobuf range (0001 to 9999), and may be required to lie ahead", () => {
    const at = (seconds: bigint, nanos = 0) => create(TimestampSchema, { seconds, nanos });
    expect(checkFields((v) => v.timestamp("t", undefined))).toBeUndefined();
    expect(checkFields((v) => v.timestamp("t", at(0n)))?.toISOString()).toBe("1970-01-01T00:00:00.000Z");
    expect(checkFields((v) => v.timestamp("t", at(253_402_300_799n)))?.toISOString()).toBe("9999-12-31T23:59:59.000Z");
    for (const bad of [at(253_402_300_800n), at(-62_135_596_801n), at(9_000_000_000_000n), at(0n, -1), at(0n, 1_000_000_000)]) {
      expect(violationsOf((v) => v.timestamp("t", bad))).toMatchObject([{ field: "t", constraint: "range" }]);
    }
    expect(violationsOf((v) => v.timestamp("t", at(1n), { future: true }))).toMatchObject([{ field: "t", constraint: "future" }]);
    expect(checkFields((v) => v.timestamp("t", timestampFromDate(new Date(Date.now() + 60_000)), { future: true }))).toBeInstanceOf(Date);
  });

  it("reports every field at fault at once, one violation per field, in the order checked", () => {
    fc.assert(
      fc.property(fc.subarray(["a", "b", "c", "d"]), (bad) => {
        const found = violationsOf((v) => {
          for (const field of ["a", "b", "c", "d"]) {
            v.code(field, bad.includes(field) ? "" : "OK");
            v.text(field, bad.includes(field) ? "x\n" : "ok", { max: 5 }); // a second rule broken: still one violation
          }
        });
        expect(found.map((f) => f.field)).toEqual(bad);
        expect(found.every((f) => f.constraint === "required")).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("names every field in the message too", () => {
    expect(() => checkFields((v) => [v.code("w.code", ""), v.text("w.name", "", { max: 5, required: true })])).toThrow(
      "w.code is required; w.name is required",
    );
  });
});

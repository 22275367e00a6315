import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidArgument } from "@inv/platform";
import { fieldsToUpdate } from "./field-mask.js";
import { ENTITY_CODE, LOCATION_CODE, checkAddress, checkCode, checkId, checkMetadata, checkPriority, checkText } from "./rules.js";

const violation = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgument);
    return (err as InvalidArgument).violation;
  }
  throw new Error("no violation");
};

describe("field rules", () => {
  it("codes: upper case, digits, - and _; locations may be one character", () => {
    expect(checkCode("code", "AMS-1", ENTITY_CODE)).toBe("AMS-1");
    expect(checkCode("code", "A", LOCATION_CODE)).toBe("A");
    expect(violation(() => checkCode("code", "A", ENTITY_CODE))).toMatchObject({ constraint: "pattern" });
    expect(violation(() => checkCode("code", "ams", ENTITY_CODE))).toMatchObject({ field: "code", constraint: "pattern", value: "ams" });
    expect(violation(() => checkCode("code", "", ENTITY_CODE))).toMatchObject({ constraint: "required" });
    expect(violation(() => checkCode("code", "X".repeat(33), ENTITY_CODE))).toMatchObject({ constraint: "pattern" });
  });

  it("ids are UUIDs, normalised to lower case", () => {
    expect(checkId("id", "0190A0A0-0000-7000-8000-00000000ABCD")).toBe("0190a0a0-0000-7000-8000-00000000abcd");
    expect(violation(() => checkId("id", "1"))).toMatchObject({ constraint: "format" });
  });

  it("text is trimmed, bounded and free of control characters", () => {
    expect(checkText("name", "  Main  ", { max: 10 })).toBe("Main");
    expect(violation(() => checkText("name", "   ", { max: 10, required: true }))).toMatchObject({ constraint: "required" });
    expect(violation(() => checkText("name", "x".repeat(11), { max: 10 }))).toMatchObject({ constraint: "max_length" });
    expect(violation(() => checkText("name", "a\nb", { max: 10 }))).toMatchObject({ constraint: "no_control_characters" });
  });

  it("priority is an integer from 0 to 1000", () => {
    fc.assert(
      fc.property(fc.integer({ min: -5000, max: 5000 }), (p) => {
        if (p >= 0 && p <= 1000) expect(checkPriority("priority", p)).toBe(p);
        else expect(violation(() => checkPriority("priority", p))).toMatchObject({ constraint: "range" });
      }),
      { numRuns: 200 },
    );
  });

  it("addresses name the sub-field at fault", () => {
    const empty = { line1: "", line2: "", city: "", region: "", postalCode: "", countryCode: "" };
    expect(checkAddress("w.address", { ...empty, countryCode: "NL" })).toMatchObject({ countryCode: "NL" });
    expect(violation(() => checkAddress("w.address", { ...empty, countryCode: "nl" }))).toMatchObject({ field: "w.address.country_code" });
    expect(violation(() => checkAddress("w.address", { ...empty, postalCode: "1".repeat(21) }))).toMatchObject({ field: "w.address.postal_code" });
  });

  it("metadata is bounded in entries, keys and values", () => {
    expect(checkMetadata("m", { a: "b" })).toEqual({ a: "b" });
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"]));
    expect(violation(() => checkMetadata("m", many))).toMatchObject({ constraint: "max_entries" });
    expect(violation(() => checkMetadata("m", { ["k".repeat(65)]: "v" }))).toMatchObject({ constraint: "key_format" });
    expect(violation(() => checkMetadata("m", { k: "v".repeat(257) }))).toMatchObject({ field: "m.k", constraint: "max_length" });
  });
});

describe("fieldsToUpdate", () => {
  const opts = { mutable: ["name", "address", "priority"], nested: ["address"], present: (f: string) => f === "name" };

  it("without a mask, takes the mutable fields that have a value (AIP-134)", () => {
    expect(fieldsToUpdate([], opts)).toEqual(["name"]);
    expect(fieldsToUpdate(undefined, opts)).toEqual(["name"]);
  });

  it("with a mask, takes exactly its paths, sub-fields of nested fields included", () => {
    expect(fieldsToUpdate(["priority", "address.city", "priority"], opts)).toEqual(["priority", "address.city"]);
  });

  it("refuses paths that are not mutable", () => {
    for (const path of ["code", "id", "name.first", "priority.x", ""]) {
      expect(violation(() => fieldsToUpdate([path], opts))).toMatchObject({ field: "update_mask", constraint: "mutable_field" });
    }
  });
});

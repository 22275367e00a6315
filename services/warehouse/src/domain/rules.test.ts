import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkFields } from "@inv/platform";
import { violationsOf as violations } from "@inv/platform/testing";
import { EMPTY_ADDRESS, checkAddress, checkPriority } from "./rules.js";

describe("warehouse field rules", () => {
  it("priority is an integer from 0 to 1000", () => {
    fc.assert(
      fc.property(fc.integer({ min: -5000, max: 5000 }), (p) => {
        const found = violations((v) => checkPriority(v, "priority", p));
        expect(found.map((f) => f.constraint)).toEqual(p >= 0 && p <= 1000 ? [] : ["range"]);
      }),
      { numRuns: 200 },
    );
  });

  it("addresses name every sub-field at fault, each once", () => {
    expect(checkFields((v) => checkAddress(v, "w.address", { ...EMPTY_ADDRESS, countryCode: "NL" }))).toMatchObject({ countryCode: "NL" });
    expect(violations((v) => checkAddress(v, "w.address", { ...EMPTY_ADDRESS, countryCode: "nl" }))).toMatchObject([
      { field: "w.address.country_code", constraint: "pattern" },
    ]);
    expect(violations((v) => checkAddress(v, "w.address", { ...EMPTY_ADDRESS, countryCode: "NLD", postalCode: "1".repeat(21) }))).toMatchObject([
      { field: "w.address.postal_code", constraint: "max_length" },
      { field: "w.address.country_code", constraint: "max_length" },
    ]);
  });

  it("checks only the address fields asked for", () => {
    expect(checkFields((v) => checkAddress(v, "a", { ...EMPTY_ADDRESS, city: "Utrecht", countryCode: "bad" }, ["city"]))).toEqual({ city: "Utrecht" });
  });
});

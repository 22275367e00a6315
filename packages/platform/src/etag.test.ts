import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { etagOf, versionOf } from "./etag.js";

describe("etags", () => {
  it("give back the version they were made from, for their own resource only", () => {
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), fc.integer({ min: 1, max: 2 ** 31 - 1 }), (id, other, version) => {
        const etag = etagOf(id, version);
        expect(versionOf(etag, id)).toBe(version);
        if (other !== id) expect(versionOf(etag, other)).toBeUndefined();
        expect(etagOf(id, version + 1)).not.toBe(etag);
      }),
      { numRuns: 100 },
    );
  });

  it("never match when malformed", () => {
    fc.assert(
      fc.property(fc.uuid(), fc.string(), (id, junk) => {
        if (!/^\d+-[0-9a-f]{12}$/.test(junk)) expect(versionOf(junk, id)).toBeUndefined();
      }),
      { numRuns: 100 },
    );
  });
});

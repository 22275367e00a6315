import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidArgument } from "./errors.js";
import { decodePageToken, encodePageToken, listPage, pageSizeOf, type PageQuery } from "./pagination.js";

describe("pagination", () => {
  it("defaults and bounds the page size", () => {
    expect(pageSizeOf(0)).toBe(50);
    expect(pageSizeOf(500)).toBe(500);
    expect(() => pageSizeOf(501)).toThrow(InvalidArgument);
    expect(() => pageSizeOf(-1)).toThrow(InvalidArgument);
  });

  it("round-trips a cursor and refuses it for other filters or when tampered with", () => {
    fc.assert(
      fc.property(fc.uuid(), fc.record({ active: fc.boolean(), code: fc.string() }), (id, filters) => {
        const token = encodePageToken([id], filters);
        expect(decodePageToken(token, filters)).toEqual([id]);
        expect(() => decodePageToken(token, { ...filters, active: !filters.active })).toThrow(InvalidArgument);
        expect(() => decodePageToken(token.slice(1), filters)).toThrow(InvalidArgument);
      }),
      { numRuns: 100 },
    );
  });

  it("pages through any set of ids exactly once, in order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.uuid(), { maxLength: 40 }), fc.integer({ min: 1, max: 7 }), async (ids, size) => {
        const sorted = [...ids].sort();
        const fetch = async ({ afterId, limit }: PageQuery<unknown>) =>
          sorted
            .filter((id) => afterId === undefined || id > afterId)
            .slice(0, limit)
            .map((id) => ({ id }));
        const seen: string[] = [];
        let pageToken = "";
        do {
          const page = await listPage({ pageSize: size, pageToken }, {}, fetch, (r) => r.id);
          seen.push(...page.items);
          pageToken = page.nextPageToken;
        } while (pageToken);
        expect(seen).toEqual(sorted);
      }),
      { numRuns: 100 },
    );
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkFields } from "@inv/platform";
import { violationsOf as violations } from "@inv/platform/testing";
import { ItemCategory, ItemStatus } from "@inv/gen/inventory/v1/item_pb";
import {
  ATTRIBUTES_MAX_ENTRIES,
  REORDER_MAX,
  SKU_MAX,
  SKU_PATTERN,
  checkAttributeFilter,
  checkAttributes,
  checkCategory,
  checkImageUrl,
  checkPrice,
  checkReorder,
  checkSku,
  checkSkuFilter,
  checkStatus,
  checkUnitOfMeasure,
  containsPattern,
  searchWords,
} from "./item-rules.js";

const constraints = (check: Parameters<typeof violations>[0]) => violations(check).map((f) => f.constraint);

describe("SKUs", () => {
  it("are 1 to 64 letters, digits, '-', '_' and '.', taken exactly as given", () => {
    const sku = fc.string({ unit: fc.constantFrom(..."aZ09-_. /é%\t"), minLength: 0, maxLength: 70 });
    fc.assert(
      fc.property(sku, (s) => {
        const found = violations((v) => checkSku(v, "item.sku", s));
        const valid = s.length >= 1 && s.length <= SKU_MAX && /^[A-Za-z0-9._-]+$/.test(s);
        expect(found.length === 0).toBe(valid);
        expect(SKU_PATTERN.test(s)).toBe(valid);
        if (!valid) expect(found).toMatchObject([{ field: "item.sku" }]);
        if (valid) expect(checkFields((v) => checkSku(v, "item.sku", s))).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it("name the rule broken: required, max_length, pattern", () => {
    expect(constraints((v) => checkSku(v, "s", ""))).toEqual(["required"]);
    expect(constraints((v) => checkSku(v, "s", "A".repeat(65)))).toEqual(["max_length"]);
    expect(constraints((v) => checkSku(v, "s", "A".repeat(64)))).toEqual([]);
    expect(constraints((v) => checkSku(v, "s", "AB C"))).toEqual(["pattern"]);
    expect(constraints((v) => checkSku(v, "s", " ABC"))).toEqual(["pattern"]);
  });

  it("the SKU filter names each bad SKU and allows at most 500", () => {
    expect(violations((v) => checkSkuFilter(v, "skus", ["OK", "not ok"]))).toMatchObject([{ field: "skus[1]", constraint: "pattern" }]);
    expect(
      constraints((v) =>
        checkSkuFilter(
          v,
          "skus",
          Array.from({ length: 501 }, (_, i) => `S${i}`),
        ),
      ),
    ).toEqual(["max_entries"]);
    expect(checkFields((v) => checkSkuFilter(v, "skus", ["A", "B", "A"]))).toEqual(["A", "B"]);
  });
});

describe("units of measure", () => {
  it("default to EA and are stored in upper case", () => {
    expect(checkFields((v) => checkUnitOfMeasure(v, "u", ""))).toBe("EA");
    expect(checkFields((v) => checkUnitOfMeasure(v, "u", " kg "))).toBe("KG");
    expect(constraints((v) => checkUnitOfMeasure(v, "u", "A".repeat(17)))).toEqual(["max_length"]);
    expect(constraints((v) => checkUnitOfMeasure(v, "u", "m/s"))).toEqual(["pattern"]);
  });
});

describe("prices", () => {
  it("are unset, or an upper-case ISO 4217 code with units >= 0 and nanos in 0..999,999,999", () => {
    const money = fc.record({
      currencyCode: fc.constantFrom("EUR", "USD", "eur", "EURO", "", "E1R"),
      units: fc.bigInt({ min: -5n, max: 10n ** 15n }),
      nanos: fc.integer({ min: -2, max: 1_000_000_001 }),
    });
    fc.assert(
      fc.property(money, (m) => {
        const found = violations((v) => checkPrice(v, "item.price", m)).map((f) => f.field);
        const expected = [
          ...(/^[A-Z]{3}$/.test(m.currencyCode) ? [] : ["item.price.currency_code"]),
          ...(m.units >= 0n ? [] : ["item.price.units"]),
          ...(m.nanos >= 0 && m.nanos <= 999_999_999 ? [] : ["item.price.nanos"]),
        ];
        expect(found).toEqual(expected);
      }),
      { numRuns: 300 },
    );
    expect(checkFields((v) => checkPrice(v, "p", undefined))).toBeNull();
  });
});

describe("image URLs", () => {
  it.each([
    ["", []],
    ["https://cdn.example.com/a.png", []],
    ["http://example.com", []],
    ["not a url", ["format"]],
    ["ftp://example.com/a.png", ["format"]],
    ["/relative/a.png", ["format"]],
    ["javascript:alert(1)", ["format"]],
    [`https://example.com/${"a".repeat(2048)}`, ["max_length"]],
  ])("%j -> %j", (url, expected) => {
    expect(constraints((v) => checkImageUrl(v, "item.image_url", url))).toEqual(expected);
  });
});

describe("attributes", () => {
  it("allow 64 entries, keys of 1 to 64 and values of up to 1024 characters", () => {
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));
    expect(constraints((v) => checkAttributes(v, "a", many(ATTRIBUTES_MAX_ENTRIES)))).toEqual([]);
    expect(constraints((v) => checkAttributes(v, "a", many(ATTRIBUTES_MAX_ENTRIES + 1)))).toEqual(["max_entries"]);
    expect(violations((v) => checkAttributes(v, "a", { ["k".repeat(65)]: "v", ok: "x".repeat(1025) }))).toMatchObject([
      { field: `a.${"k".repeat(65)}`, constraint: "key_format" },
      { field: "a.ok", constraint: "max_length" },
    ]);
    expect(constraints((v) => checkAttributes(v, "a", { "": "v" }))).toEqual(["key_format"]);
  });

  it("filters are key=value, split at the first '=', at most 16", () => {
    expect(checkFields((v) => checkAttributeFilter(v, "attributes", ["color=red", "eq=a=b", "empty="]))).toEqual([
      ["color", "red"],
      ["eq", "a=b"],
      ["empty", ""],
    ]);
    expect(violations((v) => checkAttributeFilter(v, "attributes", ["novalue", "=x"]))).toMatchObject([
      { field: "attributes[0]", constraint: "format" },
      { field: "attributes[1]", constraint: "format" },
    ]);
    expect(
      constraints((v) =>
        checkAttributeFilter(
          v,
          "attributes",
          Array.from({ length: 17 }, (_, i) => `k=${i}`),
        ),
      ),
    ).toEqual(["max_entries"]);
  });
});

describe("status, category and reorder defaults", () => {
  it("status UNSPECIFIED is ACTIVE on create and refused on update; unknown numbers are refused", () => {
    expect(checkFields((v) => checkStatus(v, "s", ItemStatus.UNSPECIFIED, { create: true }))).toBe(ItemStatus.ACTIVE);
    expect(constraints((v) => checkStatus(v, "s", ItemStatus.UNSPECIFIED, { create: false }))).toEqual(["required"]);
    expect(constraints((v) => checkStatus(v, "s", 9 as ItemStatus, { create: true }))).toEqual(["enum"]);
    expect(checkFields((v) => checkStatus(v, "s", ItemStatus.DISCONTINUED, { create: false }))).toBe(ItemStatus.DISCONTINUED);
  });

  it("category UNSPECIFIED is stored as OTHER; unknown numbers are refused", () => {
    expect(checkFields((v) => checkCategory(v, "c", ItemCategory.UNSPECIFIED))).toBe(ItemCategory.OTHER);
    expect(checkFields((v) => checkCategory(v, "c", ItemCategory.CONTAINER))).toBe(ItemCategory.CONTAINER);
    expect(constraints((v) => checkCategory(v, "c", 8 as ItemCategory))).toEqual(["enum"]);
  });

  it("reorder defaults are whole numbers from 0 to 1,000,000,000", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -10n, max: BigInt(REORDER_MAX) + 10n }), (n) => {
        const ok = n >= 0n && n <= BigInt(REORDER_MAX);
        expect(constraints((v) => checkReorder(v, "r", n))).toEqual(ok ? [] : ["range"]);
      }),
      { numRuns: 200 },
    );
  });
});

describe("text search", () => {
  it("splits on whitespace, drops repeats, and bounds the query", () => {
    expect(checkFields((v) => searchWords(v, "query", "  red\tshirt  red "))).toEqual(["red", "shirt"]);
    expect(checkFields((v) => searchWords(v, "query", ""))).toEqual([]);
    expect(constraints((v) => searchWords(v, "query", "x".repeat(201)))).toEqual(["max_length"]);
  });

  it("takes LIKE wildcards and the escape character literally", () => {
    expect(containsPattern("50%_off\\")).toBe("%50\\%\\_off\\\\%");
  });
});

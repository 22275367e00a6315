import { describe, expect, it } from "vitest";
import { matchPath, parsePathTemplate } from "./path-template.js";

describe("parsePathTemplate", () => {
  it("parses literals, variables and a verb", () => {
    const t = parsePathTemplate("/v1/reservations/{id}:confirm");
    expect(t.segments).toEqual([{ kind: "literal", value: "v1" }, { kind: "literal", value: "reservations" }, { kind: "wildcard" }]);
    expect(t.variables).toEqual([{ fieldPath: "id", start: 2, length: 1 }]);
    expect(t.verb).toBe("confirm");
  });

  it("parses nested field paths and multi-segment variables", () => {
    const t = parsePathTemplate("/v1/{name=shelves/*/books/**}/{location.warehouse_id}");
    expect(t.variables).toEqual([
      { fieldPath: "name", start: 1, length: 4 },
      { fieldPath: "location.warehouse_id", start: 5, length: 1 },
    ]);
    expect(t.segments.map((s) => s.kind)).toEqual(["literal", "literal", "wildcard", "literal", "deepWildcard", "wildcard"]);
  });

  it("parses bare wildcards", () => {
    expect(parsePathTemplate("/v1/*/x/**").segments.map((s) => s.kind)).toEqual(["literal", "wildcard", "literal", "deepWildcard"]);
  });

  it.each([
    ["v1/items", "must start"],
    ["/v1/{id", "unterminated"],
    ["/v1/{a.}", "bad field path"],
    ["/v1/{a={b}}", "cannot nest"],
    ["/v1/**/x/**", 'at most one "**"'],
    ["/v1/{id}/{id}", "bound twice"],
    ["/v1//x", "expected a segment"],
    ["/v1/x:", "expected a segment"],
    ["/v1/x}", 'unexpected "}"'],
  ])("rejects %s", (source, why) => {
    expect(() => parsePathTemplate(source)).toThrow(why);
  });
});

describe("matchPath", () => {
  it("binds single-segment variables", () => {
    expect(matchPath("/v1/warehouses/{id}", "/v1/warehouses/abc")).toEqual({ id: "abc" });
    expect(matchPath("/v1/warehouses/{warehouse.id}", "/v1/warehouses/w-1")).toEqual({ "warehouse.id": "w-1" });
  });

  it("matches literal-only templates", () => {
    expect(matchPath("/v1/warehouses", "/v1/warehouses")).toEqual({});
    expect(matchPath("/v1/warehouses", "/v1/location-types")).toBeUndefined();
  });

  it("percent-decodes single-segment variables fully, %2F included", () => {
    expect(matchPath("/v1/items/{id}", "/v1/items/a%20b%2Fc%3Ad%E2%82%AC")).toEqual({ id: "a b/c:d€" });
  });

  it("decodes literal segments before comparing", () => {
    expect(matchPath("/v1/warehouses/{id}", "/v1/ware%68ouses/x")).toEqual({ id: "x" });
  });

  it("binds ** variables with their slashes, keeping %2F encoded", () => {
    expect(matchPath("/v1/{name=shelves/*/items/**}", "/v1/shelves/s1/items/a/b%20c/d%2Fe")).toEqual({
      name: "shelves/s1/items/a/b c/d%2Fe",
    });
    // "**" matches zero or more segments.
    expect(matchPath("/v1/{name=shelves/*/items/**}", "/v1/shelves/s1/items")).toEqual({ name: "shelves/s1/items" });
    expect(matchPath("/v1/{name=shelves/*/items/**}", "/v1/shelves/s1/items/")).toEqual({ name: "shelves/s1/items/" });
    expect(matchPath("/v1/{path=**}", "/v1")).toEqual({ path: "" });
    expect(matchPath("/v1/{name=shelves/*/items/**}", "/v1/shelves/items")).toBeUndefined();
    expect(matchPath("/v1/{path=**}:get", "/v1/a/b:get")).toEqual({ path: "a/b" });
  });

  it("requires the verb and strips it from the last segment", () => {
    expect(matchPath("/v1/reservations/{id}:confirm", "/v1/reservations/r1:confirm")).toEqual({ id: "r1" });
    expect(matchPath("/v1/reservations/{id}:confirm", "/v1/reservations/a:b:confirm")).toEqual({ id: "a:b" });
    expect(matchPath("/v1/reservations/{id}:confirm", "/v1/reservations/r1")).toBeUndefined();
    expect(matchPath("/v1/reservations/{id}:confirm", "/v1/reservations/r1:cancel")).toBeUndefined();
    expect(matchPath("/v1/items:bySku", "/v1/items:bySku")).toEqual({});
    expect(matchPath("/v1/items:bySku", "/v1/items")).toBeUndefined();
  });

  it("keeps a colon in the last segment when the template has no verb", () => {
    expect(matchPath("/v1/reservations/{id}", "/v1/reservations/r1:confirm")).toEqual({ id: "r1:confirm" });
  });

  it.each([
    ["/v1/warehouses/{id}", "/v1/warehouses"],
    ["/v1/warehouses/{id}", "/v1/warehouses/"],
    ["/v1/warehouses/{id}", "/v1/warehouses/a/b"],
    ["/v1/warehouses/{id}", "v1/warehouses/a"],
    ["/v1/warehouses/{id}", "/v2/warehouses/a"],
    ["/v1/warehouses/{id}", "/v1/warehouses/%zz"],
    ["/v1/*/x", "/v1//x"],
  ])("%s does not match %s", (template, path) => {
    expect(matchPath(template, path)).toBeUndefined();
  });
});

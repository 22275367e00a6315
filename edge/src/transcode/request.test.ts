import { create, type DescMessage, type DescMethod, type MessageShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { describe, expect, it } from "vitest";
import { MAX_FAULTS } from "./decode.js";
import { TranscodeError } from "./errors.js";
import { ItemService } from "./item-service.fixture.js";
import { buildRequest, parseJsonBody } from "./request.js";
import { buildRouteTable } from "./routes.js";

const table = buildRouteTable([WarehouseService, ItemService]);

/** Routes and transcodes a request the way the edge will: URL, parsed body. */
function transcode<I extends DescMessage = DescMessage>(verb: string, url: string, body?: unknown): MessageShape<I> {
  const { pathname, searchParams } = new URL(url, "http://edge.test");
  const m = table.match(verb, pathname);
  if (m.kind !== "match") throw new Error(`no route: ${m.kind}`);
  return buildRequest(m.method as DescMethod & { input: I }, m.rule, m.pathVars, searchParams, body);
}

/** The TranscodeError a request fails with, as a plain object. */
function failure(verb: string, url: string, body?: unknown) {
  try {
    transcode(verb, url, body);
  } catch (e) {
    if (!(e instanceof TranscodeError)) throw e;
    return { field: e.field, value: e.value, constraint: e.constraint, message: e.message };
  }
  throw new Error("expected a TranscodeError");
}

// Field access for the dynamically described test messages.
const get = (msg: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], msg);

describe("buildRequest: bindings", () => {
  it("GET with a path variable", () => {
    expect(transcode("GET", "/v1/warehouses/w%201")).toMatchObject({ $typeName: "warehouse.v1.GetWarehouseRequest", id: "w 1" });
  });

  it("body field plus nested path variable (POST /v1/warehouses/{location.warehouse_id}/locations)", () => {
    const req = transcode("POST", "/v1/warehouses/w1/locations", { code: "A-01", locationTypeId: "t1", metadata: { zone: "cold" } });
    expect(req).toMatchObject({ location: { warehouseId: "w1", code: "A-01", locationTypeId: "t1", metadata: { zone: "cold" } } });
  });

  it("body field, nested path variable and a FieldMask query parameter (PATCH)", () => {
    const camel = transcode("PATCH", "/v1/warehouses/w1?updateMask=name,address.postalCode", { name: "Main", priority: 5 });
    expect(camel).toMatchObject({ warehouse: { id: "w1", name: "Main", priority: 5 }, updateMask: { paths: ["name", "address.postal_code"] } });
    const snake = transcode("PATCH", "/v1/warehouses/w1?update_mask=name,priority,address.postal_code", { id: "w1" });
    expect(get(snake, "updateMask", "paths")).toEqual(["name", "priority", "address.postal_code"]);
  });

  it("the body may repeat the path's value", () => {
    expect(transcode("PATCH", "/v1/locations/l1", { id: "l1", name: "x" })).toMatchObject({ location: { id: "l1", name: "x" } });
  });

  it("no body: query parameters by proto or JSON name, bools, optional fields", () => {
    const req = transcode("GET", "/v1/warehouses?page_size=20&pageToken=abc&active=false&show_deleted=true");
    expect(req).toMatchObject({ pageSize: 20, pageToken: "abc", active: false, showDeleted: true });
  });

  it("query parameters: repeated, enums by name or number, 64-bit integers, WKTs, nested fields, bytes", () => {
    const req = transcode(
      "GET",
      "/v1/warehouses/w1/items?tags=a&tags=b&kind=KIND_BOX&kinds=2&kinds=KIND_BOX&min_quantity=-9007199254740993" +
        "&serial=18446744073709551615&fragile=true&after=2024-01-31T12:00:00.5Z&read_mask=id,expires_at&min_level=7" +
        "&dims.width_mm=30&dims.weightKg=1.5&cursor=AQID",
    );
    expect(req).toMatchObject({
      warehouseId: "w1",
      tags: ["a", "b"],
      kind: 1,
      kinds: [2, 1],
      minQuantity: -9007199254740993n,
      serial: 18446744073709551615n,
      fragile: true,
      after: timestampFromDate(new Date("2024-01-31T12:00:00.500Z")),
      readMask: { paths: ["id", "expires_at"] },
      minLevel: 7,
      dims: { widthMm: 30, weightKg: 1.5 },
      cursor: new Uint8Array([1, 2, 3]),
    });
  });

  it('body "*" with path variables on top (custom verb)', () => {
    const req = transcode("POST", "/v1/reservations/r1:confirm", { note: "ok", quantity: "3", code: "C1" });
    expect(req).toMatchObject({ id: "r1", note: "ok", quantity: 3, reason: { case: "code", value: "C1" } });
    expect(transcode("POST", "/v1/reservations/r1:confirm")).toMatchObject({ id: "r1", note: "" });
  });

  it("multi-segment path variables", () => {
    expect(transcode("GET", "/v1/shelves/s1/items/a/b")).toMatchObject({ name: "shelves/s1/items/a/b" });
  });

  it("does not mutate the caller's body", () => {
    const body = { name: "Main" };
    transcode("PATCH", "/v1/warehouses/w1", body);
    expect(body).toEqual({ name: "Main" });
  });

  it("returns a message equal to one built by hand", () => {
    const req = transcode("GET", "/v1/warehouses/w1/locations?page_size=2&show_deleted=true");
    expect(req).toEqual(create(WarehouseService.method["listLocations"]!.input, { warehouseId: "w1", pageSize: 2, showDeleted: true }));
  });
});

describe("buildRequest: errors name the field", () => {
  it.each([
    ["wrong type in the body", "POST", "/v1/warehouses", { code: "A", priority: "high" }, { field: "warehouse.priority", value: "high", constraint: "type" }],
    ["integer out of range", "POST", "/v1/warehouses", { priority: 3_000_000_000 }, { field: "warehouse.priority", value: 3_000_000_000, constraint: "range" }],
    ["integer out of range as a string", "POST", "/v1/warehouses", { priority: "-2147483649" }, { field: "warehouse.priority", constraint: "range" }],
    ["unknown field", "POST", "/v1/warehouses", { code: "A", colour: "red" }, { field: "warehouse.colour", value: "red", constraint: "unknown_field" }],
    ["unknown nested field", "POST", "/v1/warehouses", { address: { town: "x" } }, { field: "warehouse.address.town", constraint: "unknown_field" }],
    ["bad timestamp", "POST", "/v1/warehouses", { createTime: "yesterday" }, { field: "warehouse.create_time", value: "yesterday", constraint: "format" }],
    ["body not an object", "POST", "/v1/warehouses", ["x"], { field: "warehouse", value: ["x"], constraint: "type" }],
    ["body * not an object", "POST", "/v1/reservations/r1:confirm", "x", { field: undefined, value: "x", constraint: "type" }],
    ["a body on GET", "GET", "/v1/warehouses/w1", {}, { field: undefined, constraint: "body_not_allowed" }],
    ["a body on DELETE", "DELETE", "/v1/warehouses/w1", { id: "w1" }, { field: undefined, constraint: "body_not_allowed" }],
    ["path conflicts with body", "PATCH", "/v1/warehouses/w1", { id: "w2" }, { field: "warehouse.id", value: "w2", constraint: "conflict" }],
    ["path conflicts with body *", "POST", "/v1/reservations/r1:confirm", { id: "r2" }, { field: "id", value: "r2", constraint: "conflict" }],
    ["oneof set twice", "POST", "/v1/reservations/r1:confirm", { code: "a", text: "b" }, { field: "text", constraint: "oneof" }],
    [
      "a field by proto and JSON name",
      "PATCH",
      "/v1/warehouses/w1",
      { address: { postalCode: "a", postal_code: "b" } },
      { field: "warehouse.address.postal_code", constraint: "duplicate_field" },
    ],
    ["unknown query parameter", "GET", "/v1/warehouses?colour=red", undefined, { field: "colour", value: "red", constraint: "unknown_query_parameter" }],
    ["query parameter on a body * method", "POST", "/v1/reservations/r1:confirm?note=x", {}, { field: "note", constraint: "unknown_query_parameter" }],
    ["query parameter into the body field", "PATCH", "/v1/warehouses/w1?warehouse.name=x", {}, { field: "warehouse.name", constraint: "conflict" }],
    ["query parameter bound by the path", "GET", "/v1/warehouses/w1/locations?warehouse_id=w2", undefined, { field: "warehouse_id", constraint: "conflict" }],
    [
      "query parameter given twice",
      "GET",
      "/v1/warehouses?page_size=1&page_size=2",
      undefined,
      { field: "page_size", value: ["1", "2"], constraint: "multiple_values" },
    ],
    ["query parameter by both names", "GET", "/v1/warehouses?page_size=1&pageSize=2", undefined, { field: "page_size", constraint: "multiple_values" }],
    ["query int not a number", "GET", "/v1/warehouses?page_size=ten", undefined, { field: "page_size", value: "ten", constraint: "type" }],
    ["query int out of range", "GET", "/v1/warehouses?page_size=99999999999", undefined, { field: "page_size", constraint: "range" }],
    ["query bool", "GET", "/v1/warehouses?show_deleted=yes", undefined, { field: "show_deleted", value: "yes", constraint: "type" }],
    ["query unknown enum", "GET", "/v1/warehouses/w1/items?kind=KIND_CRATE", undefined, { field: "kind", value: "KIND_CRATE", constraint: "enum" }],
    [
      "query bad item of a repeated enum",
      "GET",
      "/v1/warehouses/w1/items?kinds=KIND_BOX&kinds=x",
      undefined,
      { field: "kinds[1]", value: "x", constraint: "enum" },
    ],
    ["query uint64 negative", "GET", "/v1/warehouses/w1/items?serial=-1", undefined, { field: "serial", constraint: "range" }],
    ["query int64 not an integer", "GET", "/v1/warehouses/w1/items?min_quantity=abc", undefined, { field: "min_quantity", value: "abc", constraint: "type" }],
    ["query timestamp", "GET", "/v1/warehouses/w1/items?after=2024-13-01", undefined, { field: "after", constraint: "format" }],
    ["query map field", "GET", "/v1/warehouses/w1/items?labels=a", undefined, { field: "labels", constraint: "unknown_query_parameter" }],
    ["query message field", "GET", "/v1/warehouses/w1/items?dims=a", undefined, { field: "dims", constraint: "unknown_query_parameter" }],
    ["query nested unknown field", "GET", "/v1/warehouses/w1/items?dims.depth=1", undefined, { field: "dims.depth", constraint: "unknown_query_parameter" }],
    ["query nested uint32 negative", "GET", "/v1/warehouses/w1/items?dims.width_mm=-1", undefined, { field: "dims.width_mm", constraint: "range" }],
    ["query bad base64", "GET", "/v1/warehouses/w1/items?cursor=%25%25", undefined, { field: "cursor", constraint: "format" }],
    ["list element in body", "PATCH", "/v1/items/i1", { tags: ["a", 1] }, { field: "item.tags[1]", value: 1, constraint: "type" }],
    ["map value in body", "PATCH", "/v1/items/i1", { labels: { a: "x", b: 2 } }, { field: 'item.labels["b"]', value: 2, constraint: "type" }],
    ["list given a scalar", "PATCH", "/v1/items/i1", { tags: "a" }, { field: "item.tags", value: "a", constraint: "type" }],
    ["wrapper wrong type", "PATCH", "/v1/items/i1", { minLevel: "low" }, { field: "item.min_level", value: "low", constraint: "type" }],
    ["enum unknown name in body", "PATCH", "/v1/items/i1", { kind: "KIND_CRATE" }, { field: "item.kind", constraint: "enum" }],
  ])("%s", (_, verb, url, body, expected) => {
    const got = failure(verb, url, body);
    expect(got).toMatchObject(expected);
    if (got.field !== undefined) expect(got.message).toContain(got.field);
  });

  it("messages say what was expected", () => {
    expect(failure("POST", "/v1/warehouses", { priority: "high" }).message).toBe('warehouse.priority: expected a 32-bit integer, got "high"');
    expect(failure("GET", "/v1/warehouses/w1/items?kind=x").message).toContain("one of KIND_UNSPECIFIED, KIND_BOX, KIND_PALLET");
    expect(failure("POST", "/v1/warehouses", { priority: 3e9 }).message).toBe("warehouse.priority: 3000000000 is out of range for a 32-bit integer");
  });
});

describe("buildRequest: every fault at once, hostile values", () => {
  const faults = (verb: string, url: string, body?: unknown) => {
    try {
      transcode(verb, url, body);
    } catch (e) {
      if (!(e instanceof TranscodeError)) throw e;
      return e;
    }
    throw new Error("expected a TranscodeError");
  };

  it("names every bad field, nested ones and list elements too, the first one as the error's own", () => {
    const err = faults("POST", "/v1/warehouses", { code: 1, colour: "red", address: { town: "x", city: 2 }, priority: "high" });
    expect(err.faults.map((f) => [f.field, f.constraint])).toEqual([
      ["warehouse.code", "type"],
      ["warehouse.colour", "unknown_field"],
      ["warehouse.address.town", "unknown_field"],
      ["warehouse.address.city", "type"],
      ["warehouse.priority", "type"],
    ]);
    expect(err).toMatchObject({ field: "warehouse.code", value: 1, constraint: "type" });
    expect(err.message.split("; ")).toEqual(err.faults.map((f) => f.message));
    expect(faults("PATCH", "/v1/items/i1", { tags: [1, "a", 2] }).faults.map((f) => f.field)).toEqual(["item.tags[0]", "item.tags[2]"]);
  });

  it("reports at most MAX_FAULTS faults", () => {
    const body = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`x${i}`, i]));
    expect(faults("POST", "/v1/warehouses", body).faults).toHaveLength(MAX_FAULTS);
  });

  it("calls a number too large for JSON out of range, without echoing Infinity", () => {
    const err = faults("POST", "/v1/warehouses", parseJsonBody('{"priority":1e400}'));
    expect(err).toMatchObject({ field: "warehouse.priority", value: undefined, constraint: "range" });
    expect(err.message).toBe("warehouse.priority: the number is out of range for a 32-bit integer");
  });

  it("refuses a NUL character in a path variable or a query parameter", () => {
    expect(faults("GET", "/v1/warehouses/a%00b")).toMatchObject({ field: "id", constraint: "nul_character" });
    expect(faults("GET", "/v1/warehouses?code=%00")).toMatchObject({ field: "code", constraint: "nul_character" });
    expect(faults("GET", "/v1/warehouses/w1/items?tags=a&tags=%00")).toMatchObject({ field: "tags", constraint: "nul_character" });
  });

  it("leaves __proto__ and Object.prototype names as unknown fields and query parameters", () => {
    expect(faults("POST", "/v1/warehouses", JSON.parse('{"constructor":1,"__proto__":2}')).faults.map((f) => f.field)).toEqual([
      "warehouse.constructor",
      "warehouse.__proto__",
    ]);
    expect(faults("GET", "/v1/warehouses?__proto__=1")).toMatchObject({ constraint: "unknown_query_parameter" });
    expect(faults("GET", "/v1/warehouses?toString.x=1")).toMatchObject({ constraint: "unknown_query_parameter" });
  });
});

describe("parseJsonBody", () => {
  it("parses JSON text and bytes; empty means no body", () => {
    expect(parseJsonBody('{"a":1}')).toEqual({ a: 1 });
    expect(parseJsonBody(new TextEncoder().encode("[1]"))).toEqual([1]);
    expect(parseJsonBody("  ")).toBeUndefined();
  });

  it("rejects malformed JSON with a TranscodeError", () => {
    expect(() => parseJsonBody("{name:")).toThrow(TranscodeError);
    try {
      parseJsonBody("{name:");
    } catch (e) {
      expect(e).toMatchObject({ field: undefined, constraint: "malformed_json" });
    }
  });
});

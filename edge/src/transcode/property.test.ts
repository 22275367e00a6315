import { create, equals, toJson } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { AddressSchema, WarehouseSchema, WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchPath, parsePathTemplate } from "./path-template.js";
import { buildRequest } from "./request.js";
import { httpBindings } from "./routes.js";

const text = fc.string({ unit: "binary", maxLength: 40 });

const timestamp = fc
  .record({
    // 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, the range proto JSON allows.
    seconds: fc.bigInt({ min: -62135596800n, max: 253402300799n }),
    nanos: fc.integer({ min: 0, max: 999_999_999 }),
  })
  .map((t) => create(TimestampSchema, t));

const address = fc.record({ line1: text, line2: text, city: text, region: text, postalCode: text, countryCode: text }).map((a) => create(AddressSchema, a));

const warehouse = fc
  .record(
    {
      id: text,
      code: text,
      name: text,
      address,
      priority: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      active: fc.boolean(),
      createTime: timestamp,
      updateTime: timestamp,
      deleteTime: timestamp,
    },
    { requiredKeys: ["id", "code", "name", "priority"] },
  )
  .map((w) => create(WarehouseSchema, w));

describe("properties", () => {
  it("POST /v1/warehouses round-trips any Warehouse through its JSON body", () => {
    const method = WarehouseService.method["createWarehouse"]!;
    const [rule] = httpBindings(method);
    fc.assert(
      fc.property(warehouse, (w) => {
        const body = JSON.parse(JSON.stringify(toJson(WarehouseSchema, w))) as unknown;
        const req = buildRequest(method, rule!, {}, new URLSearchParams(), body);
        expect(req.warehouse).toBeDefined();
        expect(equals(WarehouseSchema, req.warehouse!, w)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  const segment = fc.string({
    unit: fc.oneof(fc.string({ unit: "binary", minLength: 1, maxLength: 1 }), fc.constantFrom(..."/?#%:@!$&'()*+,;=[] ")),
    minLength: 1,
    maxLength: 30,
  });

  it("a single-segment variable binds exactly the encoded value", () => {
    const templates = ["/v1/warehouses/{id}", "/v1/reservations/{id}:confirm"].map(parsePathTemplate);
    fc.assert(
      fc.property(segment, fc.constantFrom(...templates), (value, template) => {
        const path = template.source.replace("{id}", encodeURIComponent(value));
        expect(matchPath(template, path)).toEqual({ id: value });
      }),
      { numRuns: 300 },
    );
  });

  it('a "**" variable binds the segments joined by "/"', () => {
    const template = parsePathTemplate("/v1/{name=shelves/*/items/**}");
    fc.assert(
      fc.property(
        segment,
        fc.array(
          segment.filter((s) => !s.includes("/")),
          { maxLength: 4 },
        ),
        (shelf, rest) => {
          fc.pre(!shelf.includes("/"));
          const value = ["shelves", shelf, "items", ...rest].join("/");
          const path = `/v1/${["shelves", shelf, "items", ...rest].map(encodeURIComponent).join("/")}`;
          expect(matchPath(template, path)).toEqual({ name: value });
        },
      ),
      { numRuns: 200 },
    );
  });
});

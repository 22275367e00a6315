import { create, equals, fromJson, toJson } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { AddressSchema, GetWarehouseResponseSchema, WarehouseSchema, WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchPath, parsePathTemplate } from "./path-template.js";
import { TranscodeError } from "./errors.js";
import { buildRequest } from "./request.js";
import { renderResponse } from "./response.js";
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

describe("buildRequest from the URL path alone", () => {
  // Any UTF-16 text, lone surrogates and NUL included: the direct path takes only what fromJson
  // takes as it is and leaves the rest to the general one, so the answers are those of proto JSON.
  const anyText = fc.oneof(
    fc.string({ unit: "binary", maxLength: 20 }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 8 }),
  );
  it("gives the message fromJson gives, or a TranscodeError where proto JSON fails", () => {
    const method = WarehouseService.method.getWarehouse;
    const [rule] = httpBindings(method);
    fc.assert(
      fc.property(anyText, (id) => {
        let reference: unknown;
        try {
          reference = id.includes("\0") ? undefined : fromJson(method.input, { id });
        } catch {
          reference = undefined;
        }
        const build = () => buildRequest(method, rule!, { id }, new URLSearchParams(), undefined);
        if (reference === undefined) expect(build).toThrow(TranscodeError);
        else expect(equals(method.input, build(), reference as never)).toBe(true);
      }),
    );
  });
});

describe("renderResponse of a response_body message", () => {
  it("is that field of the whole answer's proto JSON", () => {
    const method = WarehouseService.method.getWarehouse;
    const [rule] = httpBindings(method);
    fc.assert(
      fc.property(warehouse, (w) => {
        const res = create(GetWarehouseResponseSchema, { warehouse: w });
        const whole = toJson(GetWarehouseResponseSchema, res, { alwaysEmitImplicit: true }) as Record<string, unknown>;
        expect(renderResponse(method, rule!, res)).toEqual(whole["warehouse"]);
      }),
      { numRuns: 200 },
    );
  });
});

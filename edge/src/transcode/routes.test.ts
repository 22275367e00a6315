import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { describe, expect, it } from "vitest";
import { ItemService } from "./item-service.fixture.js";
import { buildRouteTable, httpBindings, type RouteMatch } from "./routes.js";

const table = buildRouteTable([WarehouseService, ItemService]);

const matched = (m: RouteMatch) => (m.kind === "match" ? { method: m.method.name, pathVars: m.pathVars } : m);

describe("buildRouteTable", () => {
  it.each([
    ["POST", "/v1/warehouses", "CreateWarehouse", {}],
    ["GET", "/v1/warehouses/w1", "GetWarehouse", { id: "w1" }],
    ["GET", "/v1/warehouses", "ListWarehouses", {}],
    ["PATCH", "/v1/warehouses/w1", "UpdateWarehouse", { "warehouse.id": "w1" }],
    ["DELETE", "/v1/warehouses/w1", "DeleteWarehouse", { id: "w1" }],
    ["POST", "/v1/location-types", "CreateLocationType", {}],
    ["GET", "/v1/location-types/t1", "GetLocationType", { id: "t1" }],
    ["GET", "/v1/location-types", "ListLocationTypes", {}],
    ["PATCH", "/v1/location-types/t1", "UpdateLocationType", { "location_type.id": "t1" }],
    ["DELETE", "/v1/location-types/t1", "DeleteLocationType", { id: "t1" }],
    ["POST", "/v1/warehouses/w1/locations", "CreateLocation", { "location.warehouse_id": "w1" }],
    ["GET", "/v1/locations/l1", "GetLocation", { id: "l1" }],
    ["GET", "/v1/warehouses/w1/locations", "ListLocations", { warehouse_id: "w1" }],
    ["PATCH", "/v1/locations/l1", "UpdateLocation", { "location.id": "l1" }],
    ["DELETE", "/v1/locations/l1", "DeleteLocation", { id: "l1" }],
  ])("%s %s → %s", (verb, path, method, pathVars) => {
    expect(matched(table.match(verb, path))).toEqual({ method, pathVars });
  });

  it("routes every WarehouseService RPC", () => {
    const routed = new Set(table.routes.filter((r) => r.service === WarehouseService).map((r) => r.method.name));
    expect([...routed].sort()).toEqual(WarehouseService.methods.map((m) => m.name).sort());
  });

  it("accepts the HTTP method in any case", () => {
    expect(matched(table.match("get", "/v1/warehouses/w1"))).toMatchObject({ method: "GetWarehouse" });
  });

  it("answers notFound for unknown paths", () => {
    expect(table.match("GET", "/v1/nowhere")).toEqual({ kind: "notFound" });
    expect(table.match("GET", "/v1/warehouses/w1/locations/l1")).toEqual({ kind: "notFound" });
    expect(table.match("GET", "/v1/warehouses/")).toEqual({ kind: "notFound" });
  });

  it("answers methodNotAllowed with the allowed methods", () => {
    expect(table.match("PUT", "/v1/warehouses/w1")).toEqual({ kind: "methodNotAllowed", allow: ["DELETE", "GET", "PATCH"] });
    expect(table.match("DELETE", "/v1/warehouses")).toEqual({ kind: "methodNotAllowed", allow: ["GET", "POST"] });
    expect(table.match("POST", "/v1/items/i1")).toEqual({ kind: "methodNotAllowed", allow: ["GET", "PATCH", "PURGE"] });
  });

  it("prefers literal segments and verbs over variables", () => {
    expect(matched(table.match("GET", "/v1/items:bySku"))).toEqual({ method: "FindItemBySku", pathVars: {} });
    expect(matched(table.match("GET", "/v1/warehouses/w1/items:watch"))).toEqual({ method: "WatchItems", pathVars: { warehouse_id: "w1" } });
    expect(matched(table.match("GET", "/v1/warehouses/w1/items"))).toEqual({ method: "SearchItems", pathVars: { warehouse_id: "w1" } });
  });

  it("routes custom verbs, additional bindings, ** templates and custom HTTP methods", () => {
    expect(matched(table.match("POST", "/v1/reservations/r%201:confirm"))).toEqual({ method: "ConfirmReservation", pathVars: { id: "r 1" } });
    expect(matched(table.match("GET", "/v1/reservations/r1"))).toEqual({ method: "GetReservation", pathVars: { id: "r1" } });
    expect(table.match("GET", "/v1/reservations/r1:confirm")).toEqual({ kind: "methodNotAllowed", allow: ["POST"] });
    expect(matched(table.match("GET", "/v1/warehouses/w1/items/i1"))).toEqual({ method: "GetItem", pathVars: { warehouse_id: "w1", id: "i1" } });
    expect(matched(table.match("GET", "/v1/shelves/s1/items/a/b"))).toEqual({ method: "GetShelfItem", pathVars: { name: "shelves/s1/items/a/b" } });
    expect(matched(table.match("PURGE", "/v1/items/i1"))).toEqual({ method: "PurgeItem", pathVars: { id: "i1" } });
  });

  it("does not route methods without a rule", () => {
    expect(table.routes.some((r) => r.method.name === "Ping")).toBe(false);
    expect(httpBindings(ItemService.method["ping"]!)).toEqual([]);
  });

  it("exposes body and response_body of each binding", () => {
    const [create] = httpBindings(WarehouseService.method["createWarehouse"]!);
    expect(create).toMatchObject({ httpMethod: "POST", body: "warehouse", responseBody: "warehouse", index: 0 });
    expect(httpBindings(ItemService.method["getItem"]!).map((b) => b.template.source)).toEqual(["/v1/items/{id}", "/v1/warehouses/{warehouse_id}/items/{id}"]);
  });

  it("refuses two methods on the same verb and template", () => {
    expect(() => buildRouteTable([WarehouseService, WarehouseService])).toThrow(/already bound/);
  });
});

import { ItemService } from "@inv/gen/inventory/v1/item_pb";
import { ReportService } from "@inv/gen/inventory/v1/report_pb";
import { StockService } from "@inv/gen/inventory/v1/stock_pb";
import { TrackedUnitService } from "@inv/gen/inventory/v1/tracked_unit_pb";
import { ReservationService } from "@inv/gen/reservation/v1/reservation_pb";
import { UserService } from "@inv/gen/user/v1/user_pb";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchPath } from "./path-template.js";
import { buildRouteTable, type RouteMatch, type RouteTable } from "./routes.js";

const table = buildRouteTable([WarehouseService, ItemService, StockService, TrackedUnitService, ReportService, ReservationService, UserService]);

/** The route table's answer by trying every route in order, as before routes were looked up by prefix. */
function scanAll(t: RouteTable, httpMethod: string, path: string): RouteMatch {
  const key = (i: number) => t.routes[i]!.rule.template.source.replace(/\{[^}]*\}/g, "*").replace(/:[^/]*$/, "") + (t.routes[i]!.rule.template.verb ?? "");
  let resource: string | undefined;
  const allow = new Set<string>();
  for (const [i, route] of t.routes.entries()) {
    if (resource !== undefined && key(i) !== resource) continue;
    const pathVars = matchPath(route.rule.template, path);
    if (pathVars === undefined) continue;
    resource = key(i);
    if (route.rule.httpMethod === httpMethod || route.rule.httpMethod === "*") {
      return { kind: "match", service: route.service, method: route.method, rule: route.rule, pathVars };
    }
    allow.add(route.rule.httpMethod);
  }
  return allow.size === 0 ? { kind: "notFound" } : { kind: "methodNotAllowed", allow: [...allow].sort() };
}

// Path segments drawn from the real templates' literals, with ids, verbs and escapes mixed in.
const literals = [...new Set(table.routes.flatMap((r) => r.rule.template.segments.flatMap((s) => (s.kind === "literal" ? [s.value] : []))))];
const verbs = [...new Set(table.routes.flatMap((r) => (r.rule.template.verb ? [r.rule.template.verb] : [])))];
const segment = fc.oneof(
  fc.constantFrom(...literals),
  fc.constantFrom("w1", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "", "%76%31", "a%2Fb", "x:y"),
  fc.constantFrom(...literals).map((l) => `${l}:${verbs[0] ?? "v"}`),
);
// Every template made concrete ("/v1/auth:login", "/v1/users/w1:setPassword"), and random mixes.
const concrete = table.routes.map((r) => r.rule.template.source.replace(/\{[^}]*\}/g, "w1"));
const path = fc.oneof(
  fc.constantFrom(...concrete),
  fc
    .tuple(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.option(fc.constantFrom(...verbs), { nil: undefined }))
    .map(([segments, verb]) => `/${segments.join("/")}${verb ? `:${verb}` : ""}`),
);
const httpMethod = fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT");

describe("route lookup by prefix", () => {
  it("answers exactly as trying every route would", () => {
    fc.assert(
      fc.property(httpMethod, path, (verb, p) => {
        expect(table.match(verb, p)).toEqual(scanAll(table, verb, p));
      }),
      { seed: 0, numRuns: 2_000 },
    );
  });

  it("still matches a literal written with escapes", () => {
    expect(table.match("GET", "/%76%31/warehouses/w1")).toMatchObject({ kind: "match", method: { name: "GetWarehouse" } });
  });
});

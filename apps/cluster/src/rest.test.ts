/** The cluster end to end through the edge's REST: statuses, error bodies, request ids, CORS. */
import { publicServices } from "@inv/service-catalog/descriptors";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestCluster, type TestCluster } from "./testing.js";

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(() => cluster?.stop());

/** No credentials: the header left out. */
const ANONYMOUS = { authorization: undefined };

/** One REST call, as the administrator unless `headers` says otherwise (a header set to undefined is left out). */
async function call(method: string, path: string, body?: unknown, headers: Record<string, string | undefined> = {}) {
  const all: Record<string, string | undefined> = { "content-type": "application/json", authorization: cluster.authorization, ...headers };
  const res = await fetch(`${cluster.baseUrl}${path}`, {
    method,
    headers: Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined)),
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

const ERROR_BODY = {
  error: {
    code: expect.any(String),
    message: expect.any(String),
    details: expect.any(Object),
    timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    request_id: expect.any(String),
  },
};

let seq = 0;
const code = () => `E2E-${++seq}`;

describe("REST over the whole cluster", () => {
  it("creates, reads, lists, updates (update_mask in the query) and deletes a warehouse", async () => {
    const created = await call("POST", "/v1/warehouses", { code: "REST-1", name: "Rest DC", priority: 3 });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ code: "REST-1", name: "Rest DC", priority: 3, active: true });
    const id = created.body!["id"] as string;

    expect((await call("GET", `/v1/warehouses/${id}`)).body).toMatchObject({ id, code: "REST-1" });
    expect((await call("GET", "/v1/warehouses?code=REST-1")).body!["warehouses"]).toHaveLength(1);
    const patched = await call("PATCH", `/v1/warehouses/${id}?updateMask=name`, { name: "Renamed", priority: 999 });
    expect(patched.body).toMatchObject({ name: "Renamed", priority: 3 });

    const type = (await call("GET", "/v1/location-types")).body!["locationTypes"].find((t: { code: string }) => t.code === "BIN");
    const loc = await call("POST", `/v1/warehouses/${id}/locations`, { code: "B-01", locationTypeId: type.id, metadata: { temp: "chilled" } });
    expect(loc.body).toMatchObject({ warehouseId: id, path: "B-01", metadata: { temp: "chilled" } });

    const refused = await call("DELETE", `/v1/warehouses/${id}`);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: "FAILED_PRECONDITION", details: { field: "id", constraint: "has_locations" } } });

    expect((await call("DELETE", `/v1/locations/${loc.body!["id"]}`)).status).toBe(200);
    const deleted = await call("DELETE", `/v1/warehouses/${id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body!["deleteTime"]).toBeDefined();
  });

  it.each([
    ["malformed JSON", "POST", "/v1/warehouses", '{"code":', 400, "INVALID_ARGUMENT", { field: "body", constraint: "malformed_json" }],
    [
      "unknown field",
      "POST",
      "/v1/warehouses",
      { code: "X1", name: "x", colour: "red" },
      400,
      "INVALID_ARGUMENT",
      { field: "warehouse.colour", constraint: "unknown_field" },
    ],
    [
      "wrong type",
      "POST",
      "/v1/warehouses",
      { code: "X2", name: "x", priority: "high" },
      400,
      "INVALID_ARGUMENT",
      { field: "warehouse.priority", value: "high", constraint: "type" },
    ],
    [
      "out of range",
      "POST",
      "/v1/warehouses",
      { code: "X3", name: "x", priority: 5000 },
      400,
      "INVALID_ARGUMENT",
      { field: "warehouse.priority", value: "5000", constraint: "range" },
    ],
    ["int32 overflow", "POST", "/v1/warehouses", { code: "X4", name: "x", priority: 2 ** 40 }, 400, "INVALID_ARGUMENT", { field: "warehouse.priority" }],
    ["missing required", "POST", "/v1/warehouses", { name: "no code" }, 400, "INVALID_ARGUMENT", { field: "warehouse.code", constraint: "required" }],
    ["non-object body", "POST", "/v1/warehouses", "[1,2]", 400, "INVALID_ARGUMENT", { constraint: "type" }],
    ["bad id", "GET", "/v1/warehouses/not-a-uuid", undefined, 400, "INVALID_ARGUMENT", { field: "id", constraint: "format" }],
    ["unknown id", "GET", "/v1/warehouses/0190a0a0-0000-7000-8000-000000000000", undefined, 404, "NOT_FOUND", { field: "id" }],
    ["unknown query parameter", "GET", "/v1/warehouses?colour=red", undefined, 400, "INVALID_ARGUMENT", { field: "colour" }],
    ["bad page size", "GET", "/v1/warehouses?pageSize=9999", undefined, 400, "INVALID_ARGUMENT", { field: "page_size", constraint: "range" }],
    ["unknown route", "GET", "/v1/nowhere", undefined, 404, "NOT_FOUND", {}],
    ["wrong verb", "PUT", "/v1/warehouses", { code: "X" }, 405, "INVALID_ARGUMENT", {}],
    ["not implemented yet", "GET", "/v1/stock-levels:watch", undefined, 501, "UNIMPLEMENTED", {}],
  ])("%s → %i with the error body", async (_name, method, path, body, status, errorCode, details) => {
    const res = await call(method, path, body);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject(ERROR_BODY);
    expect(res.body).toMatchObject({ error: { code: errorCode, details } });
    expect(res.body!["error"].request_id).toBe(res.headers.get("x-request-id"));
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+|SELECT|INSERT|stack/);
  });

  it("a duplicate code → 409 ALREADY_EXISTS, and the first warehouse is unchanged", async () => {
    const c = code();
    await call("POST", "/v1/warehouses", { code: c, name: "first" });
    const dup = await call("POST", "/v1/warehouses", { code: c, name: "second" });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ error: { code: "ALREADY_EXISTS", details: { field: "warehouse.code", value: c, constraint: "unique" } } });
    expect((await call("GET", `/v1/warehouses?code=${c}`)).body!["warehouses"].map((w: { name: string }) => w.name)).toEqual(["first"]);
  });

  it("a wrong content type → 415, an oversized body → 413", async () => {
    const form = await call("POST", "/v1/warehouses", "code=X", { "content-type": "application/x-www-form-urlencoded" });
    expect(form.status).toBe(415);
    expect(form.body).toMatchObject(ERROR_BODY);
    const huge = await call("POST", "/v1/warehouses", { code: "BIG", name: "x".repeat(2 * 1024 * 1024) });
    expect(huge.status).toBe(413);
  });

  it("echoes the caller's x-request-id, or makes one up", async () => {
    const mine = await call("GET", "/v1/nowhere", undefined, { "x-request-id": "req-12345" });
    expect(mine.headers.get("x-request-id")).toBe("req-12345");
    expect(mine.body!["error"].request_id).toBe("req-12345");
    const made = await call("GET", "/v1/warehouses");
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers CORS preflights and exposes the request id to browsers", async () => {
    const res = await fetch(`${cluster.baseUrl}/v1/warehouses`, {
      method: "OPTIONS",
      headers: { origin: "https://console.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toContain("PATCH");
    const get = await fetch(`${cluster.baseUrl}/v1/warehouses`, { headers: { origin: "https://console.example" } });
    expect(get.headers.get("access-control-expose-headers")).toContain("x-request-id");
  });

  it("serves /healthz, /readyz and /openapi.json", async () => {
    expect((await call("GET", "/healthz", undefined, ANONYMOUS)).body).toEqual({ status: "ok" });
    const ready = await call("GET", "/readyz", undefined, ANONYMOUS);
    expect(ready.status).toBe(200);
    expect(Object.values(ready.body!["services"])).toEqual(expect.arrayContaining(["SERVING"]));
    const doc = (await call("GET", "/openapi.json", undefined, ANONYMOUS)).body!;
    expect(doc["openapi"]).toBe("3.1.0");
    expect(Object.keys(doc["paths"])).toEqual(expect.arrayContaining(["/v1/warehouses", "/v1/warehouses/{id}", "/v1/reservations/{id}:confirm"]));
  });

  it("serves the API reference page at /docs over /openapi.json", async () => {
    const page = await fetch(`${cluster.baseUrl}/docs`);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain('url: "/openapi.json"');
    const bundle = await fetch(`${cluster.baseUrl}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toContain("javascript");
    expect((await fetch(`${cluster.baseUrl}/docs/../package.json`)).status).toBe(404);
  });

  it("every REST route of every public service refuses bad input with 400 and the error body", async () => {
    const doc = (await call("GET", "/openapi.json", undefined, ANONYMOUS)).body!;
    let routes = 0;
    for (const [template, item] of Object.entries(doc["paths"] as Record<string, Record<string, unknown>>)) {
      const path = template.replace(/\{[^}]+\}/g, "not-an-id");
      for (const verb of Object.keys(item).filter((k) => ["get", "post", "patch", "delete", "put"].includes(k))) {
        const bodyless = verb === "get" || verb === "delete";
        const res = await call(verb.toUpperCase(), bodyless ? `${path}?no_such_field=1` : path, bodyless ? undefined : '{"no_such_field":true}');
        expect.soft(res.status, `${verb} ${template}`).toBe(400);
        expect.soft(res.body, `${verb} ${template}`).toMatchObject(ERROR_BODY);
        routes++;
      }
    }
    // At least one route per method of the catalog's public services (edge-contract.test.ts holds the set).
    expect(routes).toBeGreaterThanOrEqual(publicServices.flatMap((s) => s.methods).length);
  });
});

describe("REST with and without rights", () => {
  const expectChallenge = (res: Awaited<ReturnType<typeof call>>, what: string) => {
    expect(res.status, what).toBe(401);
    expect(res.headers.get("www-authenticate"), what).toBe("Bearer");
    expect(res.body, what).toMatchObject(ERROR_BODY);
    expect(res.body, what).toMatchObject({ error: { code: "UNAUTHENTICATED" } });
    expect(res.body!["error"].request_id, what).toBe(res.headers.get("x-request-id"));
  };

  it.each([
    ["GET", "/v1/warehouses", undefined],
    ["GET", "/v1/warehouses/0190a0a0-0000-7000-8000-000000000000", undefined],
    ["POST", "/v1/warehouses", { code: "ANON-1", name: "x" }],
    ["GET", "/v1/users", undefined],
    ["GET", "/v1/me", undefined],
    ["POST", "/v1/auth:logout", {}],
  ])("anonymous %s %s → 401, WWW-Authenticate: Bearer and the error body", async (method, path, body) => {
    expectChallenge(await call(method, path, body, ANONYMOUS), "no credentials");
    expectChallenge(await call(method, path, body, { authorization: "Bearer not-a-token" }), "a malformed token");
    expectChallenge(await call(method, path, body, { authorization: undefined, "x-api-key": "imk_AAAAAAAA_nope" }), "an unknown API key");
  });

  it("nothing was written by the refused anonymous create", async () => {
    expect((await call("GET", "/v1/warehouses?code=ANON-1")).body!["warehouses"]).toEqual([]);
  });

  it("signs in and out over REST: the token works until Logout, then 401", async () => {
    const user = await cluster.userWithRoles(["viewer"]);
    const as = { authorization: `Bearer ${user.token}` };
    expect((await call("GET", "/v1/me", undefined, as)).body).toMatchObject({ user: { id: user.userId, roles: ["viewer"] } });
    expect((await call("POST", "/v1/auth:logout", {}, as)).status).toBe(200);
    await vi.waitFor(async () => expectChallenge(await call("GET", "/v1/warehouses", undefined, as), "after Logout"), { timeout: 1_000, interval: 20 });
  });

  it("a viewer reads, but its write → 403 PERMISSION_DENIED with the error body, and nothing is written", async () => {
    const viewer = await cluster.userWithRoles(["viewer"]);
    const as = { authorization: `Bearer ${viewer.token}` };
    expect((await call("GET", "/v1/warehouses", undefined, as)).status).toBe(200);
    const write = await call("POST", "/v1/warehouses", { code: "VIEWER-1", name: "x" }, as);
    expect(write.status).toBe(403);
    expect(write.headers.get("www-authenticate")).toBeNull();
    expect(write.body).toMatchObject(ERROR_BODY);
    expect(write.body).toMatchObject({ error: { code: "PERMISSION_DENIED" } });
    expect((await call("GET", "/v1/warehouses?code=VIEWER-1")).body!["warehouses"]).toEqual([]);
  });

  it("an API key works as a bearer token and as x-api-key, with its role's rights", async () => {
    const key = await cluster.apiKeyWithRole("viewer");
    for (const headers of [{ authorization: `Bearer ${key.secret}` }, { authorization: undefined, "x-api-key": key.secret }]) {
      expect((await call("GET", "/v1/warehouses", undefined, headers)).status).toBe(200);
      expect((await call("POST", "/v1/warehouses", { code: "KEY-1", name: "x" }, headers)).status).toBe(403);
    }
  });

  it("an internal service stays 404 at the edge, even for the administrator", async () => {
    for (const path of ["/v1/holds", "/v1/storage-usage", "/inventory.v1.HoldService/HoldStock", "/user.v1.TokenService/IntrospectToken"]) {
      expect((await call("POST", path, {})).status, `POST ${path}`).toBe(404);
    }
  });
});

/**
 * Fuzzing the edge in front of the real warehouse service (embedded PGlite, or TEST_DATABASE_URL):
 * arbitrary JSON, bytes, paths and query strings. Whatever comes in, the edge answers, in time,
 * never with a 5xx, never logs an unexpected error, and every REST error has the one error body.
 */
import { request } from "node:http";
import { connect } from "node:net";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { createLogger } from "@inv/platform";
import type { TestService } from "@inv/platform/testing";
import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { errorBodySchema, type ErrorBody } from "./http-errors.js";
import type { RunningEdge } from "./index.js";
import { startEdgeOverWarehouse, type EdgeOverWarehouse } from "./testing.js";
import { buildRouteTable } from "./transcode/index.js";

const log = createLogger("edge", "error");
const unexpected = vi.spyOn(log, "error").mockImplementation(() => undefined);
let warehouse: TestService;
let edge: RunningEdge;
let running: EdgeOverWarehouse;

beforeAll(async () => {
  running = await startEdgeOverWarehouse(log);
  ({ warehouse, edge } = running);
});

afterAll(() => running?.stop());

interface Answer {
  status: number;
  requestId: string | undefined;
  body: string;
}

/** One request over a fresh connection; a request that gets no answer in 10 s fails the run. */
function send(method: string, path: string, body?: Uint8Array | string, contentType = "application/json"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // An explicit length: for GET and DELETE, Node's client would send the body unframed otherwise.
    // As an admin (every permission), so input reaches the service's own checks, not only the auth interceptor.
    const authorization = `Bearer ${warehouse.adminToken}`;
    const headers = body === undefined ? { authorization } : { authorization, "content-type": contentType, "content-length": String(Buffer.byteLength(body)) };
    const req = request(`${edge.url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode!, requestId: res.headers["x-request-id"] as string | undefined, body: Buffer.concat(chunks).toString() }),
      );
      res.on("error", reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer in 10 s to ${method} ${path}`)));
    req.on("error", reject);
    req.end(body);
  });
}

const validErrorBody = new Ajv2020({ strict: false }).addFormat("date-time", true).compile(errorBodySchema);
const RPC_PATH = /^\/[a-z][\w.]*\.[A-Z]\w*\/[A-Z]\w*$/;

/** The properties every answer has, whatever the request was. */
function expectWellFormed(answer: Answer, path: string, method = "POST") {
  expect(answer.status, answer.body).toBeLessThan(500);
  expect(answer.requestId).toBeTruthy();
  if (answer.status < 400 || method === "HEAD") return;
  // On an RPC path Connect answers itself: {code, message}, or no body for a method it does not
  // take; the edge's own error body is for everything else (an unknown RPC included).
  const rpc = RPC_PATH.test(path.split("?")[0]!);
  if (rpc && answer.body === "") return;
  const body = JSON.parse(answer.body) as { error?: { request_id?: string }; code?: unknown };
  if (rpc && body.error === undefined) {
    expect(typeof body.code, answer.body).toBe("string");
    return;
  }
  expect(validErrorBody(body), `${answer.body}\n${JSON.stringify(validErrorBody.errors)}`).toBe(true);
  expect(body.error!.request_id).toBe(answer.requestId);
}

const routes = buildRouteTable([WarehouseService]).routes;
/** Percent-encodes any string, lone surrogates included (as their WTF-8 bytes, which are not UTF-8). */
const encode = (text: string) =>
  text.replace(/[\s\S]/gu, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return [...Buffer.from([0xed, 0xa0 | ((c.charCodeAt(0) >> 6) & 0x1f), 0x80 | (c.charCodeAt(0) & 0x3f)])]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join("");
    }
  });
const oddSegments = ["%00", "%zz", "%ff", "%2F", "..", ".", "%C0%AF", "%", "a%2Fb", "x:y"];
const segment = fc.oneof(fc.uuid(), fc.webSegment(), fc.string({ unit: "binary", maxLength: 40 }).map(encode), fc.constantFrom(...oddSegments));
/** A route's template with every variable (and wildcard) replaced by a fuzzed segment. */
const routePath = fc.tuple(fc.constantFrom(...routes), fc.array(segment, { minLength: 4, maxLength: 4 })).map(([route, values]) => {
  const t = route.rule.template;
  const parts = t.segments.map((s, i) => (s.kind === "literal" ? s.value : values[i % values.length]!));
  return { method: route.rule.httpMethod, path: `/${parts.join("/")}${t.verb === undefined ? "" : `:${t.verb}`}` };
});
const anyPath = fc.oneof(
  routePath.map((r) => r.path),
  fc.array(segment, { maxLength: 6 }).map((s) => `/${s.join("/")}`),
  fc.webPath().map((p) => (p.startsWith("/") ? p : `/${p}`)),
  fc.constantFrom("/warehouse.v1.WarehouseService/GetWarehouse", "/warehouse.v1.WarehouseService/Nope", "/openapi.json", "/docs/x", "/healthz"),
);
const queryNames = ["pageSize", "page_size", "code", "active", "showDeleted", "updateMask", "requestId", "etag", "warehouse.id", "__proto__", "x"];
const query = fc.oneof(
  fc.constant(""),
  fc.webQueryParameters().map((q) => `?${q}`),
  fc
    .array(fc.tuple(fc.constantFrom(...queryNames), fc.oneof(fc.string({ unit: "binary", maxLength: 30 }).map(encode), fc.constantFrom(...oddSegments))), {
      maxLength: 4,
    })
    .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}`),
);
const httpMethod = fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT", "HEAD");

/** JSON shaped like the warehouse resources, so that fuzzing gets past the transcoder to the service. */
const warehouseLike = fc.record(
  {
    code: fc.oneof(fc.stringMatching(/^[A-Z0-9][A-Z0-9_-]{1,8}$/), fc.jsonValue({ maxDepth: 2 })),
    name: fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), fc.jsonValue({ maxDepth: 2 })),
    priority: fc.oneof(fc.integer(), fc.double(), fc.jsonValue({ maxDepth: 1 })),
    address: fc.oneof(fc.record({ city: fc.string(), countryCode: fc.string({ maxLength: 3 }) }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 3 })),
    etag: fc.string({ maxLength: 10 }),
    locationTypeId: fc.oneof(fc.uuid(), fc.string()),
    metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  },
  { requiredKeys: [] },
);
const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 6 }), warehouseLike);
const hostileText = fc.constantFrom(
  "[".repeat(100_000) + "]".repeat(100_000),
  `{"name":${'{"a":'.repeat(5_000)}1${"}".repeat(5_001)}`,
  '{"code":"A","code":"B"}',
  '{"__proto__":{"x":1}}',
  '{"name":"a\\u0000b"}',
  '{"priority":1e400}',
  `{"priority":${"9".repeat(10_000)}}`,
  "",
  "null",
);
const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=latin1",
  "text/plain",
  "application/x-www-form-urlencoded",
  "",
  "application/merge-patch+json",
);

const runs = { numRuns: 100, endOnFailure: true };

describe("hostile and incomplete requests, by name", () => {
  const errorOf = (answer: Answer) => (JSON.parse(answer.body) as { error: ErrorBody["error"] }).error;

  it("an empty warehouse create names both code and name, all at once", async () => {
    const answer = await send("POST", "/v1/warehouses", "{}");
    expect(answer.status).toBe(400);
    const error = errorOf(answer);
    expect(error.details).toMatchObject({ field: "warehouse.code", constraint: "required" });
    expect(error.violations!.map((v) => v.field)).toEqual(["warehouse.code", "warehouse.name"]);
  });

  it("JSON nested 100,000 levels deep is a 400 with the error body, and the edge lives on", async () => {
    const answer = await send("POST", "/v1/warehouses", `{"name":${"[".repeat(100_000)}${"]".repeat(100_000)}}`);
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toMatchObject({ code: "INVALID_ARGUMENT", details: { field: "body", constraint: "depth" } });
    expect((await send("GET", "/healthz")).status).toBe(200);
  });

  it.each([
    ["invalid UTF-8", Buffer.from('{"code":"AB","name":"\xff"}', "latin1"), "application/json", 400, "encoding"],
    ["a repeated key", '{"code":"AB","code":"CD","name":"x"}', "application/json", 400, "duplicate_key"],
    ["a NUL", '{"code":"AB","name":"a\\u0000"}', "application/json", 400, "nul_character"],
    ["a __proto__ key", '{"__proto__":{}}', "application/json", 400, "forbidden_key"],
    ["JSON that is not an object", "[1]", "application/json", 400, "type"],
    ["a huge number", '{"code":"AB","name":"x","priority":1e999}', "application/json", 400, "range"],
    ["a charset other than UTF-8", '{"code":"AB","name":"x"}', "application/json; charset=iso-8859-1", 415, "charset"],
  ])("%s is refused before anything is created", async (_, body, type, status, constraint) => {
    const answer = await send("POST", "/v1/warehouses", body, type);
    expect(answer.status).toBe(status);
    expect(errorOf(answer).details.constraint).toBe(constraint);
  });

  it("a path a URL would read as a host is a path like any other", async () => {
    expectWellFormed(await send("GET", "//evil.example/v1/warehouses"), "//evil.example/v1/warehouses");
    expect((await send("GET", "//evil.example/v1/warehouses")).status).toBe(404);
  });

  it("a query string that is not UTF-8 is refused, not read as U+FFFD", async () => {
    const answer = await send("GET", "/v1/warehouses?code=%ff%fe");
    expect(answer.status).toBe(400);
    expect(errorOf(answer).details).toMatchObject({ field: "query", constraint: "encoding" });
  });

  it.each([
    ["a request line that is not HTTP", "GET /v1/warehouses NOT-HTTP\r\n\r\n", 400],
    ["headers larger than Node accepts", `GET /v1/warehouses HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`, 431],
  ])("%s still gets the error body, and the connection closes", async (_, raw, status) => {
    const reply = await rawExchange(raw);
    expect(reply.split("\r\n")[0]).toContain(` ${status} `);
    const body = JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4)) as ErrorBody;
    expect(validErrorBody(body), JSON.stringify(validErrorBody.errors)).toBe(true);
  });
});

/** Writes raw bytes to the edge's port and returns all it answers before closing. */
function rawExchange(raw: string): Promise<string> {
  const { port } = new URL(edge.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => socket.end(raw));
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("close", () => resolve(Buffer.concat(chunks).toString()));
    socket.on("error", reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error("no answer in 10 s")));
  });
}

describe("the edge under fuzzing", () => {
  it("arbitrary JSON values as the body of every REST route", async () => {
    await fc.assert(
      fc.asyncProperty(routePath, anyJson, async (route, json) => {
        expectWellFormed(await send(route.method, route.path, JSON.stringify(json)), route.path, route.method);
      }),
      runs,
    );
  });

  it("arbitrary bytes, and hostile JSON text, under any content-type", async () => {
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 2_000 }),
      hostileText,
      fc.json().map((j) => new TextEncoder().encode(j)),
    );
    await fc.assert(
      fc.asyncProperty(routePath, body, contentType, async (route, bytes, type) => {
        expectWellFormed(await send(route.method, route.path, bytes, type), route.path, route.method);
      }),
      runs,
    );
  });

  it("arbitrary paths and query strings, with any method", async () => {
    await fc.assert(
      fc.asyncProperty(httpMethod, anyPath, query, async (method, path, q) => {
        expectWellFormed(await send(method, `${path}${q}`), `${path}${q}`, method);
      }),
      runs,
    );
  });

  it("arbitrary JSON to the Connect endpoints", async () => {
    const rpc = fc.constantFrom(...WarehouseService.methods.map((m) => `/${WarehouseService.typeName}/${m.name}`));
    await fc.assert(
      fc.asyncProperty(
        rpc,
        fc.oneof(
          fc.oneof(anyJson, fc.record({ warehouse: warehouseLike }, { requiredKeys: [] })).map((j) => JSON.stringify(j)),
          hostileText,
        ),
        async (path, text) => {
          expectWellFormed(await send("POST", path, text), path);
        },
      ),
      runs,
    );
  });

  it("is still up, and logged no unexpected error", async () => {
    expect((await send("GET", "/healthz")).status).toBe(200);
    expect(unexpected.mock.calls).toEqual([]);
  });
});

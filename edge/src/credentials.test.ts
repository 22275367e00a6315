/**
 * Seed properties 14 and 15 at the edge, over a real warehouse service: credentials are checked
 * before the request is, and every failed request gets the right status and one error body.
 */
import { randomBytes } from "node:crypto";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { createLogger } from "@inv/platform";
import type { TestService } from "@inv/platform/testing";
import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorBodySchema, type ErrorBody } from "./http-errors.js";
import type { RunningEdge } from "./index.js";
import { startEdgeOverWarehouse, type EdgeOverWarehouse } from "./testing.js";

let warehouse: TestService;
let edge: RunningEdge;
let credentials: Record<Caller, Record<string, string>>;

type Caller = "none" | "malformed" | "forged" | "expired" | "viewer" | "admin";
const CALLERS: readonly Caller[] = ["none", "malformed", "forged", "expired", "viewer", "admin"];
const AUTHENTICATED: ReadonlySet<Caller> = new Set(["viewer", "admin"]);

let running: EdgeOverWarehouse;

beforeAll(async () => {
  running = await startEdgeOverWarehouse(createLogger("edge", "silent"));
  ({ warehouse, edge } = running);
  const viewer = await warehouse.authority.issue({ permissions: ["warehouse.read"] });
  const expired = await warehouse.authority.issue({ permissions: ["*"] }, { expiresIn: -60 });
  const [header, payload] = warehouse.adminToken.split(".");
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  credentials = {
    none: {},
    malformed: { authorization: `Token ${warehouse.adminToken}` },
    forged: bearer(`${header}.${payload}.${randomBytes(64).toString("base64url")}`),
    expired: bearer(expired),
    viewer: bearer(viewer),
    admin: bearer(warehouse.adminToken),
  };
});

afterAll(() => running?.stop());

const validErrorBody = new Ajv2020({ strict: false }).addFormat("date-time", true).compile(errorBodySchema);

/** The code each HTTP status of a failure may carry: the status follows from the code. */
const CODES_OF_STATUS: Record<number, readonly string[]> = {
  400: ["INVALID_ARGUMENT", "FAILED_PRECONDITION"],
  401: ["UNAUTHENTICATED"],
  403: ["PERMISSION_DENIED"],
  404: ["NOT_FOUND"],
  405: ["INVALID_ARGUMENT"],
  409: ["ALREADY_EXISTS", "ABORTED"],
  413: ["INVALID_ARGUMENT"],
  415: ["INVALID_ARGUMENT"],
};

interface Request {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  body?: string;
  /** Whether the RPC behind it changes something (warehouse.write). */
  writes: boolean;
}

const code = () => `P14-${randomBytes(5).toString("hex").toUpperCase()}`;
const someId = fc.constantFrom("00000000-0000-7000-8000-00000000beef", "not-a-uuid", "01a2160e-0000-7000-8000-000000000000");
/** Bodies as a client might send them: a good warehouse, a bad one, JSON that is not an object, text that is not JSON. */
const body = fc.oneof(
  fc.constant("").map(() => JSON.stringify({ code: code(), name: "Property 14 DC" })),
  fc.json(),
  fc.constantFrom("{", "[1,2", '{"code":', "not json", '{"__proto__":{"x":1}}', '{"code":"A","code":"B"}'),
  fc.record({ code: fc.string(), name: fc.string(), priority: fc.integer() }).map((w) => JSON.stringify(w)),
);
const requests: fc.Arbitrary<Request> = fc.oneof(
  body.map((b) => ({ method: "POST" as const, path: "/v1/warehouses", body: b, writes: true })),
  fc.tuple(someId, body).map(([id, b]) => ({ method: "PATCH" as const, path: `/v1/warehouses/${id}`, body: b, writes: true })),
  someId.map((id) => ({ method: "DELETE" as const, path: `/v1/warehouses/${id}`, writes: true })),
  someId.map((id) => ({ method: "GET" as const, path: `/v1/warehouses/${id}`, writes: false })),
  fc.constant({ method: "GET" as const, path: "/v1/warehouses?pageSize=1", writes: false }),
);

async function send(request: Request, caller: Caller) {
  const headers: Record<string, string> = { ...credentials[caller] };
  if (request.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${edge.url}${request.path}`, { method: request.method, headers, body: request.body });
  const text = await res.text();
  return { status: res.status, text, challenge: res.headers.get("www-authenticate") };
}

/** The warehouse codes that exist, as the service sees them. */
async function liveCodes(): Promise<Set<string>> {
  const { warehouses } = await warehouse.client(WarehouseService).listWarehouses({ pageSize: 500 });
  return new Set(warehouses.map((w) => w.code));
}

describe("Property 14: API Authentication and Validation", () => {
  it("checks credentials before anything else, then the request, and only then processes it", async () => {
    await fc.assert(
      fc.asyncProperty(requests, fc.constantFrom(...CALLERS), async (request, caller) => {
        const before = await liveCodes();
        const answer = await send(request, caller);
        if (!AUTHENTICATED.has(caller)) {
          // Whatever the body: no credentials, or credentials that are not valid, is 401.
          expect([answer.status, answer.challenge], answer.text).toEqual([401, "Bearer"]);
        } else if (caller === "viewer" && request.writes) {
          // Valid, but without the permission: 403 once the request is well-formed (400 before).
          expect([400, 403], answer.text).toContain(answer.status);
        }
        if (answer.status >= 400 || !request.writes) expect(await liveCodes()).toEqual(before); // a refusal changes nothing
      }),
      { numRuns: 150 },
    );
  });
});

describe("Property 15: API Error Response Consistency", () => {
  it("answers every failed request with the status its code calls for and one descriptive error body", async () => {
    await fc.assert(
      fc.asyncProperty(requests, fc.constantFrom(...CALLERS), async (request, caller) => {
        const answer = await send(request, caller);
        expect(answer.status, answer.text).toBeLessThan(500);
        if (answer.status < 400) return;
        const parsed = JSON.parse(answer.text) as ErrorBody;
        expect(validErrorBody(parsed), answer.text).toBe(true);
        expect(CODES_OF_STATUS[answer.status], `${answer.status} ${answer.text}`).toContain(parsed.error.code);
        expect(parsed.error.message.length).toBeGreaterThan(10);
        expect(answer.text).not.toMatch(/\bat .*\.ts:\d+|SELECT |INSERT |stack/i);
      }),
      { numRuns: 150 },
    );
  });
});

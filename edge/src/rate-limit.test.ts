/**
 * The edge's rate limits over HTTP: in process always, and in Redis when TEST_REDIS_URL is set
 * (two edges with their own Redis clients, as two processes would be, share the buckets). No
 * upstream is needed: /openapi.json is limited like every route, /healthz never is.
 */
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema, RetryInfoSchema } from "@inv/gen/google/rpc/error_details_pb";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { createLogger } from "@inv/platform";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ErrorBody } from "./http-errors.js";
import { apiKeyIdentity, RateLimits, type Identify, type RateLimitSettings } from "./rate-limit.js";
import { createEdgeHandler, startHttpServer } from "./server.js";
import { Upstreams } from "./upstream.js";

const redisUrl = process.env["TEST_REDIS_URL"] || undefined;
const log = createLogger("edge", "silent");
const off = { points: 0, durationSeconds: 60 };
const running: { server: Server; limits: RateLimits | undefined }[] = [];

afterEach(async () => {
  for (const { server, limits } of running.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await limits?.close();
  }
});

interface Edge {
  readonly url: string;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: unknown }>;
}

/**
 * An edge with these limits and no upstream; clients name their address in X-Forwarded-For (one
 * trusted hop). It serves once its buckets are in Redis, unless told not to wait for Redis.
 */
async function startEdgeWith(settings: Partial<RateLimitSettings>, identify?: Identify, waitForRedis = true): Promise<Edge> {
  const limits = RateLimits.create({ perAddress: off, perUser: off, perApiKey: off, ...settings }, log);
  if (waitForRedis) await limits?.shared();
  // The warehouse routes exist (Connect and REST) but lead nowhere: refused calls never leave.
  const handler = createEdgeHandler({
    services: [WarehouseService],
    upstreams: new Upstreams([WarehouseService], () => "dns:///127.0.0.1:9", 1_000, { token: () => "" }),
    log,
    cors: { origins: [] },
    openapi: { openapi: "3.1.0" },
    readiness: async () => ({}),
    rateLimits: limits,
    identify,
    trustProxyHops: 1,
  });
  const server = await startHttpServer(handler, 0, "127.0.0.1");
  running.push({ server, limits });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    async get(path, headers = {}) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
      return { status: res.status, headers: res.headers, body: await res.json() };
    },
  };
}

const from = (address: string, more: Record<string, string> = {}) => ({ "x-forwarded-for": address, ...more });
const statuses = async (edge: Edge, n: number, headers: Record<string, string>) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await edge.get("/openapi.json", headers)).status);
  return out;
};

/** What every refusal looks like: 429, the error body, Retry-After and RateLimit-*. */
async function expectRefused(edge: Edge, headers: Record<string, string>, limit: number, whose: string) {
  const res = await edge.get("/openapi.json", headers);
  expect(res.status).toBe(429);
  const { error } = res.body as ErrorBody;
  expect(error).toMatchObject({ code: "RESOURCE_EXHAUSTED", details: {}, request_id: res.headers.get("x-request-id") });
  expect(error.message).toMatch(new RegExp(`^too many requests ${whose}; retry in \\d+ s$`));
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.headers.get("ratelimit-limit")).toBe(String(limit));
  expect(res.headers.get("ratelimit-remaining")).toBe("0");
  expect(res.headers.get("ratelimit-reset")).toBe(String(retryAfter));
}

const stores: [string, string | undefined][] = [["in process", undefined]];
if (redisUrl) stores.push(["in Redis", redisUrl]);

describe.each(stores)("rate limits %s", (_, url) => {
  /** A key prefix of its own per test, so tests sharing one Redis never share a bucket. */
  const store = () => ({ redisUrl: url, keyPrefix: `test:edge-rl:${randomBytes(6).toString("hex")}` });

  it("limits each client address on its own, and never health checks", async () => {
    const edge = await startEdgeWith({ ...store(), perAddress: { points: 3, durationSeconds: 60 } });
    expect(await statuses(edge, 3, from("10.0.0.1"))).toEqual([200, 200, 200]);
    await expectRefused(edge, from("10.0.0.1"), 3, "from this address");
    expect(await statuses(edge, 3, from("10.0.0.2"))).toEqual([200, 200, 200]);
    expect((await edge.get("/healthz", from("10.0.0.1"))).status).toBe(200);
    expect((await edge.get("/readyz", from("10.0.0.1"))).status).toBe(200);
    // Anonymous successes carry no RateLimit-* (the address bucket's would be noise).
    expect((await edge.get("/openapi.json", from("10.0.0.3"))).headers.get("ratelimit-limit")).toBeNull();
  });

  it("limits each user, as identify names them, whatever address they come from", async () => {
    const identify: Identify = async ({ authorization }) => ({ user: authorization?.slice("Bearer ".length) });
    const edge = await startEdgeWith({ ...store(), perAddress: { points: 100, durationSeconds: 60 }, perUser: { points: 2, durationSeconds: 60 } }, identify);
    const alice = await edge.get("/openapi.json", from("10.0.0.1", { authorization: "Bearer alice" }));
    expect(alice.status).toBe(200);
    expect([alice.headers.get("ratelimit-limit"), alice.headers.get("ratelimit-remaining")]).toEqual(["2", "1"]);
    expect(await statuses(edge, 1, from("10.0.0.2", { authorization: "Bearer alice" }))).toEqual([200]);
    await expectRefused(edge, from("10.0.0.3", { authorization: "Bearer alice" }), 2, "for this user");
    expect(await statuses(edge, 2, from("10.0.0.1", { authorization: "Bearer bob" }))).toEqual([200, 200]);
    expect(await statuses(edge, 3, from("10.0.0.1"))).toEqual([200, 200, 200]); // no credentials: the address only
  });

  it("tells a caller its budget only once a tenth or less of it is left", async () => {
    const identify: Identify = async ({ authorization }) => ({ user: authorization?.slice("Bearer ".length) });
    const edge = await startEdgeWith({ ...store(), perUser: { points: 20, durationSeconds: 60 } }, identify);
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 20; i++) remaining.push((await edge.get("/openapi.json", { authorization: "Bearer carol" })).headers.get("ratelimit-remaining"));
    expect(remaining).toEqual([...Array(17).fill(null), "2", "1", "0"]);
  });

  it("limits each API key, sent as x-api-key or as a bearer token", async () => {
    const edge = await startEdgeWith({ ...store(), perApiKey: { points: 2, durationSeconds: 60 } });
    const key = { "x-api-key": "imk_AbCd1234_c2VjcmV0LW9uZQ" };
    expect(await statuses(edge, 1, from("10.0.0.1", key))).toEqual([200]);
    expect(await statuses(edge, 1, from("10.0.0.2", { authorization: `Bearer ${key["x-api-key"]}` }))).toEqual([200]);
    await expectRefused(edge, from("10.0.0.3", key), 2, "for this API key");
    expect(await statuses(edge, 2, from("10.0.0.1", { "x-api-key": "imk_EfGh5678_c2VjcmV0LXR3bw" }))).toEqual([200, 200]);
    // A bearer token that is not an API key names nobody by default: only the (unlimited) address counts.
    expect(await statuses(edge, 3, from("10.0.0.1", { authorization: "Bearer eyJhbGciOiJFZERTQSJ9.e30.x" }))).toEqual([200, 200, 200]);
  });

  it("refills a bucket when its window ends", async () => {
    const edge = await startEdgeWith({ ...store(), perAddress: { points: 1, durationSeconds: 1 } });
    expect(await statuses(edge, 1, from("10.0.0.1"))).toEqual([200]);
    const refused = await edge.get("/openapi.json", from("10.0.0.1"));
    expect([refused.status, refused.headers.get("retry-after")]).toEqual([429, "1"]);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await statuses(edge, 1, from("10.0.0.1"))).toEqual([200]);
  });
});

describe.runIf(redisUrl)("rate limits in Redis, across edges", () => {
  it("two edges sharing one Redis share the buckets", async () => {
    const settings = { redisUrl, keyPrefix: `test:edge-rl:${randomBytes(6).toString("hex")}`, perAddress: { points: 4, durationSeconds: 60 } };
    const [a, b] = [await startEdgeWith(settings), await startEdgeWith(settings)];
    const seen: number[] = [];
    for (const edge of [a, b, a, b]) seen.push((await edge.get("/openapi.json", from("10.0.0.9"))).status);
    expect(seen).toEqual([200, 200, 200, 200]);
    await expectRefused(a, from("10.0.0.9"), 4, "from this address");
    await expectRefused(b, from("10.0.0.9"), 4, "from this address");
    expect((await a.get("/openapi.json", from("10.0.0.10"))).status).toBe(200);
  });
});

describe("a refused Connect or gRPC-Web call", () => {
  it("is answered in its own protocol, with the code, the reason and when to retry", async () => {
    const edge = await startEdgeWith({ perAddress: { points: 1, durationSeconds: 60 } });
    const failures = async (transport: Transport) => {
      const client = createClient(WarehouseService, transport);
      const errors: ConnectError[] = [];
      for (let i = 0; i < 2; i++)
        await client.getWarehouse({ id: "x" }, { headers: from("10.9.9.9") }).catch((e: unknown) => errors.push(ConnectError.from(e)));
      return errors.at(-1)!;
    };
    for (const transport of [
      createConnectTransport({ baseUrl: edge.url, httpVersion: "1.1" }),
      createGrpcWebTransport({ baseUrl: edge.url, httpVersion: "1.1" }),
    ]) {
      const err = await failures(transport);
      expect(err.code).toBe(Code.ResourceExhausted);
      expect(err.rawMessage).toMatch(/^too many requests from this address; retry in \d+ s$/);
      expect(err.findDetails(ErrorInfoSchema)[0]?.reason).toBe("RATE_LIMITED");
      expect(Number(err.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds)).toBeGreaterThanOrEqual(1);
    }
  });
});

describe("rate limits without Redis", () => {
  it("keep limiting in process while Redis cannot be reached, and say so once", async () => {
    const warn = vi.spyOn(log, "warn");
    const edge = await startEdgeWith(
      { redisUrl: "redis://127.0.0.1:1", keyPrefix: "unreachable", perAddress: { points: 2, durationSeconds: 60 } },
      undefined,
      false,
    );
    expect(await statuses(edge, 2, from("10.0.0.1"))).toEqual([200, 200]);
    await expectRefused(edge, from("10.0.0.1"), 2, "from this address");
    await new Promise((resolve) => setTimeout(resolve, 300)); // ioredis retries the connection meanwhile
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![1]).toMatch(/Redis is unreachable/);
    warn.mockRestore();
  });

  it("are none when every limit is 0", () => {
    expect(RateLimits.create({ perAddress: off, perUser: off, perApiKey: off }, log)).toBeUndefined();
  });
});

describe("apiKeyIdentity", () => {
  it("keys an API key by the first 16 hex characters of its SHA-256, and trusts no user", () => {
    const identify = apiKeyIdentity();
    const key = "imk_AbCd1234_c2VjcmV0";
    // printf %s imk_AbCd1234_c2VjcmV0 | sha256sum | cut -c1-16
    const expected = { apiKey: "2f802fec3482acc1" };
    const byHeader = identify({ apiKey: key });
    expect(byHeader).toEqual(expected);
    expect(identify({ authorization: `Bearer ${key}` })).toBe(byHeader); // same key, same (cached) answer
    expect(identify({ authorization: `bearer ${key}` })).toBe(byHeader);
    expect(identify({ apiKey: "imk_other" })).not.toEqual(byHeader);
    expect(identify({ authorization: "Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhbGljZSJ9.sig" })).toEqual({});
    expect(identify({ authorization: "Basic dXNlcjpwYXNz" })).toEqual({});
    expect(identify({})).toEqual({});
  });
});

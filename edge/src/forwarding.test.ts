/**
 * Who the client is, as the services hear it: x-client-ip (the socket's peer, or the trusted
 * X-Forwarded-For hop) and x-client-user-agent, over REST and Connect, never what the client
 * claims. The upstream is a bare grpc-js server that records each call's metadata.
 */
import type { IncomingMessage } from "node:http";
import { type sendUnaryData, Server, ServerCredentials, type ServerUnaryCall, status, type StatusObject } from "@grpc/grpc-js";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { GRPC_USER_AGENT, createLogger, toStatus, tooManyAttempts } from "@inv/platform";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { clientAddress, forwardedUserAgent } from "./client.js";
import { startEdge, type RunningEdge } from "./index.js";

const log = createLogger("edge", "silent");
const calls: Record<string, unknown>[] = [];
// The upstream here checks nothing; the edge only needs to see that credentials came along.
const CREDENTIALS = { authorization: "Bearer opaque-to-this-edge" };
let failWith: Partial<StatusObject> | undefined;
let upstream: Server;
const edges: Record<number, RunningEdge> = {};

beforeAll(async () => {
  upstream = new Server();
  const raw = (b: Buffer) => b;
  const method = {
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  };
  upstream.addService(
    { getWarehouse: { ...method, path: `/${WarehouseService.typeName}/GetWarehouse` } },
    {
      getWarehouse: (call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>) => {
        calls.push(call.metadata.getMap());
        if (failWith) done(failWith);
        else done(null, Buffer.alloc(0)); // an empty GetWarehouseResponse
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    upstream.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  // One edge per number of trusted proxy hops.
  for (const hops of [0, 1, 2]) {
    edges[hops] = await startEdge({
      port: 0,
      host: "127.0.0.1",
      services: [WarehouseService],
      targetOf: () => `dns:///127.0.0.1:${port}`,
      log,
      corsOrigins: [],
      upstreamDeadlineMs: 5_000,
      trustProxyHops: hops,
      processOf: () => "warehouse",
      processNames: ["warehouse"],
      serviceSecret: "a secret the upstream never checks, 32+ characters",
    });
  }
});

afterAll(async () => {
  await Promise.all(Object.values(edges).map((e) => e.stop()));
  upstream?.forceShutdown();
});

beforeEach(() => {
  calls.length = 0;
  failWith = undefined;
});

/** GET /v1/warehouses/w1 through the edge trusting `hops` proxies; the metadata the service got. */
async function viaRest(hops: number, headers: Record<string, string>) {
  const res = await fetch(`${edges[hops]!.url}/v1/warehouses/w1`, { headers: { ...CREDENTIALS, ...headers } });
  expect(res.status, await res.text()).toBe(200);
  return calls.at(-1)!;
}

describe("forwarded to the services", () => {
  it("sends the socket's address and the user agent, not what the client claims", async () => {
    const spoofed = { "user-agent": "probe/1.0", "x-client-ip": "6.6.6.6", "x-client-user-agent": "spoofed", "x-forwarded-for": "7.7.7.7" };
    const seen = await viaRest(0, spoofed);
    expect(seen).toMatchObject({ "x-client-ip": "127.0.0.1", "x-client-user-agent": "probe/1.0" });
    expect(seen["user-agent"]).toBe(GRPC_USER_AGENT); // the edge's own: why the client's travels as x-client-user-agent
    const anonymous = await viaRest(0, { "x-client-user-agent": "spoofed" });
    expect(anonymous["x-client-user-agent"]).not.toBe("spoofed");
  });

  it("trims the user agent to 256 printable characters", async () => {
    const seen = await viaRest(0, { "user-agent": "a".repeat(300) });
    expect(seen["x-client-user-agent"]).toBe("a".repeat(256));
  });

  it("takes the address from X-Forwarded-For only as far as TRUST_PROXY_HOPS reaches", async () => {
    const chain = { "x-forwarded-for": "1.1.1.1, 2.2.2.2" };
    expect((await viaRest(1, chain))["x-client-ip"]).toBe("2.2.2.2");
    expect((await viaRest(2, chain))["x-client-ip"]).toBe("1.1.1.1");
    expect((await viaRest(2, { "x-forwarded-for": "2.2.2.2" }))["x-client-ip"]).toBe("2.2.2.2"); // fewer hops than trusted: the leftmost
    expect((await viaRest(1, { "x-forwarded-for": "1.1.1.1, not-an-address" }))["x-client-ip"]).toBe("127.0.0.1");
    expect((await viaRest(1, {}))["x-client-ip"]).toBe("127.0.0.1");
  });

  it("sends the same over Connect", async () => {
    const res = await fetch(`${edges[1]!.url}/${WarehouseService.typeName}/GetWarehouse`, {
      method: "POST",
      headers: { ...CREDENTIALS, "content-type": "application/json", "user-agent": "connect-probe", "x-client-ip": "6.6.6.6", "x-forwarded-for": "3.3.3.3" },
      body: JSON.stringify({ id: "w1" }),
    });
    expect(res.status, await res.text()).toBe(200);
    expect(calls.at(-1)).toMatchObject({ "x-client-ip": "3.3.3.3", "x-client-user-agent": "connect-probe" });
  });
});

describe("a service's refusal over REST", () => {
  it("is 401 with a Bearer challenge for UNAUTHENTICATED, 403 for PERMISSION_DENIED, 429 for RESOURCE_EXHAUSTED", async () => {
    const answer = async (code: status) => {
      failWith = { code, details: "no" };
      const res = await fetch(`${edges[0]!.url}/v1/warehouses/w1`, { headers: CREDENTIALS });
      return { status: res.status, challenge: res.headers.get("www-authenticate"), code: ((await res.json()) as { error: { code: string } }).error.code };
    };
    expect(await answer(status.UNAUTHENTICATED)).toEqual({ status: 401, challenge: "Bearer", code: "UNAUTHENTICATED" });
    expect(await answer(status.PERMISSION_DENIED)).toEqual({ status: 403, challenge: null, code: "PERMISSION_DENIED" });
    expect(await answer(status.RESOURCE_EXHAUSTED)).toEqual({ status: 429, challenge: null, code: "RESOURCE_EXHAUSTED" });
  });

  it("carries the service's google.rpc.RetryInfo as Retry-After", async () => {
    failWith = toStatus(tooManyAttempts("too many failed sign-ins", 7.2));
    const res = await fetch(`${edges[0]!.url}/v1/warehouses/w1`, { headers: CREDENTIALS });
    expect([res.status, res.headers.get("retry-after")]).toEqual([429, "8"]);
  });
});

describe("clientAddress", () => {
  const req = (remoteAddress: string | undefined, forwarded?: string) =>
    ({ socket: { remoteAddress }, headers: forwarded === undefined ? {} : { "x-forwarded-for": forwarded } }) as unknown as IncomingMessage;

  it("is the peer without trusted hops, IPv4-mapped addresses unwrapped", () => {
    expect(clientAddress(req("::ffff:10.1.2.3", "9.9.9.9"), 0)).toBe("10.1.2.3");
    expect(clientAddress(req("2001:db8::1"), 0)).toBe("2001:db8::1");
    expect(clientAddress(req(undefined), 0)).toBe("");
  });

  it("is the N-th X-Forwarded-For entry from the right with N trusted hops", () => {
    expect(clientAddress(req("10.0.0.1", " 1.1.1.1 ,2001:db8::2, 3.3.3.3"), 2)).toBe("2001:db8::2");
    expect(clientAddress(req("10.0.0.1", "::ffff:1.1.1.1"), 1)).toBe("1.1.1.1");
    expect(clientAddress(req("10.0.0.1", "1.1.1.1<script>"), 1)).toBe("10.0.0.1");
  });
});

describe("forwardedUserAgent", () => {
  it("keeps printable ASCII, replaces the rest, and is absent when the client sent none", () => {
    expect(forwardedUserAgent("curl/8.5.0")).toBe("curl/8.5.0");
    expect(forwardedUserAgent("caf\u00e9\tbot")).toBe("caf??bot");
    expect(forwardedUserAgent(undefined)).toBeUndefined();
    expect(forwardedUserAgent("")).toBeUndefined();
  });
});

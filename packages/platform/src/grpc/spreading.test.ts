/**
 * New servers get traffic from clients that were connected before they started. Real grpc-js
 * servers and a real GrpcChannel on loopback; the one stand-in is name resolution: a resolver
 * whose answer the test changes, and which, like DNS to the channel, is asked again only when the
 * channel wants to (after a connection ends), never on its own.
 */
import { status } from "@grpc/grpc-js";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { GrpcChannel, createGrpcClient } from "./client.js";
import { registration } from "./handler.js";
import type { Resolve } from "./http2-transport.js";
import { startGrpcServer, type RunningGrpcServer } from "./server.js";

/** What "DNS" answers for each name, and how often it was asked. */
const records = new Map<string, string[]>();
const lookups = new Map<string, number>();

const testDns: Resolve = async (name) => {
  lookups.set(name, (lookups.get(name) ?? 0) + 1);
  return (records.get(name) ?? []).map((address) => {
    const [host, port] = address.split(":");
    return { host: host!, port: Number(port) };
  });
};
const channelTo = (name: string) => new GrpcChannel(`dns:///${name}:50051`, { resolve: testDns });

const log = pino({ level: "silent" });
const running: RunningGrpcServer[] = [];
const channels: GrpcChannel[] = [];
afterEach(async () => {
  for (const c of channels.splice(0)) c.close();
  await Promise.all(running.splice(0).map((s) => s.shutdown(100)));
});

/** A server that answers GetWarehouse with its own name, so the test sees who answered. */
async function server(name: string, maxConnectionAgeMs: number) {
  const s = await startGrpcServer({
    name,
    host: "127.0.0.1",
    port: 0,
    log,
    maxConnectionAgeMs,
    connectionAgeGraceMs: 1_000,
    services: [registration(WarehouseService, { getWarehouse: async () => ({ warehouse: { code: name } }) })],
  });
  running.push(s);
  return s;
}

/** Calls every 20 ms for `ms`, and says which servers answered, each with when it first did (ms after the start). */
async function answeringFor(client: ReturnType<typeof createGrpcClient<typeof WarehouseService>>, ms: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const start = Date.now();
  const until = start + ms;
  while (Date.now() < until) {
    const answer = await client.getWarehouse({ id: "x" }).then(
      (r) => ({ code: r.warehouse!.code, failed: undefined }),
      (e: { code?: number }) => ({ code: undefined, failed: e.code }),
    );
    if (answer.code === undefined)
      expect(answer.failed).toBe(status.UNAVAILABLE); // never anything else
    else if (!seen.has(answer.code)) seen.set(answer.code, Date.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return seen;
}

describe("a server added after its clients connected", () => {
  it("gets their calls within the connection age (here 1 s), as they ask DNS again", async () => {
    const name = `svc-${Date.now()}-a`;
    const a = await server("A", 1_000);
    records.set(name, [a.address]);
    const channel = channelTo(name);
    channels.push(channel);
    const client = createGrpcClient(WarehouseService, channel);
    expect([...(await answeringFor(client, 200)).keys()]).toEqual(["A"]);

    // A second task starts and DNS knows it; the client is not told.
    const b = await server("B", 1_000);
    records.set(name, [a.address, b.address]);
    const seen = await answeringFor(client, 3_000);
    expect([...seen.keys()].sort()).toEqual(["A", "B"]);
    // The connection to A ends at 1 s ± 10 %; the client asks DNS again and reaches B at once.
    expect(seen.get("B")).toBeLessThan(2_000);
    expect(lookups.get(name)).toBeGreaterThanOrEqual(2);
  });

  it("never gets them while connections live for ever: what the connection age fixes", async () => {
    const name = `svc-${Date.now()}-b`;
    const a = await server("A", 0);
    records.set(name, [a.address]);
    const channel = channelTo(name);
    channels.push(channel);
    const client = createGrpcClient(WarehouseService, channel);
    expect([...(await answeringFor(client, 200)).keys()]).toEqual(["A"]);

    const b = await server("B", 0);
    records.set(name, [a.address, b.address]);
    expect([...(await answeringFor(client, 3_000)).keys()]).toEqual(["A"]);
    expect(lookups.get(name)).toBe(1);
  });
});

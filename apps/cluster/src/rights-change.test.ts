/**
 * A change of rights made at the user service is seen by the next request at another process
 * within a second (docs/decisions/0007-identity-and-access.md): the warehouse process has the
 * caller's principal cached, and drops it when the invalidation arrives over the bus (in process
 * on the embedded default, Redis pub/sub with TEST_REDIS_URL). Each case first reads through the
 * warehouse process, so what follows tests the invalidation, not a cache miss.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { status } from "@grpc/grpc-js";
import { UserService } from "@inv/gen/user/v1/user_pb";
import { WarehouseService } from "@inv/gen/warehouse/v1/warehouse_pb";
import { RemoteError } from "@inv/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCluster, type TestCluster } from "./testing.js";

const WITHIN_MS = 1_000;
const POLL_MS = 20;

let cluster: TestCluster;
let warehouseId: string;
beforeAll(async () => {
  cluster = await startTestCluster();
  const admin = cluster.clientWith(WarehouseService, "warehouse", { authorization: cluster.authorization });
  warehouseId = (await admin.createWarehouse({ warehouse: { code: "RIGHTS-1", name: "Rights DC" } })).warehouse!.id;
});
afterAll(() => cluster?.stop());

type Outcome = "OK" | keyof typeof status;

/** One warehouse client per credential, so polling reuses its connection. */
const clients = new Map<string, ReturnType<typeof warehouseClient>>();
const warehouseClient = (headers: Record<string, string>) => cluster.clientWith(WarehouseService, "warehouse", headers);

/** One read of the warehouse through the warehouse process, with these credentials. */
const readers = {
  gRPC: async (headers: Record<string, string>): Promise<Outcome> => {
    const key = JSON.stringify(headers);
    if (!clients.has(key)) clients.set(key, warehouseClient(headers));
    try {
      await clients.get(key)!.getWarehouse({ id: warehouseId });
      return "OK";
    } catch (err) {
      if (err instanceof RemoteError) return status[err.code] as Outcome;
      throw err;
    }
  },
  REST: async (headers: Record<string, string>): Promise<Outcome> => {
    const res = await fetch(`${cluster.baseUrl}/v1/warehouses/${warehouseId}`, { headers });
    const body = (await res.json()) as { error?: { code: Outcome } };
    return res.status === 200 ? "OK" : body.error!.code;
  },
};

/** Reads every 20 ms until the answer is `wanted`; the time from `since` it took, or a failure after a second. */
async function msUntil(read: () => Promise<Outcome>, wanted: Outcome, since: number): Promise<number> {
  let last: Outcome | undefined;
  for (;;) {
    last = await read();
    const elapsed = performance.now() - since;
    if (last === wanted) return elapsed;
    if (elapsed >= WITHIN_MS) throw new Error(`still ${last} after ${Math.round(elapsed)} ms, expected ${wanted} within ${WITHIN_MS} ms`);
    await sleep(POLL_MS);
  }
}

describe.each(Object.keys(readers) as (keyof typeof readers)[])("reading through the warehouse process over %s", (over) => {
  const read = readers[over];

  it("a clerk whose roles are all taken away is refused (PERMISSION_DENIED) within a second", async () => {
    const clerk = await cluster.userWithRoles(["clerk"]);
    const as = { authorization: `Bearer ${clerk.token}` };
    expect(await read(as)).toBe("OK");
    await cluster.users.assignRoles({ id: clerk.userId, roles: [] });
    const since = performance.now();
    expect(await msUntil(() => read(as), "PERMISSION_DENIED", since)).toBeLessThan(WITHIN_MS);
  });

  it("a signed-out session's access token is refused (UNAUTHENTICATED) within a second, the user's other session not", async () => {
    const clerk = await cluster.userWithRoles(["clerk"]);
    const other = { authorization: `Bearer ${await cluster.login(clerk.username, clerk.password)}` };
    const as = { authorization: `Bearer ${clerk.token}` };
    expect(await read(as)).toBe("OK");
    expect(await read(other)).toBe("OK");
    expect((await cluster.clientWith(UserService, "user", as).logout({})).endedSessionCount).toBe(1);
    const since = performance.now();
    expect(await msUntil(() => read(as), "UNAUTHENTICATED", since)).toBeLessThan(WITHIN_MS);
    expect(await read(other)).toBe("OK");
  });

  it("a revoked API key is refused (UNAUTHENTICATED) within a second", async () => {
    const key = await cluster.apiKeyWithRole("clerk");
    const as = { "x-api-key": key.secret };
    expect(await read(as)).toBe("OK");
    await cluster.users.revokeApiKey({ id: key.id });
    const since = performance.now();
    expect(await msUntil(() => read(as), "UNAUTHENTICATED", since)).toBeLessThan(WITHIN_MS);
  });

  it("a deactivated user is refused (UNAUTHENTICATED) within a second", async () => {
    const clerk = await cluster.userWithRoles(["clerk"]);
    const as = { authorization: `Bearer ${clerk.token}` };
    expect(await read(as)).toBe("OK");
    await cluster.users.updateUser({ user: { id: clerk.userId, active: false }, updateMask: { paths: ["active"] } });
    const since = performance.now();
    expect(await msUntil(() => read(as), "UNAUTHENTICATED", since)).toBeLessThan(WITHIN_MS);
  });

  it("a role given back is seen within a second too", async () => {
    const viewer = await cluster.userWithRoles([]);
    const as = { authorization: `Bearer ${viewer.token}` };
    expect(await read(as)).toBe("PERMISSION_DENIED");
    await cluster.users.assignRoles({ id: viewer.userId, roles: ["viewer"] });
    const since = performance.now();
    expect(await msUntil(() => read(as), "OK", since)).toBeLessThan(WITHIN_MS);
  });
});

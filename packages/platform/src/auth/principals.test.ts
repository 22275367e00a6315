import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createBus, type Bus } from "../bus.js";
import { testRedisUrl } from "../testing/redis.js";
import { AUTH_INVALIDATE_CHANNEL, type IdentitySource, type Principal } from "./principal.js";
import { PrincipalCache } from "./principals.js";

const principal = (over: Partial<Principal> = {}): Principal => ({
  kind: "user",
  subject: "u1",
  username: "ann",
  sessionId: "s1",
  roles: ["viewer"],
  permissions: ["warehouse.read"],
  ...over,
});

/** An identity source whose answers the test changes, counting the questions. */
function source(initial: Record<string, Principal>) {
  const answers = new Map(Object.entries(initial));
  let asked = 0;
  const src: IdentitySource & { asked: () => number; set: (c: string, p?: Principal) => void } = {
    async introspect(credential) {
      asked++;
      const p = answers.get(credential);
      return p ? { active: true, principal: p, cacheSeconds: 30 } : { active: false, cacheSeconds: 30 };
    },
    asked: () => asked,
    set: (c, p) => (p ? answers.set(c, p) : answers.delete(c)),
  };
  return src;
}

/** The source's answers held back until the test opens the gate; `waiting(n)` resolves once n questions were asked. */
function gated<S extends IdentitySource & { asked: () => number }>(inner: S) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const src = Object.assign(Object.create(inner) as S, {
    async introspect(credential: string) {
      const answer = inner.introspect(credential);
      await gate;
      return answer;
    },
    open: () => release(),
    async waiting(n: number) {
      while (inner.asked() < n) await new Promise((resolve) => setTimeout(resolve, 1));
    },
  });
  return src;
}

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of opened.splice(0)) await thing.close();
});
const bus = (namespace: string): Bus => {
  const b = createBus({ redisUrl: testRedisUrl(), namespace });
  opened.push(b);
  return b;
};

describe("the principal cache", () => {
  it("asks once per credential while nothing changes", async () => {
    const src = source({ t: principal() });
    const cache = new PrincipalCache(src, bus(`t${randomBytes(4).toString("hex")}:`));
    opened.push(cache);
    for (let i = 0; i < 5; i++) expect(await cache.get("t")).toMatchObject({ subject: "u1" });
    expect(src.asked()).toBe(1);
  });

  it("asks once for every lookup of a credential that comes while one is in flight", async () => {
    const src = gated(source({ t: principal() }));
    const cache = new PrincipalCache(src, bus(`t${randomBytes(4).toString("hex")}:`));
    opened.push(cache);
    const all = Promise.all(Array.from({ length: 200 }, () => cache.get("t")));
    await src.waiting(1);
    src.open();
    expect((await all).every((p) => p?.subject === "u1")).toBe(true);
    expect(src.asked()).toBe(1);
  });

  it("does not let a lookup that started before an invalidation answer the callers after it", async () => {
    const src = gated(source({ t: principal() }));
    const cache = new PrincipalCache(src, bus(`t${randomBytes(4).toString("hex")}:`));
    opened.push(cache);
    const before = cache.get("t");
    await src.waiting(1);
    src.set("t", principal({ roles: ["admin"], permissions: ["warehouse.write"] }));
    cache.invalidate({ users: ["u1"] });
    const after = cache.get("t");
    await src.waiting(2);
    src.open();
    expect((await after)?.roles).toEqual(["admin"]);
    expect(src.asked()).toBe(2);
    await before;
    // Only the answer asked for after the change is kept.
    expect((await cache.get("t"))?.roles).toEqual(["admin"]);
    expect(src.asked()).toBe(2);
  });

  it("passes a failed lookup to everyone waiting on it, and asks again next time", async () => {
    let fail = true;
    let asked = 0;
    const src: IdentitySource = {
      async introspect() {
        asked++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (fail) throw new Error("user service unavailable");
        return { active: true, principal: principal(), cacheSeconds: 30 };
      },
    };
    const cache = new PrincipalCache(src, bus(`t${randomBytes(4).toString("hex")}:`));
    opened.push(cache);
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => cache.get("t")));
    expect(outcomes.every((o) => o.status === "rejected")).toBe(true);
    expect(asked).toBe(1);
    fail = false;
    expect(await cache.get("t")).toMatchObject({ subject: "u1" });
    expect(asked).toBe(2);
  });

  it("drops exactly the entries an invalidation names", async () => {
    const src = source({
      a: principal(),
      b: principal({ subject: "u2", sessionId: "s2" }),
      k: principal({ kind: "api_key", subject: "u3", sessionId: undefined, apiKeyId: "k1" }),
    });
    const cache = new PrincipalCache(src, bus(`t${randomBytes(4).toString("hex")}:`));
    opened.push(cache);
    for (const c of ["a", "b", "k"]) await cache.get(c);
    cache.invalidate({ sessions: ["s1"] });
    for (const c of ["a", "b", "k"]) await cache.get(c);
    expect(src.asked()).toBe(4);
    cache.invalidate({ apiKeys: ["k1"], users: ["u2"] });
    for (const c of ["a", "b", "k"]) await cache.get(c);
    expect(src.asked()).toBe(6);
    cache.invalidate({ all: true });
    for (const c of ["a", "b", "k"]) await cache.get(c);
    expect(src.asked()).toBe(9);
  });

  it("does not keep an answer that was being fetched when an invalidation arrived", async () => {
    let release: () => void = () => {};
    let asked = 0;
    const slow: IdentitySource = {
      introspect: () => {
        asked++;
        return new Promise((resolve) => {
          release = () => resolve({ active: true, principal: principal(), cacheSeconds: 30 });
        });
      },
    };
    const cache = new PrincipalCache(slow, bus(`t${randomBytes(4).toString("hex")}:`));
    opened.push(cache);
    const first = cache.get("t");
    await Promise.resolve();
    cache.invalidate({ users: ["u1"] });
    release();
    await first;
    const second = cache.get("t");
    release();
    await second;
    expect(asked).toBe(2);
  });

  it("sees a revocation published by another process within a second", async () => {
    const namespace = `t${randomBytes(4).toString("hex")}:`;
    const src = source({ t: principal() });
    const here = new PrincipalCache(src, bus(namespace));
    opened.push(here);
    const there = bus(namespace); // the user service, in another process (its own connection)
    await Promise.all(opened.filter((o): o is Bus => "ready" in o).map((b) => b.ready()));
    expect(await here.get("t")).toBeDefined();
    src.set("t", undefined);
    expect(await here.get("t")).toBeDefined(); // cached: the user service has not spoken yet
    const sent = performance.now();
    await there.publish(AUTH_INVALIDATE_CHANNEL, JSON.stringify({ sessions: ["s1"] }));
    while ((await here.get("t")) !== undefined) {
      expect(performance.now() - sent).toBeLessThan(1_000);
      await new Promise((r) => setTimeout(r, 5));
    }
  });
});

import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryCache, RedisCache, readThrough, type Cache } from "./cache.js";
import { testRedisUrl } from "./testing/redis.js";

const redisUrl = testRedisUrl();
const implementations: [string, () => Cache][] = [["memory", () => new MemoryCache()]];
if (redisUrl) implementations.push(["redis", () => new RedisCache(redisUrl, `test:${randomBytes(6).toString("hex")}`)]);

const text = { encode: (s: string) => s, decode: (s: string) => s };

describe.each(implementations)("%s cache", (_name, make) => {
  const cache = make();
  afterAll(() => cache.close());

  it("reads through once, then serves the cached value until invalidated", async () => {
    let loads = 0;
    const load = async () => `v${++loads}`;
    expect(await readThrough(cache, "k1", 60, load, text)).toBe("v1");
    expect(await readThrough(cache, "k1", 60, load, text)).toBe("v1");
    await cache.invalidate("k1");
    expect(await readThrough(cache, "k1", 60, load, text)).toBe("v2");
  });

  it("does not cache 'not found'", async () => {
    let loads = 0;
    const load = async () => {
      loads++;
      return undefined;
    };
    await readThrough(cache, "k2", 60, load, text);
    await readThrough(cache, "k2", 60, load, text);
    expect(loads).toBe(2);
  });

  it("never stores a value loaded before an invalidation that landed during the load", async () => {
    // A slow reader loads the old value; a writer commits and invalidates meanwhile.
    const read = readThrough(
      cache,
      "k3",
      60,
      async () => {
        await cache.invalidate("k3");
        return "stale";
      },
      text,
    );
    expect(await read).toBe("stale");
    expect(await cache.get("k3")).toBeUndefined();
  });

  it("expires entries after their time to live", async () => {
    await cache.setIfUnchanged("k4", "x", 1, await cache.stamp("k4"));
    expect(await cache.get("k4")).toBe("x");
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await cache.get("k4")).toBeUndefined();
  });
});

describe("redis outage", () => {
  it("degrades to cache misses instead of failing", async () => {
    const cache = new RedisCache("redis://127.0.0.1:1", "test");
    expect(await readThrough(cache, "k", 60, async () => "from db", text)).toBe("from db");
    await cache.invalidate("k");
    await cache.close();
  });
});

describe.skipIf(!redisUrl)("redis cache, an invalidation that fails", () => {
  it("is tried again until it lands, and meanwhile the process reads past the cache", async () => {
    const prefix = `test:${randomBytes(6).toString("hex")}`;
    const cache = new RedisCache(redisUrl!, prefix);
    const other = new RedisCache(redisUrl!, prefix);
    try {
      expect(await readThrough(cache, "k", 60, async () => "old", text)).toBe("old");
      // Redis is out of reach for this process while the writer invalidates.
      const redis = (cache as unknown as { redis: { status: string; disconnect(): void; connect(): Promise<void> } }).redis;
      redis.disconnect();
      await cache.invalidate("k");
      // This process does not serve (or store) the key while its invalidation is pending...
      expect(await readThrough(cache, "k", 60, async () => "new", text)).toBe("new");
      // ...and once Redis is back, the invalidation lands for every process.
      await expect.poll(() => redis.status).toBe("end");
      await redis.connect();
      await expect.poll(() => other.get("k"), { timeout: 5_000 }).toBeUndefined();
      // Then the process caches the key again.
      const cachedAgain = async () => {
        await readThrough(cache, "k", 60, async () => "newer", text);
        return other.get("k");
      };
      await expect.poll(cachedAgain, { timeout: 5_000 }).toBe("newer");
    } finally {
      await cache.close();
      await other.close();
    }
  });
});

describe("memory cache, decoded values", () => {
  it("decodes a hit once and shares it, until the entry is invalidated", async () => {
    const cache = new MemoryCache();
    let decodes = 0;
    const codec = {
      encode: (v: { n: number }) => JSON.stringify(v),
      decode: (s: string) => {
        decodes++;
        return JSON.parse(s) as { n: number };
      },
    };
    let loads = 0;
    const load = async () => ({ n: ++loads });
    expect(await readThrough(cache, "d1", 60, load, codec)).toEqual({ n: 1 }); // the load, not decoded
    const first = await readThrough(cache, "d1", 60, load, codec);
    expect(await readThrough(cache, "d1", 60, load, codec)).toBe(first);
    expect(decodes).toBe(1);
    await cache.invalidate("d1");
    expect(await readThrough(cache, "d1", 60, load, codec)).toEqual({ n: 2 });
    expect(await readThrough(cache, "d1", 60, load, codec)).toEqual({ n: 2 });
    expect(decodes).toBe(2);
  });
});

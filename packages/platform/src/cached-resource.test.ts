import { randomBytes, randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryCache, RedisCache, type Cache } from "./cache.js";
import { cachedResource } from "./cached-resource.js";
import { DomainError } from "./errors.js";
import { testRedisUrl } from "./testing/redis.js";

const redisUrl = testRedisUrl();
const implementations: [string, () => Cache][] = [["memory", () => new MemoryCache()]];
if (redisUrl) implementations.push(["redis", () => new RedisCache(redisUrl, `test:${randomBytes(6).toString("hex")}`)]);

const codeOf = (err: unknown) => (err instanceof DomainError ? err.code : undefined);

describe.each(implementations)("cachedResource on the %s cache", (_name, make) => {
  const cache = make();
  // A Redis cache serves misses until it has connected (as it does during an outage).
  beforeAll(async () => {
    for (let tries = 0; tries < 100 && (await cache.get("ready")) === undefined; tries++) {
      await cache.setIfUnchanged("ready", "yes", 60, await cache.stamp("ready"));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  afterAll(() => cache.close());
  // Any message will do: a Duration stands in for a resource.
  const stored = new Map<string, bigint>();
  let loads = 0;
  const load = async (id: string) => {
    loads++;
    const seconds = stored.get(id);
    return seconds === undefined ? undefined : create(DurationSchema, { seconds });
  };
  const cached = cachedResource({ cache, schema: DurationSchema, kind: "duration", keyPrefix: "duration.pb", ttlSeconds: 60 });

  it("loads a resource once, serves it from the cache, and loads it again after its key is invalidated", async () => {
    const id = randomUUID();
    stored.set(id, 5n);
    const before = loads;
    expect((await cached.get(id, load)).seconds).toBe(5n);
    expect((await cached.get(id, load)).seconds).toBe(5n);
    expect(loads - before).toBe(1);

    stored.set(id, 6n);
    await cache.invalidate(cached.keyOf(id));
    expect((await cached.get(id, load)).seconds).toBe(6n);
    expect(loads - before).toBe(2);
  });

  it("answers NOT_FOUND, naming the resource, when there is none, and caches nothing for it", async () => {
    const id = randomUUID();
    const before = loads;
    const err = await cached.get(id, load).catch((e: unknown) => e);
    expect(codeOf(err)).toBe(status.NOT_FOUND);
    expect((err as Error).message).toBe(`duration ${id} not found`);
    stored.set(id, 1n);
    expect((await cached.get(id, load)).seconds).toBe(1n);
    expect(loads - before).toBe(2);
  });

  it("refuses an id that is not one with INVALID_ARGUMENT, before looking anywhere", async () => {
    const before = loads;
    const err = await cached.get("not-an-id", load).catch((e: unknown) => e);
    expect(codeOf(err)).toBe(status.INVALID_ARGUMENT);
    expect(loads).toBe(before);
  });
});

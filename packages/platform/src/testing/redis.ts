import { randomBytes } from "node:crypto";
import { createCache, type Cache } from "../cache.js";

/** TEST_REDIS_URL when set (a real Redis), else undefined: the in-process implementations. */
export const testRedisUrl = () => process.env["TEST_REDIS_URL"] || undefined;

/** A cache of this test file's own: a random key prefix keeps files apart on a shared Redis. */
export function openTestCache(): Cache {
  return createCache({ redisUrl: testRedisUrl(), prefix: `test:${randomBytes(6).toString("hex")}` });
}

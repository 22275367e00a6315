import { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * A read cache with explicit invalidation. Each key has a stamp that every invalidation
 * changes; a reader takes the stamp before it loads from the database and stores its value
 * only if the stamp is unchanged, so a slow reader can never put back a value a writer has
 * just invalidated.
 */
export interface Cache {
  get(key: string): Promise<string | undefined>;
  /**
   * A hit, decoded. A cache in process memory keeps what it decoded next to the text, so later
   * hits skip decoding: the values it returns are shared between readers, who must not change
   * them. Redis decodes every hit.
   */
  getDecoded<T>(key: string, decode: (text: string) => T): Promise<T | undefined>;
  stamp(key: string): Promise<string>;
  setIfUnchanged(key: string, value: string, ttlSeconds: number, stamp: string): Promise<void>;
  invalidate(...keys: string[]): Promise<void>;
  close(): Promise<void>;
}

/** Time-to-live of cached reads, in seconds. */
export const CACHE_TTL = { stockLevel: 30, item: 300, warehouse: 3600, report: 60 } as const;

/** Returns the cached value, or loads it (undefined = not found, not cached) and caches it. */
export async function readThrough<T>(
  cache: Cache,
  key: string,
  ttlSeconds: number,
  load: () => Promise<T | undefined>,
  codec: { encode(value: T): string; decode(text: string): T },
): Promise<T | undefined> {
  const hit = await cache.getDecoded(key, codec.decode);
  if (hit !== undefined) return hit;
  const stamp = await cache.stamp(key);
  const value = await load();
  if (value !== undefined) await cache.setIfUnchanged(key, codec.encode(value), ttlSeconds, stamp);
  return value;
}

const STAMP_TTL_SECONDS = 86_400;
const SET_IF_STAMP = `
local current = redis.call('GET', KEYS[2]) or '0'
if current == ARGV[3] then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return 0`;

/**
 * The cache on Redis. A Redis outage degrades to cache misses, never to failed requests. An
 * invalidation that fails (Redis unreachable, a timeout) is not dropped: the keys are kept as
 * pending and invalidated again, with backoff, until it lands; meanwhile this process neither
 * reads nor stores them, so its own reads after its own writes never see the old value.
 */
export class RedisCache implements Cache {
  private readonly redis: Redis;
  /** Keys whose invalidation has not landed yet. */
  private readonly pending = new Set<string>();
  private retry: { timer: NodeJS.Timeout; delayMs: number } | undefined;

  constructor(
    url: string,
    prefix: string,
    private readonly log?: Logger,
  ) {
    this.redis = new Redis(url, { keyPrefix: `${prefix}:`, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
    this.redis.on("error", (err) => this.log?.warn({ err: err.message }, "redis cache unavailable"));
  }

  async get(key: string) {
    if (this.pending.has(key)) return undefined;
    return (await this.safely(() => this.redis.get(key))) ?? undefined;
  }

  async getDecoded<T>(key: string, decode: (text: string) => T): Promise<T | undefined> {
    const text = await this.get(key);
    return text === undefined ? undefined : decode(text);
  }

  async stamp(key: string) {
    return (await this.safely(() => this.redis.get(`${key}#stamp`))) ?? "0";
  }

  async setIfUnchanged(key: string, value: string, ttlSeconds: number, stamp: string) {
    if (this.pending.has(key)) return;
    await this.safely(() => this.redis.eval(SET_IF_STAMP, 2, key, `${key}#stamp`, value, ttlSeconds, stamp));
  }

  async invalidate(...keys: string[]) {
    if (!keys.length) return;
    if (!(await this.invalidateNow(keys))) {
      for (const key of keys) this.pending.add(key);
      this.scheduleRetry();
    }
  }

  /** Whether Redis took the invalidation. */
  private async invalidateNow(keys: readonly string[]): Promise<boolean> {
    const tx = this.redis.multi();
    for (const key of keys) tx.incr(`${key}#stamp`).expire(`${key}#stamp`, STAMP_TTL_SECONDS).del(key);
    const replies = await this.safely(() => tx.exec());
    return !!replies && replies.every(([err]) => !err);
  }

  /** Tries the pending invalidations again after a delay that doubles from 100 ms up to 5 s. */
  private scheduleRetry() {
    if (this.retry) return;
    const delayMs = 100;
    const attempt = (delay: number) => {
      const timer = setTimeout(async () => {
        const keys = [...this.pending];
        if (keys.length === 0 || (await this.invalidateNow(keys))) {
          for (const key of keys) this.pending.delete(key);
          this.retry = undefined;
          if (this.pending.size > 0) this.scheduleRetry();
          return;
        }
        const next = Math.min(delay * 2, 5_000);
        this.retry = { timer: attempt(next), delayMs: next };
      }, delay);
      timer.unref();
      return timer;
    };
    this.retry = { timer: attempt(delayMs), delayMs };
  }

  async close() {
    if (this.retry) clearTimeout(this.retry.timer);
    this.redis.disconnect();
  }

  private async safely<T>(op: () => Promise<T>): Promise<T | undefined> {
    try {
      return await op();
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, "redis cache operation failed");
      return undefined;
    }
  }
}

interface MemoryEntry {
  value: string;
  expires: number;
  /** The value as the last getDecoded decoded it, and the function that did. */
  decoded?: unknown;
  decodedBy?: (text: string) => unknown;
}

/**
 * The same cache in process memory, for the embedded default; bounded, oldest entries go first.
 * getDecoded keeps the decoded value of an entry, so a hit costs no decoding (for a warehouse
 * message, proto JSON parsing was ≈ 14 µs a call; bench/README.md).
 */
export class MemoryCache implements Cache {
  private readonly values = new Map<string, MemoryEntry>();
  private readonly stamps = new Map<string, number>();

  constructor(private readonly maxEntries = 10_000) {}

  async get(key: string) {
    return this.live(key)?.value;
  }

  async getDecoded<T>(key: string, decode: (text: string) => T): Promise<T | undefined> {
    const entry = this.live(key);
    if (!entry) return undefined;
    if (entry.decodedBy !== decode) {
      entry.decoded = decode(entry.value);
      entry.decodedBy = decode;
    }
    return entry.decoded as T;
  }

  private live(key: string): MemoryEntry | undefined {
    const entry = this.values.get(key);
    if (!entry) return undefined;
    if (entry.expires <= Date.now()) {
      this.values.delete(key);
      return undefined;
    }
    return entry;
  }

  async stamp(key: string) {
    return String(this.stamps.get(key) ?? 0);
  }

  async setIfUnchanged(key: string, value: string, ttlSeconds: number, stamp: string) {
    if ((await this.stamp(key)) !== stamp) return;
    this.values.delete(key);
    this.values.set(key, { value, expires: Date.now() + ttlSeconds * 1000 });
    if (this.values.size > this.maxEntries) this.values.delete(this.values.keys().next().value as string);
  }

  async invalidate(...keys: string[]) {
    for (const key of keys) {
      const next = (this.stamps.get(key) ?? 0) + 1;
      this.stamps.delete(key); // re-insert so the map stays in order of last invalidation
      this.stamps.set(key, next);
      this.values.delete(key);
    }
    // Forgetting the oldest stamps keeps memory bounded; a load would have to outlast this many
    // newer invalidations for a forgotten stamp to let a stale value back in.
    while (this.stamps.size > this.maxEntries) this.stamps.delete(this.stamps.keys().next().value as string);
  }

  async close() {
    this.values.clear();
    this.stamps.clear();
  }
}

export function createCache(opts: { redisUrl?: string | undefined; prefix: string; log?: Logger }): Cache {
  return opts.redisUrl ? new RedisCache(opts.redisUrl, opts.prefix, opts.log) : new MemoryCache();
}

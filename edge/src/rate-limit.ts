import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import { API_KEY_PREFIX, bearerToken, type DomainError, type Logger, tooManyAttempts } from "@inv/platform";
import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract, type RateLimiterStoreAbstract } from "rate-limiter-flexible";

/**
 * One limit: `points` requests per `durationSeconds` for each key; 0 points turns it off. As
 * rate-limiter-flexible counts them, the bucket holds `points` and refills whole when its
 * window (started by the key's first request) ends.
 */
export interface Limit {
  points: number;
  durationSeconds: number;
}

export interface RateLimitSettings {
  perAddress: Limit;
  perUser: Limit;
  perApiKey: Limit;
  /** Redis shared by every edge (limits hold across processes); in-process buckets when unset. */
  redisUrl?: string | undefined;
  /** Prefix of the Redis keys, "edge:rl" unless given (tests give each their own). */
  keyPrefix?: string | undefined;
}

/**
 * The defaults, per minute. The address limit is a flood guard, not a quota: 20,000 requests a
 * second from one address is more than one edge serves (bench/README.md: ≈3k/s on the dev VM),
 * so the bench, the tests and a proxy in front of the edge (every client one address, unless
 * TRUST_PROXY_HOPS says otherwise) are never refused. Users and API keys get a quota a person or
 * an integration does not reach by normal use: 6,000 a minute (100 a second on average).
 */
export const DEFAULT_RATE_LIMITS = {
  perAddress: { points: 1_200_000, durationSeconds: 60 },
  perUser: { points: 6_000, durationSeconds: 60 },
  perApiKey: { points: 6_000, durationSeconds: 60 },
} as const satisfies Omit<RateLimitSettings, "redisUrl">;

/** Who a request's credentials name, for the per-user and per-API-key buckets. */
export interface Identity {
  /** The user id (a verified access token's `sub`). */
  readonly user?: string | undefined;
  /** The bearer token presented failed its signature or expiry check: no service will accept it. */
  readonly invalid?: boolean | undefined;
  /** A stable, non-secret id of the API key (e.g. a hash of it). */
  readonly apiKey?: string | undefined;
}

/** The request's credential headers as sent: `authorization` and `x-api-key`. */
export interface Credentials {
  readonly authorization?: string | undefined;
  readonly apiKey?: string | undefined;
}

/**
 * Names the caller behind a request's credentials. Called only when the request carries one;
 * it should answer synchronously when it has seen the credential before (the hot path), and never
 * trust what it has not verified: a forged identity would drain someone else's bucket.
 */
export type Identify = (credentials: Credentials) => Identity | Promise<Identity>;

export const NO_IDENTITY: Identity = Object.freeze({});

/** Distinct keys remembered by apiKeyIdentity before it starts over. */
const MAX_REMEMBERED_KEYS = 10_000;

/**
 * The default Identify: an API key (`x-api-key`, or `authorization: Bearer imk_...`) keyed by the
 * first 16 hex characters of its SHA-256, so no secret ends up in Redis; never a user, since the
 * edge does not verify access tokens itself (a forged `sub` would drain another user's bucket).
 */
export function apiKeyIdentity(): Identify {
  const known = new Map<string, Identity>();
  return ({ authorization, apiKey }) => {
    const bearer = authorization === undefined ? undefined : bearerToken(authorization);
    const secret = apiKey || (bearer?.startsWith(API_KEY_PREFIX) ? bearer : undefined);
    if (!secret) return NO_IDENTITY;
    let identity = known.get(secret);
    if (identity === undefined) {
      if (known.size >= MAX_REMEMBERED_KEYS) known.clear(); // random keys must not grow it without bound
      identity = { apiKey: createHash("sha256").update(secret).digest("hex").slice(0, 16) };
      known.set(secret, identity);
    }
    return identity;
  };
}

interface Bucket {
  readonly limiter: RateLimiterAbstract | RateLimiterStoreAbstract;
  readonly points: number;
  /** "from this address", for the refusal's message. */
  readonly whose: string;
}

const COMPLAINT_INTERVAL_MS = 60_000;

/**
 * The edge's three rate limits (docs/decisions/0007-identity-and-access.md, "Rate limits"). A
 * request takes a point from its address's bucket, then from its API key's bucket when it carries
 * a key, else from its user's when it names a user; the first empty bucket refuses it.
 *
 * In Redis, each bucket falls back to an in-process one (rate-limiter-flexible's insurance
 * limiter) while Redis cannot be reached: limits stay in force, per edge instead of shared, rather
 * than failing open or refusing everything; the outage is logged at most once a minute. A key over
 * its limit is also remembered in process until its window ends, so a flood costs Redis nothing.
 */
export class RateLimits {
  private lastComplaint = -Infinity;

  private constructor(
    private readonly perAddress: Bucket | undefined,
    private readonly perUser: Bucket | undefined,
    private readonly perApiKey: Bucket | undefined,
    private readonly log: Logger,
    private readonly redis: Redis | undefined,
  ) {}

  /** The limits of the settings, or undefined when every one is off. */
  static create(settings: RateLimitSettings, log: Logger): RateLimits | undefined {
    if ([settings.perAddress, settings.perUser, settings.perApiKey].every((l) => l.points <= 0)) return undefined;
    // No offline queue and a short command timeout: a request never waits for Redis to come back.
    const redis = settings.redisUrl ? new Redis(settings.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 500 }) : undefined;
    const prefix = settings.keyPrefix ?? "edge:rl";
    const bucket = (limit: Limit, name: string, whose: string): Bucket | undefined => {
      if (limit.points <= 0) return undefined;
      const options = { points: limit.points, duration: limit.durationSeconds, keyPrefix: `${prefix}:${name}` };
      const limiter = redis
        ? new RateLimiterRedis({
            ...options,
            storeClient: redis,
            rejectIfRedisNotReady: true,
            insuranceLimiter: new RateLimiterMemory(options),
            inMemoryBlockOnConsumed: limit.points + 1,
          })
        : new RateLimiterMemory(options);
      return { limiter, points: limit.points, whose };
    };
    const limits = new RateLimits(
      bucket(settings.perAddress, "addr", "from this address"),
      bucket(settings.perUser, "user", "for this user"),
      bucket(settings.perApiKey, "key", "for this API key"),
      log,
      redis,
    );
    redis?.on("error", (err) => limits.complain(err, "rate limits: Redis is unreachable; each edge limits on its own until it is back"));
    return limits;
  }

  /**
   * Takes this request's points. Sets RateLimit-Limit, -Remaining and -Reset (IETF draft
   * "RateLimit header fields") on a refusal, and on success when a user or key bucket has a tenth
   * or less of its points left (the quota a client plans with; the address bucket's would be
   * noise, and headers on every answer cost every request).
   * Returns the refusal (RESOURCE_EXHAUSTED with retryAfterSeconds: 429 and Retry-After), or
   * undefined when the request may go on.
   */
  async admit(address: string, caller: Identity, res: ServerResponse): Promise<DomainError | undefined> {
    let bucket = this.perAddress;
    try {
      if (bucket !== undefined) await bucket.limiter.consume(address);
      const key = caller.apiKey ?? caller.user;
      bucket = caller.apiKey !== undefined ? this.perApiKey : caller.user !== undefined ? this.perUser : undefined;
      if (bucket === undefined || key === undefined) return undefined;
      const taken = await bucket.limiter.consume(key);
      // Only a caller near its limit is told how near: headers on every answer cost every
      // request (the edge's and the client's parsing, and the bytes) and tell most callers nothing.
      if (taken.remainingPoints <= Math.max(1, bucket.points / 10))
        setRateLimitHeaders(res, bucket.points, taken.remainingPoints, secondsOf(taken.msBeforeNext));
      return undefined;
    } catch (err) {
      if (!(err instanceof RateLimiterRes) || bucket === undefined) {
        // Not a refusal: a limiter failed. Serving is better than refusing everyone.
        this.complain(err, "rate limits: a limiter failed; the request was served");
        return undefined;
      }
      const seconds = secondsOf(err.msBeforeNext);
      setRateLimitHeaders(res, bucket.points, 0, seconds);
      return tooManyAttempts(`too many requests ${bucket.whose}; retry in ${seconds} s`, seconds);
    }
  }

  /**
   * Resolves once the buckets are shared: at once in process, when Redis is connected otherwise.
   * Until then each edge counts on its own (the insurance limiter), so nothing waits for it at start.
   */
  async shared(): Promise<void> {
    const redis = this.redis;
    if (redis === undefined || redis.status === "ready") return;
    await new Promise((resolve) => redis.once("ready", resolve));
  }

  async close(): Promise<void> {
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }

  private complain(err: unknown, message: string) {
    const now = Date.now();
    if (now - this.lastComplaint < COMPLAINT_INTERVAL_MS) return;
    this.lastComplaint = now;
    this.log.warn({ err }, message);
  }
}

/** Whole seconds, rounded up and at least 1 (as tooManyAttempts has it): Retry-After and RateLimit-Reset take no fractions. */
const secondsOf = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

function setRateLimitHeaders(res: ServerResponse, limit: number, remaining: number, resetSeconds: number) {
  res.setHeader("ratelimit-limit", limit);
  res.setHeader("ratelimit-remaining", remaining);
  res.setHeader("ratelimit-reset", resetSeconds);
}

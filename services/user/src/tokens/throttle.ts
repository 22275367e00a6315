import { setTimeout as sleep } from "node:timers/promises";
import { tooManyAttempts } from "@inv/platform";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { ThrottleSettings } from "../config.js";

/** One counted dimension: an account or a client address. */
interface Counter {
  limiter: RateLimiterAbstract;
  delayAfter: number;
  lockoutAfter: number;
}

/**
 * Failed sign-in throttling (docs/decisions/0007-identity-and-access.md, "Rate limits"), per
 * account (the lower-cased name tried, known or not, so it tells nothing about which exist) and
 * per client address. Failures are counted over the lockout window; past `delayAfter` each
 * failure is answered late, and at `lockoutAfter` the key is refused for the whole lockout with
 * RESOURCE_EXHAUSTED and a google.rpc.RetryInfo. A success clears the account's count (not the address's: one good
 * password must not buy an address more guesses at other accounts).
 *
 * Counters live in Redis when the service has one, so every replica sees the same count;
 * otherwise in process. Should Redis fail, an in-process insurance limiter takes over.
 */
export class LoginThrottle {
  readonly #account: Counter;
  readonly #address: Counter;

  constructor(
    private readonly settings: ThrottleSettings,
    redis: unknown,
  ) {
    const limiter = (dimension: string, points: number): RateLimiterAbstract => {
      const opts = { keyPrefix: `${settings.keyPrefix}:${dimension}`, points, duration: settings.lockoutSeconds };
      const memory = new RateLimiterMemory(opts);
      return redis ? new RateLimiterRedis({ ...opts, storeClient: redis, insuranceLimiter: memory }) : memory;
    };
    this.#account = {
      limiter: limiter("account", settings.accountLockoutAfter),
      delayAfter: settings.accountDelayAfter,
      lockoutAfter: settings.accountLockoutAfter,
    };
    this.#address = {
      limiter: limiter("address", settings.addressLockoutAfter),
      delayAfter: settings.addressDelayAfter,
      lockoutAfter: settings.addressLockoutAfter,
    };
  }

  /** Refuses the attempt when the account or the address is locked out. */
  async check(account: string, address: string | undefined): Promise<void> {
    const waits = await Promise.all(this.#targets(account, address).map(([c, key]) => lockedFor(c, key)));
    const waitMs = Math.max(0, ...waits);
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw tooManyAttempts(`too many failed sign-in attempts; retry in ${seconds} seconds`, seconds, "LOGIN_THROTTLED");
    }
  }

  /** Counts a failure; resolves after the delay the failure earned. */
  async failed(account: string, address: string | undefined): Promise<void> {
    const delays = await Promise.all(this.#targets(account, address).map(([c, key]) => this.#count(c, key)));
    const delayMs = Math.max(0, ...delays);
    if (delayMs > 0) await sleep(delayMs);
  }

  async succeeded(account: string): Promise<void> {
    await this.#account.limiter.delete(account);
  }

  #targets(account: string, address: string | undefined): [Counter, string][] {
    return address
      ? [
          [this.#account, account],
          [this.#address, address],
        ]
      : [[this.#account, account]];
  }

  /** Counts one failure; returns how long to hold the answer. */
  async #count(c: Counter, key: string): Promise<number> {
    const res = await c.limiter.consume(key).catch((rejected: unknown) => {
      if (rejected instanceof RateLimiterRes) return rejected;
      throw rejected;
    });
    // The lockout runs from the failure that reached the limit, whatever is left of the window.
    if (res.consumedPoints === c.lockoutAfter) await c.limiter.block(key, this.settings.lockoutSeconds);
    const over = res.consumedPoints - c.delayAfter;
    return over > 0 ? Math.min(this.settings.delayMaxMs, over * this.settings.delayStepMs) : 0;
  }
}

/** How long the key is still locked out, in ms; 0 when it is not. */
async function lockedFor(c: Counter, key: string): Promise<number> {
  const res = await c.limiter.get(key);
  return res && res.consumedPoints >= c.lockoutAfter ? res.msBeforeNext : 0;
}

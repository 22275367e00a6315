import { ConfigError, loadConfig } from "@inv/platform";
import type { JWK } from "jose";

/**
 * Everything the user service can be told, as one object: read from the environment by
 * `settingsFromEnvironment`, or built by tests (see `testSettings` in the test support) with a
 * cheap password hash, short lockouts and a private throttle key prefix.
 */
export interface UserSettings {
  /** Lifetime of an access token. */
  accessTokenMinutes: number;
  /** Lifetime of a refresh token, and so of an idle session. */
  refreshTokenDays: number;
  /** Private JWKs from AUTH_SIGNING_KEYS; the first signs, all are published. Unset: keys kept in the database. */
  signingKeys: JWK[] | undefined;
  /** Age at which the stored signing key is replaced by a new one. */
  signingKeyRotationDays: number;
  /** How long a new key is published before it signs, so every verifier can have fetched it. */
  signingKeyPublishMinutes: number;
  /** How often key housekeeping runs (rotation, retiring old keys), in seconds. */
  housekeepingSeconds: number;
  passwordHash: PasswordCost;
  /** The first administrator, created at start when no user holds the admin role. */
  admin: { username?: string | undefined; password?: string | undefined; email?: string | undefined };
  throttle: ThrottleSettings;
}

/** argon2id cost; lowered in tests only. */
export interface PasswordCost {
  memoryKib: number;
  iterations: number;
}

/** Failed sign-in throttling, per account (lower-cased username) and per client address. */
export interface ThrottleSettings {
  /** Consecutive failures after which every further attempt is delayed. */
  accountDelayAfter: number;
  /** Consecutive failures after which attempts are refused for `lockoutSeconds`. */
  accountLockoutAfter: number;
  /** An address serves many people behind one NAT, so it gets more room than an account. */
  addressDelayAfter: number;
  addressLockoutAfter: number;
  lockoutSeconds: number;
  /** The delay grows by this much per failure past the threshold, up to delayMaxMs. */
  delayStepMs: number;
  delayMaxMs: number;
  /** Key prefix of the counters (in Redis when there is one). */
  keyPrefix: string;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  accountDelayAfter: 5,
  accountLockoutAfter: 10,
  addressDelayAfter: 10,
  addressLockoutAfter: 30,
  lockoutSeconds: 15 * 60,
  delayStepMs: 500,
  delayMaxMs: 3_000,
  keyPrefix: "user:login-failures",
};

interface UserEnvironment {
  ACCESS_TOKEN_MINUTES: number;
  REFRESH_TOKEN_DAYS: number;
  AUTH_SIGNING_KEYS?: string;
  SIGNING_KEY_ROTATION_DAYS: number;
  SIGNING_KEY_PUBLISH_MINUTES: number;
  PASSWORD_HASH_MEMORY_KIB: number;
  PASSWORD_HASH_ITERATIONS: number;
  ADMIN_USERNAME?: string;
  ADMIN_PASSWORD?: string;
  ADMIN_EMAIL?: string;
}

/** Reads the settings from environment variables (names and defaults as in the README's table). */
export function settingsFromEnvironment(env: NodeJS.ProcessEnv = process.env): UserSettings {
  const config = loadConfig<UserEnvironment>(
    {
      type: "object",
      properties: {
        ACCESS_TOKEN_MINUTES: { type: "integer", minimum: 1, maximum: 60, default: 15 },
        REFRESH_TOKEN_DAYS: { type: "integer", minimum: 1, maximum: 90, default: 7 },
        AUTH_SIGNING_KEYS: { type: "string", nullable: true },
        SIGNING_KEY_ROTATION_DAYS: { type: "integer", minimum: 1, maximum: 3650, default: 30 },
        SIGNING_KEY_PUBLISH_MINUTES: { type: "integer", minimum: 0, maximum: 1440, default: 10 },
        PASSWORD_HASH_MEMORY_KIB: { type: "integer", minimum: 64, maximum: 4_194_304, default: 19_456 },
        PASSWORD_HASH_ITERATIONS: { type: "integer", minimum: 1, maximum: 100, default: 2 },
        ADMIN_USERNAME: { type: "string", nullable: true },
        ADMIN_PASSWORD: { type: "string", nullable: true },
        ADMIN_EMAIL: { type: "string", nullable: true },
      },
      required: [
        "ACCESS_TOKEN_MINUTES",
        "REFRESH_TOKEN_DAYS",
        "SIGNING_KEY_ROTATION_DAYS",
        "SIGNING_KEY_PUBLISH_MINUTES",
        "PASSWORD_HASH_MEMORY_KIB",
        "PASSWORD_HASH_ITERATIONS",
      ],
      additionalProperties: false,
    },
    env,
  );
  return {
    accessTokenMinutes: config.ACCESS_TOKEN_MINUTES,
    refreshTokenDays: config.REFRESH_TOKEN_DAYS,
    signingKeys: config.AUTH_SIGNING_KEYS === undefined ? undefined : parseSigningKeys(config.AUTH_SIGNING_KEYS),
    signingKeyRotationDays: config.SIGNING_KEY_ROTATION_DAYS,
    signingKeyPublishMinutes: config.SIGNING_KEY_PUBLISH_MINUTES,
    housekeepingSeconds: 60,
    passwordHash: { memoryKib: config.PASSWORD_HASH_MEMORY_KIB, iterations: config.PASSWORD_HASH_ITERATIONS },
    admin: { username: config.ADMIN_USERNAME, password: config.ADMIN_PASSWORD, email: config.ADMIN_EMAIL },
    throttle: DEFAULT_THROTTLE,
  };
}

/** AUTH_SIGNING_KEYS: a JSON array of private Ed25519 JWKs ({ kty: "OKP", crv: "Ed25519", d, x, kid? }). */
export function parseSigningKeys(json: string): JWK[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new ConfigError("AUTH_SIGNING_KEYS must be a JSON array of private JWKs");
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new ConfigError("AUTH_SIGNING_KEYS must be a non-empty JSON array of private JWKs");
  return parsed.map((jwk: unknown, i) => {
    const k = jwk as JWK;
    if (typeof k !== "object" || k === null || k.kty !== "OKP" || k.crv !== "Ed25519" || typeof k.d !== "string" || typeof k.x !== "string") {
      throw new ConfigError(`AUTH_SIGNING_KEYS[${i}] must be a private Ed25519 JWK (kty "OKP", crv "Ed25519", with d and x)`);
    }
    return k;
  });
}

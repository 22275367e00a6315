import { createHash, randomBytes, randomInt } from "node:crypto";

/**
 * The opaque secrets the user service hands out (docs/decisions/0007-identity-and-access.md).
 * Both carry 256 random bits, so they are stored as a plain SHA-256: a slow hash protects
 * guessable secrets, and these are not guessable.
 */

/** The SHA-256 of a secret, as stored and looked up. */
export const sha256 = (secret: string) => createHash("sha256").update(secret).digest("base64url");

const randomPart = () => randomBytes(32).toString("base64url");

/** A refresh token: `imr_<session id>_<32 random bytes, base64url>`. */
export const newRefreshToken = (sessionId: string) => `imr_${sessionId}_${randomPart()}`;

const REFRESH_TOKEN = /^imr_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;

/** The session a refresh token claims to belong to, or undefined when it is not shaped like one. */
export function sessionOfRefreshToken(token: string): string | undefined {
  return REFRESH_TOKEN.exec(token)?.[1];
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** An API key: `imk_<8 base62>_<32 random bytes, base64url>`; the first part is its listed prefix. */
export function newApiKeySecret(): { secret: string; prefix: string } {
  let id = "";
  for (let i = 0; i < 8; i++) id += BASE62[randomInt(BASE62.length)];
  const prefix = `imk_${id}`;
  return { prefix, secret: `${prefix}_${randomPart()}` };
}

/** Whether a credential is shaped like an API key secret (else it may be an access token). */
export const looksLikeApiKey = (credential: string) => credential.startsWith("imk_");

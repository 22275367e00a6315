import { randomUUID } from "node:crypto";
import { SignJWT, jwtVerify } from "jose";
import { ALG, type KeyRing } from "./keys.js";

/** Issuer and audience of every access token. */
export const TOKEN_ISSUER = "inventory-platform";
export const TOKEN_AUDIENCE = "inventory-platform";
/** As the platform's verifier allows: a few seconds of clock difference between processes. */
const CLOCK_TOLERANCE_SECONDS = 5;

export interface AccessClaims {
  /** The user id. */
  sub: string;
  /** The session id. */
  sid: string;
  /** The token id. */
  jti: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

/** Signs an access token for a session with the current signing key. */
export async function signAccessToken(
  keys: KeyRing,
  subject: { userId: string; sessionId: string },
  ttlMinutes: number,
  now = Date.now(),
): Promise<{ token: string; expiresAt: Date }> {
  const { kid, key } = await keys.signingKey();
  const iat = Math.floor(now / 1000);
  const exp = iat + ttlMinutes * 60;
  const token = await new SignJWT({ sid: subject.sessionId })
    .setProtectedHeader({ alg: ALG, kid, typ: "JWT" })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(subject.userId)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp)
    .sign(key);
  return { token, expiresAt: new Date(exp * 1000) };
}

/**
 * The claims of a valid access token, or undefined. Valid means: EdDSA only (`none`, HS256 and
 * every other algorithm are refused before any key is looked at), a `kid` naming a published
 * key, a good signature, our issuer and audience, inside nbf..exp, and every claim present.
 */
export async function verifyAccessToken(keys: KeyRing, token: string, now = Date.now()): Promise<AccessClaims | undefined> {
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        if (header.alg !== ALG || !header.kid) throw new Error("refused header");
        const key = await keys.verificationKey(header.kid);
        if (!key) throw new Error("unknown kid");
        return key;
      },
      {
        algorithms: [ALG],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        requiredClaims: ["sub", "sid", "jti", "iat", "nbf", "exp"],
        currentDate: new Date(now),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      },
    );
    const { sub, sid, jti, exp } = payload as Partial<AccessClaims>;
    if (typeof sub !== "string" || typeof sid !== "string" || typeof jti !== "string" || typeof exp !== "number") return undefined;
    return { sub, sid, jti, exp };
  } catch {
    return undefined;
  }
}

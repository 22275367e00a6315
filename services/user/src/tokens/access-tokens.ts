import { randomUUID } from "node:crypto";
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from "@inv/platform";
import { SignJWT } from "jose";
import { ALG, type KeyRing } from "./keys.js";

// Tokens are verified by the platform's AccessTokenVerifier, here as in every other process.

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
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setSubject(subject.userId)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp)
    .sign(key);
  return { token, expiresAt: new Date(exp * 1000) };
}

import { randomUUID } from "node:crypto";
import { SignJWT, exportJWK, generateKeyPair, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, AccessTokenVerifier } from "./tokens.js";

async function signer() {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
  const sign = () =>
    new SignJWT({ sid: "s1" })
      .setProtectedHeader({ alg: "EdDSA", kid })
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject("u1")
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
  return { jwk, sign };
}

describe("the access token verifier", () => {
  it("picks up a key rotated in on first sight of its kid, and asks for the keys no more than it must", async () => {
    const [a, b] = await Promise.all([signer(), signer()]);
    let published = [a.jwk];
    let fetches = 0;
    const jwks = async () => {
      fetches++;
      return { keys: published };
    };
    const verifier = new AccessTokenVerifier({ jwks, refetchAfterMs: 0 });
    expect(await verifier.verify(await a.sign())).toMatchObject({ sub: "u1", sid: "s1" });
    published = [a.jwk, b.jwk];
    const fromB = await b.sign();
    expect(await verifier.verify(fromB)).toMatchObject({ sub: "u1" });
    expect(fetches).toBe(2);
    expect(await verifier.verify(fromB)).toBeDefined(); // remembered: no signature check, no fetch
    expect(verifier.known(fromB)).toMatchObject({ sub: "u1" });
    expect(fetches).toBe(2);
  });

  it("refetches the keys for unknown kids at most once per interval", async () => {
    const [a, stranger] = await Promise.all([signer(), signer()]);
    let fetches = 0;
    const jwks = async () => {
      fetches++;
      return { keys: [a.jwk] };
    };
    const verifier = new AccessTokenVerifier({ jwks, refetchAfterMs: 60_000 });
    await verifier.verify(await a.sign());
    for (let i = 0; i < 5; i++) expect(await verifier.verify(await stranger.sign())).toBeUndefined();
    expect(fetches).toBe(1);
  });

  it("does not hammer an unreachable user service: one attempt per interval, then refusals", async () => {
    const a = await signer();
    let fetches = 0;
    const verifier = new AccessTokenVerifier({
      jwks: async () => {
        fetches++;
        throw new Error("unavailable");
      },
      refetchAfterMs: 60_000,
    });
    const token = await a.sign();
    for (let i = 0; i < 5; i++) await expect(verifier.verify(token)).rejects.toThrow();
    expect(fetches).toBe(1);
  });
});

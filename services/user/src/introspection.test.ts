/**
 * What introspection refuses. The service signs with a key given in its settings (as
 * AUTH_SIGNING_KEYS would), so the test can forge tokens with it: the signature must not be the
 * only thing that holds.
 */
import { randomUUID } from "node:crypto";
import { PrincipalKind } from "@inv/gen/user/v1/audit_pb";
import { TokenService } from "@inv/gen/user/v1/token_pb";
import { UserService } from "@inv/gen/user/v1/user_pb";
import { SignJWT, decodeJwt, exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, failure, startUserService, testSettings, uniqueName, type UserTestService } from "./testing/support.js";

let t: UserTestService;
let signingKey: CryptoKey;
let privateJwk: JWK;
const KID = "test-key-1";
const PASSWORD = "Tr0ub4dor&3-horse";

beforeAll(async () => {
  const pair = await generateKeyPair("EdDSA", { extractable: true });
  signingKey = pair.privateKey;
  privateJwk = { ...(await exportJWK(pair.privateKey)), kid: KID };
  t = await startUserService(testSettings({ signingKeys: [privateJwk] }));
});
afterAll(() => t?.stop());

const introspect = (token: string) => t.asService(TokenService).introspectToken({ token });
const anonymous = () => t.clientWith(UserService, {});

async function signedIn(roles: string[] = ["viewer"]) {
  const username = uniqueName();
  const { user } = await t.admin.createUser({ user: { username, email: `${username}@example.com`, roles }, password: PASSWORD });
  const session = await t.login(username, PASSWORD);
  return { user: user!, ...session, claims: decodeJwt(session.accessToken) };
}

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A token like the service's, with some part changed. */
async function forge(
  claims: Record<string, unknown>,
  opts: { kid?: string | undefined; key?: CryptoKey; times?: { iat: number; nbf: number; exp: number } } = {},
) {
  const times = opts.times ?? { iat: now(), nbf: now(), exp: now() + 900 };
  const header = { alg: "EdDSA", ...("kid" in opts ? (opts.kid === undefined ? {} : { kid: opts.kid }) : { kid: KID }) };
  return new SignJWT({ iss: "inventory-platform", aud: "inventory-platform", jti: randomUUID(), ...times, ...claims })
    .setProtectedHeader(header)
    .sign(opts.key ?? signingKey);
}

describe("access tokens refused by introspection", () => {
  it("accepts the genuine token: active, with the principal, token id, expiry and a cache time of at most 30 s", async () => {
    const s = await signedIn(["clerk"]);
    const answer = await introspect(s.accessToken);
    expect(answer).toMatchObject({ active: true, tokenId: s.claims.jti, cacheSeconds: 30, expireTime: s.accessTokenExpireTime });
    expect(answer.principal).toMatchObject({
      kind: PrincipalKind.USER,
      subject: s.user.id,
      username: s.user.username,
      sessionId: s.claims["sid"],
      roles: ["clerk"],
    });
    expect(answer.principal!.permissions).toEqual(s.user.permissions);
    // A token forged with the right key and a live session is accepted too: the key is the secret.
    expect((await introspect(await forge({ sub: s.user.id, sid: s.claims["sid"] }))).active).toBe(true);
  });

  it("refuses forgeries and invalid tokens, and none of them changes anything", async () => {
    const s = await signedIn();
    const claims = { sub: s.user.id, sid: s.claims["sid"] };
    const [header, payload, signature] = s.accessToken.split(".");
    const other = await generateKeyPair("EdDSA", { extractable: true });
    const publicJwk = { kty: privateJwk.kty, crv: privateJwk.crv, x: privateJwk.x };
    const hs256 = async (secret: Uint8Array) =>
      new SignJWT({ ...claims, iss: "inventory-platform", aud: "inventory-platform", jti: randomUUID() })
        .setProtectedHeader({ alg: "HS256", kid: KID })
        .setIssuedAt()
        .setNotBefore(now())
        .setExpirationTime(now() + 900)
        .sign(secret);
    const flip = (text: string) => `${text.slice(0, -2)}${text.at(-2) === "A" ? "B" : "A"}${text.at(-1)}`;
    const refused: Record<string, string> = {
      "tampered signature": `${header}.${payload}.${flip(signature!)}`,
      "tampered payload": `${header}.${b64({ ...decodeJwt(s.accessToken), sub: randomUUID() })}.${signature}`,
      "unknown kid": await forge(claims, { kid: "someone-elses", key: other.privateKey }),
      "no kid": await forge(claims, { kid: undefined }),
      "right kid, wrong key": await forge(claims, { key: other.privateKey }),
      "alg none": `${b64({ alg: "none", kid: KID })}.${payload}.`,
      "HS256 with the public JWK as secret": await hs256(new TextEncoder().encode(JSON.stringify(publicJwk))),
      "HS256 with the public key bytes as secret": await hs256(Buffer.from(privateJwk.x!, "base64url")),
      expired: await forge(claims, { times: { iat: now() - 1000, nbf: now() - 1000, exp: now() - 60 } }),
      "not yet valid": await forge(claims, { times: { iat: now(), nbf: now() + 120, exp: now() + 900 } }),
      "wrong issuer": await forge({ ...claims, iss: "someone-else" }),
      "wrong audience": await forge({ ...claims, aud: "another-platform" }),
      "unknown session": await forge({ ...claims, sid: randomUUID() }),
      "session of another user": await forge({ ...claims, sub: randomUUID() }),
      "no session claim": await forge({ sub: s.user.id }),
      "not a JWT": "not-a-token",
    };
    for (const [what, token] of Object.entries(refused)) {
      expect((await introspect(token)).active, what).toBe(false);
      expect(await failure(t.as(UserService, token).getMe({})), what).toMatchObject({ code: "UNAUTHENTICATED" });
    }
    // Nothing changed: the genuine token still works, and its session is the user's only one.
    expect((await t.as(UserService, s.accessToken).getMe({})).user!.id).toBe(s.user.id);
    expect((await t.as(UserService, s.accessToken).logout({ allSessions: true })).endedSessionCount).toBe(1);
  });

  it("refuses the token of a session that logged out, of a deactivated user, and of a session ended by refresh-token reuse", async () => {
    const out = await signedIn();
    await t.as(UserService, out.accessToken).logout({});
    expect((await introspect(out.accessToken)).active).toBe(false);

    const deactivated = await signedIn();
    await t.admin.updateUser({ user: { id: deactivated.user.id, active: false }, updateMask: { paths: ["active"] } });
    expect((await introspect(deactivated.accessToken)).active).toBe(false);

    const stolen = await signedIn();
    const rotated = await anonymous().refresh({ refreshToken: stolen.refreshToken });
    await failure(anonymous().refresh({ refreshToken: stolen.refreshToken }));
    expect((await introspect(stolen.accessToken)).active).toBe(false);
    expect((await introspect(rotated.accessToken)).active).toBe(false);
  });

  it("reads permissions now, not from the token: a role taken away and deleted leaves the token with none", async () => {
    const role = `temp-${process.pid}`;
    await t.admin.createRole({ role: { name: role, permissions: ["stock.read", "item.read"] } });
    const s = await signedIn([role]);
    expect((await introspect(s.accessToken)).principal!.permissions).toEqual(["item.read", "stock.read"]);
    await t.admin.assignRoles({ id: s.user.id, roles: [] });
    await t.admin.deleteRole({ name: role });
    const answer = await introspect(s.accessToken);
    expect(answer.active).toBe(true);
    expect(answer.principal).toMatchObject({ roles: [], permissions: [] });
  });
});

describe("API keys refused by introspection", () => {
  it("refuses revoked keys, keys of a deactivated or deleted owner, and made-up keys", async () => {
    const owner = await signedIn(["manager"]);
    const mine = t.as(UserService, owner.accessToken);
    const revoked = await mine.createApiKey({ apiKey: { name: "r", role: "viewer" } });
    const kept = await mine.createApiKey({ apiKey: { name: "k", role: "viewer" } });
    expect(await introspect(kept.secret)).toMatchObject({ active: true, tokenId: "", cacheSeconds: 30 });
    expect((await introspect(kept.secret)).principal).toMatchObject({
      kind: PrincipalKind.API_KEY,
      apiKeyId: kept.apiKey!.id,
      subject: owner.user.id,
      roles: ["viewer"],
    });

    await mine.revokeApiKey({ id: revoked.apiKey!.id });
    expect((await introspect(revoked.secret)).active).toBe(false);

    await t.admin.updateUser({ user: { id: owner.user.id, active: false }, updateMask: { paths: ["active"] } });
    expect((await introspect(kept.secret)).active).toBe(false);
    await t.admin.updateUser({ user: { id: owner.user.id, active: true }, updateMask: { paths: ["active"] } });
    expect((await introspect(kept.secret)).active).toBe(true); // deactivation suspends a key; it does not revoke it
    await t.admin.deleteUser({ id: owner.user.id });
    expect((await introspect(kept.secret)).active).toBe(false);

    expect((await introspect(`${kept.secret.slice(0, -3)}abc`)).active).toBe(false);
    expect((await introspect("imk_AAAAAAAA_notakey")).active).toBe(false);
    await eventually(async () => expect(await failure(t.as(UserService, kept.secret).getMe({}))).toMatchObject({ code: "UNAUTHENTICATED" }));
  });

  it("only platform services may introspect", async () => {
    const s = await signedIn();
    expect(await failure(t.as(TokenService, t.adminToken).introspectToken({ token: s.accessToken }))).toMatchObject({ code: "PERMISSION_DENIED" });
    expect(await failure(t.asService(TokenService).introspectToken({ token: "" }))).toMatchObject({ code: "INVALID_ARGUMENT", fields: ["token"] });
  });
});

describe("configured signing keys", () => {
  it("sign with the first configured key and publish it", async () => {
    const s = await signedIn();
    const { keys } = await anonymous().getJwks({});
    expect(keys.map((k) => k.kid)).toEqual([KID]);
    expect(keys[0]!.x).toBe(privateJwk.x);
    expect(JSON.stringify(keys)).not.toContain(privateJwk.d!);
    expect(s.accessToken.split(".")[0]).toBe(b64({ alg: "EdDSA", kid: KID, typ: "JWT" }));
  });
});

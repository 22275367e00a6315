/**
 * Sign-in and credentials over gRPC: Login, Refresh (rotation and reuse), Logout, GetMe, GetJwks,
 * API keys, and the audit trail of it all.
 */
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditOutcome, AuditRecordService, PrincipalKind } from "@inv/gen/user/v1/audit_pb";
import { TokenService } from "@inv/gen/user/v1/token_pb";
import { toJsonString } from "@bufbuild/protobuf";
import { ApiKeySchema, ApiKeyState, UserService } from "@inv/gen/user/v1/user_pb";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, failure, startUserService, uniqueName, type UserTestService } from "./testing/support.js";

let t: UserTestService;
const PASSWORD = "Tr0ub4dor&3-horse";

beforeAll(async () => {
  t = await startUserService();
});
afterAll(() => t?.stop());

const newUser = async (roles: string[] = ["viewer"]) => {
  const username = uniqueName();
  return (await t.admin.createUser({ user: { username, email: `${username}@example.com`, roles }, password: PASSWORD })).user!;
};
const introspect = (token: string) => t.asService(TokenService).introspectToken({ token });
const anonymous = () => t.clientWith(UserService, {});

describe("Login", () => {
  it("signs in by username or email in any case, with an EdDSA access token naming a published key and a refresh token", async () => {
    const u = await newUser();
    const before = Date.now();
    const byName = await t.login(u.username.toUpperCase(), PASSWORD);
    const byEmail = await t.login(u.email.toUpperCase(), PASSWORD);
    expect(byName.tokenType).toBe("Bearer");
    expect(byName.user).toMatchObject({ id: u.id, roles: ["viewer"] });
    expect(byName.user!.lastLoginTime).toBeDefined();
    expect(byName.refreshToken).toMatch(/^imr_[0-9a-f-]{36}_[A-Za-z0-9_-]{43}$/);
    expect(byName.refreshToken).not.toBe(byEmail.refreshToken);

    const header = decodeProtectedHeader(byName.accessToken);
    const claims = decodeJwt(byName.accessToken);
    expect(header.alg).toBe("EdDSA");
    expect((await anonymous().getJwks({})).keys.map((k) => k.kid)).toContain(header.kid);
    expect(claims).toMatchObject({ iss: "inventory-platform", aud: "inventory-platform", sub: u.id });
    expect(byName.refreshToken).toContain(claims["sid"] as string);
    expect(claims.exp! - claims.iat!).toBe(15 * 60);
    expect(claims.nbf).toBe(claims.iat);
    expect(typeof claims.jti).toBe("string");
    expect(timestampDate(byName.accessTokenExpireTime!).getTime()).toBe(claims.exp! * 1000);
    const refreshExpiry = timestampDate(byName.refreshTokenExpireTime!).getTime();
    expect(refreshExpiry - before).toBeGreaterThanOrEqual(7 * 86_400_000 - 1000);
  });

  it("unknown user, wrong password, inactive and deleted users all fail with the same UNAUTHENTICATED error", async () => {
    const inactive = await newUser();
    await t.admin.updateUser({ user: { id: inactive.id, active: false }, updateMask: { paths: ["active"] } });
    const deleted = await newUser();
    await t.admin.deleteUser({ id: deleted.id });
    const right = await newUser();
    const failures = await Promise.all([
      failure(t.login("nobody-at-all", PASSWORD)),
      failure(t.login(right.username, "Wrong-Password-99")),
      failure(t.login(right.email, "Wrong-Password-99")),
      failure(t.login(inactive.username, PASSWORD)),
      failure(t.login(deleted.username, PASSWORD)),
    ]);
    for (const f of failures) expect(f).toEqual(failures[0]);
    expect(failures[0]).toMatchObject({ code: "UNAUTHENTICATED", reason: "BAD_CREDENTIALS", fields: [] });
    expect(await failure(t.login("", ""))).toMatchObject({ code: "INVALID_ARGUMENT", fields: ["password", "username"] });
  });
});

describe("Refresh", () => {
  it("rotates: the new pair works, the old refresh token does not", async () => {
    const u = await newUser();
    const first = await t.login(u.username, PASSWORD);
    const second = await anonymous().refresh({ refreshToken: first.refreshToken });
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.user!.id).toBe(u.id);
    expect(decodeJwt(second.accessToken)["sid"]).toBe(decodeJwt(first.accessToken)["sid"]);
    expect((await introspect(second.accessToken)).active).toBe(true);
    const third = await anonymous().refresh({ refreshToken: second.refreshToken });
    expect((await introspect(third.accessToken)).active).toBe(true);
  });

  it("presenting a rotated refresh token ends the whole session: every token of it stops working", async () => {
    const u = await newUser();
    const first = await t.login(u.username, PASSWORD);
    const second = await anonymous().refresh({ refreshToken: first.refreshToken });
    const other = await t.login(u.username, PASSWORD);
    expect(await failure(anonymous().refresh({ refreshToken: first.refreshToken }))).toMatchObject({ code: "UNAUTHENTICATED", reason: "REFRESH_TOKEN_REUSED" });
    expect(await failure(anonymous().refresh({ refreshToken: second.refreshToken }))).toMatchObject({ code: "UNAUTHENTICATED" });
    expect((await introspect(second.accessToken)).active).toBe(false);
    expect((await introspect(first.accessToken)).active).toBe(false);
    // Another session of the same user is not touched.
    expect((await introspect(other.accessToken)).active).toBe(true);
  });

  it("malformed, unknown and empty refresh tokens are refused", async () => {
    const u = await newUser();
    const { refreshToken } = await t.login(u.username, PASSWORD);
    const forged = `${refreshToken.slice(0, -4)}AAAA`;
    expect(await failure(anonymous().refresh({ refreshToken: forged }))).toMatchObject({ code: "UNAUTHENTICATED", reason: "INVALID_REFRESH_TOKEN" });
    expect(await failure(anonymous().refresh({ refreshToken: "imr_nonsense" }))).toMatchObject({ code: "UNAUTHENTICATED" });
    expect(await failure(anonymous().refresh({ refreshToken: "" }))).toMatchObject({ code: "INVALID_ARGUMENT", fields: ["refresh_token"] });
    // The forgery changed nothing: the real token still rotates.
    await anonymous().refresh({ refreshToken });
  });
});

describe("Logout and GetMe", () => {
  it("GetMe returns the user, the principal with current permissions, and the credential's expiry", async () => {
    const u = await newUser(["clerk"]);
    const { accessToken, accessTokenExpireTime } = await t.login(u.username, PASSWORD);
    const me = await t.as(UserService, accessToken).getMe({});
    expect(me.user!.id).toBe(u.id);
    expect(me.principal).toMatchObject({
      kind: PrincipalKind.USER,
      subject: u.id,
      username: u.username,
      roles: ["clerk"],
      sessionId: decodeJwt(accessToken)["sid"],
    });
    expect(me.principal!.permissions).toEqual(u.permissions.length ? me.user!.permissions : []);
    expect(me.credentialExpireTime).toEqual(accessTokenExpireTime);
  });

  it("Logout ends the caller's session at once; all_sessions ends every session of the user", async () => {
    const u = await newUser();
    const a = await t.login(u.username, PASSWORD);
    const b = await t.login(u.username, PASSWORD);
    const c = await t.login(u.username, PASSWORD);
    expect((await t.as(UserService, a.accessToken).logout({})).endedSessionCount).toBe(1);
    await eventually(async () => expect(await failure(t.as(UserService, a.accessToken).getMe({}))).toMatchObject({ code: "UNAUTHENTICATED" }));
    expect(await failure(anonymous().refresh({ refreshToken: a.refreshToken }))).toMatchObject({ code: "UNAUTHENTICATED" });
    expect((await introspect(b.accessToken)).active).toBe(true);
    expect((await t.as(UserService, b.accessToken).logout({ allSessions: true })).endedSessionCount).toBe(2);
    expect((await introspect(c.accessToken)).active).toBe(false);
  });

  it("Logout with an API key is FAILED_PRECONDITION; without credentials UNAUTHENTICATED", async () => {
    const { secret } = await t.admin.createApiKey({ apiKey: { name: "no-session", role: "viewer" } });
    expect(await failure(t.as(UserService, secret).logout({}))).toMatchObject({ code: "FAILED_PRECONDITION" });
    expect(await failure(anonymous().logout({}))).toMatchObject({ code: "UNAUTHENTICATED" });
  });

  it("GetJwks publishes Ed25519 public keys only", async () => {
    const { keys } = await anonymous().getJwks({});
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      expect(k).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
      // Members an Ed25519 key does not have are absent, not empty: a standard JWKS document.
      expect([k.y, k.n, k.e]).toEqual([undefined, undefined, undefined]);
      expect(k.x).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
  });
});

describe("API keys", () => {
  it("creates a key whose secret is shown once, acts with its role on behalf of its owner, and lists by prefix only", async () => {
    const owner = await newUser(["manager"]);
    const { accessToken } = await t.login(owner.username, PASSWORD);
    const mine = t.as(UserService, accessToken);
    const { apiKey, secret } = await mine.createApiKey({ apiKey: { name: "ERP sync", role: "clerk" } });
    expect(secret).toMatch(/^imk_[0-9A-Za-z]{8}_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({ name: "ERP sync", role: "clerk", ownerUserId: owner.id, state: ApiKeyState.ACTIVE, prefix: secret.slice(0, 12) });
    expect(apiKey!.lastUseTime).toBeUndefined();

    for (const client of [t.as(UserService, secret), t.clientWith(UserService, { "x-api-key": secret })]) {
      const me = await client.getMe({});
      expect(me.user!.id).toBe(owner.id);
      expect(me.principal).toMatchObject({ kind: PrincipalKind.API_KEY, subject: owner.id, apiKeyId: apiKey!.id, roles: ["clerk"] });
      expect(me.credentialExpireTime).toBeUndefined();
    }
    const fetched = (await mine.getApiKey({ id: apiKey!.id })).apiKey!;
    expect(fetched.lastUseTime).toBeDefined();
    expect(toJsonString(ApiKeySchema, fetched)).not.toContain(secret.slice(13));
    const listed = (await mine.listApiKeys({ ownerUserId: owner.id })).apiKeys;
    expect(listed.map((k) => k.id)).toEqual([apiKey!.id]);
    expect((await mine.listApiKeys({ ownerUserId: owner.id, role: "viewer" })).apiKeys).toEqual([]);
  });

  it("a key may not grant more than its creator holds: PERMISSION_DENIED", async () => {
    const manager = await newUser(["manager"]);
    const { accessToken } = await t.login(manager.username, PASSWORD);
    expect(await failure(t.as(UserService, accessToken).createApiKey({ apiKey: { name: "too much", role: "admin" } }))).toMatchObject({
      code: "PERMISSION_DENIED",
      reason: "ROLE_EXCEEDS_CALLER",
    });
    // The service role is the platform's own: no key may act with it, whoever asks.
    expect(await failure(t.admin.createApiKey({ apiKey: { name: "svc", role: "service" } }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      fields: ["api_key.role"],
    });
    expect((await t.admin.listApiKeys({ ownerUserId: manager.id, showInactive: true })).apiKeys).toEqual([]);
  });

  it("checks name, role and expiry all at once; an unknown role is FAILED_PRECONDITION", async () => {
    const past = timestampFromDate(new Date(Date.now() - 60_000));
    expect(await failure(t.admin.createApiKey({ apiKey: { name: "", role: "No Role", expireTime: past } }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      fields: ["api_key.expire_time", "api_key.name", "api_key.role"],
    });
    expect(await failure(t.admin.createApiKey({ apiKey: { name: "k", role: "ghost-role" } }))).toMatchObject({ code: "FAILED_PRECONDITION" });
    expect(await failure(t.admin.getApiKey({ id: "00000000-0000-7000-8000-000000000000" }))).toMatchObject({ code: "NOT_FOUND" });
  });

  it("revoking is immediate and idempotent; revoked and expired keys are listed only with show_inactive", async () => {
    const owner = (await t.admin.getMe({})).user!;
    const { apiKey, secret } = await t.admin.createApiKey({ apiKey: { name: "to revoke", role: "viewer" } });
    await t.as(UserService, secret).getMe({});
    const revoked = (await t.admin.revokeApiKey({ id: apiKey!.id })).apiKey!;
    expect(revoked).toMatchObject({ state: ApiKeyState.REVOKED, revokedBy: owner.id });
    expect(revoked.revokeTime).toBeDefined();
    expect((await t.admin.revokeApiKey({ id: apiKey!.id })).apiKey).toEqual(revoked);
    await eventually(async () => expect(await failure(t.as(UserService, secret).getMe({}))).toMatchObject({ code: "UNAUTHENTICATED" }));

    const soon = timestampFromDate(new Date(Date.now() + 1_200));
    const { apiKey: expiring, secret: expiringSecret } = await t.admin.createApiKey({ apiKey: { name: "short-lived", role: "viewer", expireTime: soon } });
    expect((await t.as(UserService, expiringSecret).getMe({})).credentialExpireTime).toEqual(soon);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await t.admin.getApiKey({ id: expiring!.id })).apiKey!.state).toBe(ApiKeyState.EXPIRED);
    expect((await introspect(expiringSecret)).active).toBe(false);
    const active = (await t.admin.listApiKeys({ ownerUserId: owner.id })).apiKeys.map((k) => k.id);
    const all = (await t.admin.listApiKeys({ ownerUserId: owner.id, showInactive: true })).apiKeys.map((k) => k.id);
    expect(active).not.toContain(apiKey!.id);
    expect(active).not.toContain(expiring!.id);
    expect(all).toEqual(expect.arrayContaining([apiKey!.id, expiring!.id]));
  });
});

describe("audit", () => {
  it("every change of the user service is recorded in its transaction, sign-ins included; never a password", async () => {
    const u = await newUser();
    await t.login(u.username, PASSWORD);
    await failure(t.login(u.username, "Wrong-Password-99"));
    const admin = (await t.admin.getMe({})).user!;
    const created = (await t.admin.listAuditEvents({ resourceId: u.id, method: "/user.v1.UserService/CreateUser" })).auditEvents;
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      service: "user",
      actorKind: PrincipalKind.USER,
      actorId: admin.id,
      actorName: "root",
      permission: "user.admin",
      resourceType: "User",
      outcome: AuditOutcome.SUCCESS,
      statusCode: "OK",
    });
    const logins = (await t.admin.listAuditEvents({ method: "/user.v1.UserService/Login", oldestFirst: true })).auditEvents;
    const mine = logins.filter((e) => e.details?.["userId"] === u.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.resourceType).toBe("Session");
    const denied = (await t.admin.listAuditEvents({ method: "/user.v1.UserService/Login", outcomes: [AuditOutcome.DENIED] })).auditEvents;
    expect(denied.length).toBeGreaterThan(0);
    expect(denied[0]!.statusCode).toBe("UNAUTHENTICATED");
    // A failed sign-in names the account that was tried, never the password.
    expect(denied.some((e) => e.details?.["login"] === u.username && e.resourceType === "User")).toBe(true);
    const everything = JSON.stringify((await t.admin.listAuditEvents({ pageSize: 1000 })).auditEvents.map((e) => [e.details, e.errorMessage]));
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain("Wrong-Password-99");
  });

  it("RecordAuditEvents stores each event id once and counts only new ones; only platform services may call it", async () => {
    const recorder = t.asService(AuditRecordService);
    const at = (ms: number) => timestampFromDate(new Date(Date.UTC(2030, 0, 1) + ms));
    const requestId = uniqueName("req");
    const events = [0, 1, 2].map((i) => ({
      id: crypto.randomUUID(),
      occurTime: at(i * 1000),
      requestId,
      actorKind: PrincipalKind.SERVICE,
      actorId: "service:inventory",
      service: "inventory",
      method: "/inventory.v1.StockService/AdjustStock",
      permission: "stock.write",
      resourceType: "StockLevel",
      resourceId: `sl-${i}`,
      outcome: i === 2 ? AuditOutcome.FAILURE : AuditOutcome.SUCCESS,
      statusCode: i === 2 ? "ABORTED" : "OK",
      details: { delta: i - 3, sku: "SKU-1" },
    }));
    expect((await recorder.recordAuditEvents({ auditEvents: events })).recordedCount).toBe(3);
    expect((await recorder.recordAuditEvents({ auditEvents: events })).recordedCount).toBe(0);
    // Without an id, (request id, method, time) identifies the record.
    const anonymousEvent = { ...events[0]!, id: "", occurTime: at(5000), resourceId: "sl-x" };
    expect((await recorder.recordAuditEvents({ auditEvents: [anonymousEvent, anonymousEvent] })).recordedCount).toBe(1);

    const page = async (req: Parameters<typeof t.admin.listAuditEvents>[0]) =>
      (await t.admin.listAuditEvents({ requestId, ...req })).auditEvents.map((e) => e.resourceId);
    expect(await page({})).toEqual(["sl-x", "sl-2", "sl-1", "sl-0"]);
    expect(await page({ oldestFirst: true })).toEqual(["sl-0", "sl-1", "sl-2", "sl-x"]);
    expect(await page({ outcomes: [AuditOutcome.FAILURE] })).toEqual(["sl-2"]);
    expect(await page({ resourceType: "StockLevel", resourceId: "sl-1" })).toEqual(["sl-1"]);
    expect(await page({ startTime: at(1000), endTime: at(5000) })).toEqual(["sl-2", "sl-1"]);
    expect(await page({ actorId: "service:inventory", service: "inventory", method: "/inventory.v1.StockService/AdjustStock" })).toHaveLength(4);
    const first = await t.admin.listAuditEvents({ requestId, pageSize: 3 });
    const rest = await t.admin.listAuditEvents({ requestId, pageSize: 3, pageToken: first.nextPageToken });
    expect([...first.auditEvents, ...rest.auditEvents].map((e) => e.resourceId)).toEqual(["sl-x", "sl-2", "sl-1", "sl-0"]);
    expect(rest.nextPageToken).toBe("");
    expect((await t.admin.listAuditEvents({ requestId, oldestFirst: true })).auditEvents[0]!.details).toEqual({ delta: -3, sku: "SKU-1" });
    // Storing records leaves no record of its own: the trail does not grow with every shipment.
    const intake = await t.admin.listAuditEvents({ method: "/user.v1.AuditRecordService/RecordAuditEvents", outcomes: [AuditOutcome.SUCCESS] });
    expect(intake.auditEvents).toEqual([]);

    expect(await failure(recorder.recordAuditEvents({ auditEvents: [] }))).toMatchObject({ code: "INVALID_ARGUMENT", fields: ["audit_events"] });
    expect(await failure(recorder.recordAuditEvents({ auditEvents: Array.from({ length: 501 }, () => events[0]!) }))).toMatchObject({
      fields: ["audit_events"],
    });
    expect(await failure(recorder.recordAuditEvents({ auditEvents: [{ ...events[0]!, id: "x", occurTime: undefined, method: "" }] }))).toMatchObject({
      fields: ["audit_events[0].id", "audit_events[0].occur_time", "audit_events[0].method"],
    });
    expect(await failure(t.admin.listAuditEvents({ pageSize: 1001 }))).toMatchObject({ fields: ["page_size"] });
    // Internal: not even an administrator's token reaches it without a service identity.
    expect(await failure(t.as(AuditRecordService, t.adminToken).recordAuditEvents({ auditEvents: events }))).toMatchObject({ code: "PERMISSION_DENIED" });
  });
});

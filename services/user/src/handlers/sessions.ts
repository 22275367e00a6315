import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Unauthenticated, checkFields, inTransaction, principalMessageOf, type ServiceImpl } from "@inv/platform";
import type { UserService } from "@inv/gen/user/v1/user_pb";
import { EMAIL_MAX } from "../domain/rules.js";
import { toUser } from "../mapping.js";
import { revokeSessions, rotateRefreshToken, startSession } from "../store/sessions.js";
import { findLiveUserByLogin, findUser, markSignedIn, viewOf } from "../store/users.js";
import { signAccessToken } from "../tokens/access-tokens.js";
import { sessionOfRefreshToken } from "../tokens/secrets.js";
import { requireSession } from "./caller.js";
import type { UserDeps } from "./deps.js";

type Impl = ServiceImpl<typeof UserService>;

/** One answer for every failed sign-in, so the response never tells which part was wrong. */
const badCredentials = () => new Unauthenticated("the username or password is wrong, or the account is disabled", [], "BAD_CREDENTIALS");
const reusedRefreshToken = () =>
  new Unauthenticated("the refresh token was already used, so its session has been ended; sign in again", [], "REFRESH_TOKEN_REUSED");
const badRefreshToken = () => new Unauthenticated("the refresh token is invalid, expired or revoked; sign in again", [], "INVALID_REFRESH_TOKEN");

export function sessionHandlers({ db, settings, passwords, keys, throttle, invalidate }: UserDeps) {
  const refreshLifetimeMs = settings.refreshTokenDays * 86_400_000;

  const tokensFor = async (userId: string, sessionId: string) => {
    const access = await signAccessToken(keys, { userId, sessionId }, settings.accessTokenMinutes);
    return { accessToken: access.token, tokenType: "Bearer", accessTokenExpireTime: timestampFromDate(access.expiresAt) };
  };

  /**
   * Unknown user, wrong password, inactive user: one error, after the same argon2 work (an
   * unknown user is verified against a dummy hash), so neither the answer nor its timing tells
   * them apart. Failures are throttled per name tried and per address; a success clears the name's count.
   */
  const login: Impl["login"] = async ({ username, password }, ctx) => {
    const name = checkFields((v) => {
      if (password === "") v.fail("password", "required", "password is required");
      return v.text("username", username, { max: EMAIL_MAX, required: true }).toLowerCase();
    });
    const address = ctx.caller.clientIp;
    const user = await findLiveUserByLogin(db, name);
    // An account is counted by its username however it is named (username or email); a name
    // that matches no one, by itself.
    const account = user?.username ?? name;
    // A failed sign-in is recorded by the platform (outcome DENIED), naming the account tried.
    ctx.noteAudit({ resourceType: "User", resourceId: user?.id ?? "", details: { login: account } });
    await throttle.check(account, address);
    const matches = user ? await passwords.verify(user.passwordHash, password) : await passwords.verifyNothing(password);
    if (!user || !matches || !user.active) {
      await throttle.failed(account, address);
      throw badCredentials();
    }
    await throttle.succeeded(account);
    const rehashed = passwords.needsRehash(user.passwordHash) ? await passwords.hash(password) : undefined;
    const expiresAt = new Date(Date.now() + refreshLifetimeMs);
    const { view, session, refreshToken } = await inTransaction(db, async (tx) => {
      const { session, refreshToken } = await startSession(tx, user.id, expiresAt);
      const row = await markSignedIn(tx, user.id, rehashed);
      await ctx.audit(tx, { resourceType: "Session", resourceId: session.id, details: { userId: user.id } });
      return { view: await viewOf(tx, row), session, refreshToken };
    });
    return {
      ...(await tokensFor(user.id, session.id)),
      refreshToken,
      refreshTokenExpireTime: timestampFromDate(expiresAt),
      user: toUser(view),
    };
  };

  /** Rotation; a reused token ends its session (committed before the call fails). */
  const refresh: Impl["refresh"] = async ({ refreshToken }, ctx) => {
    checkFields((v) => {
      if (refreshToken === "") v.fail("refresh_token", "required", "refresh_token is required");
    });
    const sessionId = sessionOfRefreshToken(refreshToken);
    if (!sessionId) throw badRefreshToken();
    const expiresAt = new Date(Date.now() + refreshLifetimeMs);
    const rotation = await inTransaction(db, async (tx) => {
      const rotation = await rotateRefreshToken(tx, refreshToken, sessionId, expiresAt);
      if (rotation.outcome !== "rotated") return rotation;
      await ctx.audit(tx, { resourceType: "Session", resourceId: sessionId, details: { userId: rotation.user.id } });
      return { ...rotation, view: await viewOf(tx, rotation.user) };
    });
    // A refused refresh is recorded by the platform (DENIED, with the message saying why).
    if (rotation.outcome === "reused") {
      await invalidate({ sessions: [sessionId] });
      throw reusedRefreshToken();
    }
    if (rotation.outcome === "refused") throw badRefreshToken();
    return {
      ...(await tokensFor(rotation.user.id, sessionId)),
      refreshToken: rotation.refreshToken,
      refreshTokenExpireTime: timestampFromDate(rotation.expiresAt),
      user: toUser(rotation.view),
    };
  };

  const logout: Impl["logout"] = async ({ allSessions }, ctx) => {
    const me = requireSession(ctx, "Logout");
    const ended = await inTransaction(db, async (tx) => {
      const ended = await revokeSessions(tx, allSessions ? { userId: me.subject } : { ids: [me.sessionId] }, "logout");
      await ctx.audit(tx, { resourceType: "Session", resourceId: me.sessionId, details: { allSessions, endedSessions: ended.length } });
      return ended;
    });
    await invalidate({ sessions: ended });
    return { endedSessionCount: ended.length };
  };

  const getMe: Impl["getMe"] = async (_req, ctx) => {
    const p = ctx.caller.principal;
    if (p.kind === "anonymous") throw new Unauthenticated("GetMe needs credentials", [], "UNAUTHENTICATED");
    const row = p.kind === "service" ? undefined : await findUser(db, p.subject);
    return {
      ...(row ? { user: toUser(await viewOf(db, row)) } : {}),
      principal: principalMessageOf(p),
      ...(p.expiresAt === undefined ? {} : { credentialExpireTime: timestampFromDate(new Date(p.expiresAt)) }),
    };
  };

  const getJwks: Impl["getJwks"] = async () => ({
    keys: (await keys.jwks()).map((k) => ({ kty: k.kty, kid: k.kid, use: k.use, alg: k.alg, crv: k.crv, x: k.x })),
  });

  return { login, refresh, logout, getMe, getJwks } satisfies Partial<Impl>;
}

import { AccessTokenVerifier, type Db, type IdentitySource, type Introspection, type Principal } from "@inv/platform";
import { findRole } from "./store/roles.js";
import { findUsableKey, touchApiKey } from "./store/api-keys.js";
import { findLiveSession } from "./store/sessions.js";
import { rolesOf } from "./store/users.js";
import type { KeyRing } from "./tokens/keys.js";
import { looksLikeApiKey, sha256 } from "./tokens/secrets.js";

/** How long a process may keep an answer (the contract's cache_seconds); never past the credential's expiry. */
export const INTROSPECTION_CACHE_SECONDS = 30;

const INACTIVE: Introspection = Object.freeze({ active: false, cacheSeconds: 0 });

export interface UserIdentityDeps {
  db: Db;
  keys: KeyRing;
}

/**
 * The user service's own IdentitySource: it answers from its database directly (no RPC to
 * itself), and TokenService.IntrospectToken serves the same answers to every other process.
 *
 * An access token must verify against the service's own published keys (the platform's
 * AccessTokenVerifier: EdDSA only, a known kid, issuer, audience, nbf..exp) and name
 * a live session of an active, undeleted user; its permissions are read now, not from the token.
 * An API key must be unrevoked, unexpired, and owned by an active, undeleted user. Anything else
 * is `{ active: false }`. Inactive answers are not cached: they are cheap to repeat and a
 * not-yet-valid token may become valid.
 */
export function createUserIdentitySource({ db, keys }: UserIdentityDeps): IdentitySource {
  const tokens = new AccessTokenVerifier({ jwks: async () => ({ keys: await keys.jwks() }) });
  const answer = (principal: Principal): Introspection => {
    const left = principal.expiresAt === undefined ? INTROSPECTION_CACHE_SECONDS : Math.floor((principal.expiresAt - Date.now()) / 1000);
    return { active: true, principal, cacheSeconds: Math.max(0, Math.min(INTROSPECTION_CACHE_SECONDS, left)) };
  };

  async function accessToken(token: string): Promise<Introspection> {
    const claims = await tokens.verify(token);
    if (!claims) return INACTIVE;
    const live = await findLiveSession(db, claims.sid, claims.sub);
    if (!live) return INACTIVE;
    const held = (await rolesOf(db, [live.user.id])).get(live.user.id)!;
    return answer({
      kind: "user",
      subject: live.user.id,
      username: live.user.username,
      sessionId: live.session.id,
      tokenId: claims.jti,
      roles: held.roles,
      permissions: held.permissions,
      expiresAt: claims.expiresAt,
    });
  }

  async function apiKey(secret: string): Promise<Introspection> {
    const found = await findUsableKey(db, sha256(secret));
    if (!found) return INACTIVE;
    const role = await findRole(db, found.key.role);
    await touchApiKey(db, found.key.id);
    return answer({
      kind: "api_key",
      subject: found.owner.id,
      username: found.owner.username,
      apiKeyId: found.key.id,
      roles: [found.key.role],
      permissions: [...(role?.permissions ?? [])].sort(),
      expiresAt: found.key.expireAt?.getTime(),
    });
  }

  return {
    introspect: (credential) => (looksLikeApiKey(credential) ? apiKey(credential) : accessToken(credential)),
  };
}

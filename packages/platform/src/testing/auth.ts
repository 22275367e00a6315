import { randomBytes, randomUUID } from "node:crypto";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";
import type { IdentitySource, Principal } from "../auth/principal.js";
import { ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from "../auth/tokens.js";
import type { LocalIdentity } from "../runtime.js";

/** What a test says about the caller it wants; the rest is made up. */
export interface TestPrincipal {
  permissions: readonly string[];
  roles?: readonly string[];
  kind?: "user" | "api_key";
  subject?: string;
  username?: string;
}

export interface IssueOptions {
  /** Seconds until expiry (negative: already expired). */
  expiresIn?: number;
  /** Seconds until the token becomes valid (nbf). */
  notBefore?: number;
}

/**
 * A stand-in for the user service in a service's own tests: it signs real access tokens with a
 * real Ed25519 key (so the service's verifier does all its checks) and answers introspection
 * from memory. Tests that are about the user service itself use the user service.
 */
export class TestAuthority implements LocalIdentity {
  private readonly principals = new Map<string, Principal>();

  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicJwk: JWK,
  ) {}

  static async create(): Promise<TestAuthority> {
    const { privateKey, publicKey } = await generateKeyPair(ACCESS_TOKEN_ALGORITHM, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid: `test-${randomUUID()}`, alg: ACCESS_TOKEN_ALGORITHM, use: "sig" };
    return new TestAuthority(privateKey, publicJwk);
  }

  readonly jwks = async () => ({ keys: [this.publicJwk] });

  readonly source: IdentitySource = {
    introspect: async (credential) => {
      const principal = this.principals.get(credential);
      return principal ? { active: true, principal, cacheSeconds: 0 } : { active: false, cacheSeconds: 0 };
    },
  };

  /** A signed access token (or, for kind "api_key", an API key secret) for this principal. */
  async issue(who: TestPrincipal, opts: IssueOptions = {}): Promise<string> {
    const subject = who.subject ?? randomUUID();
    const kind = who.kind ?? "user";
    const base = { subject, username: who.username ?? `user-${subject.slice(0, 8)}`, roles: who.roles ?? [], permissions: [...who.permissions].sort() };
    if (kind === "api_key") {
      const secret = `imk_test${randomBytes(2).toString("hex")}_${randomBytes(32).toString("base64url")}`;
      this.principals.set(secret, { kind, ...base, apiKeyId: randomUUID() });
      return secret;
    }
    const sessionId = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, kid: this.publicJwk.kid! })
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject(subject)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now + (opts.notBefore ?? 0))
      .setExpirationTime(now + (opts.expiresIn ?? 900))
      .sign(this.privateKey);
    this.principals.set(token, { kind, ...base, sessionId, expiresAt: (now + (opts.expiresIn ?? 900)) * 1000 });
    return token;
  }

  /** The credential stops working (as after a logout or a revoked key). */
  revoke(credential: string) {
    this.principals.delete(credential);
  }
}

import { SignJWT, createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";

/** Issuer and audience of access tokens (docs/decisions/0007-identity-and-access.md). */
export const ACCESS_TOKEN_ISSUER = "inventory-platform";
export const ACCESS_TOKEN_AUDIENCE = "inventory-platform";
/** The one algorithm access tokens may use; "none", HS256 and the rest are refused. */
export const ACCESS_TOKEN_ALGORITHM = "EdDSA";
const SERVICE_TOKEN_ISSUER = "inventory-platform/service";
const CLOCK_TOLERANCE_SECONDS = 5;

/** What a verified access token says. Current rights come from introspection, not from here. */
export interface AccessClaims {
  readonly sub: string;
  readonly sid: string;
  readonly jti: string;
  /** Expiry, in ms since the epoch. */
  readonly expiresAt: number;
}

/**
 * A small map of verified credentials that forgets expired and oldest entries: a token seen once
 * costs a signature check, every later use a lookup.
 */
class VerifiedCache<T extends { expiresAt: number }> {
  private readonly entries = new Map<string, T>();
  constructor(private readonly maxEntries: number) {}

  get(key: string): T | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.expiresAt > Date.now()) return hit;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: T) {
    this.entries.set(key, value);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}

export interface AccessTokenVerifierOptions {
  /** The user service's public keys: its own database in the user service, GetJwks elsewhere. */
  jwks: () => Promise<JSONWebKeySet>;
  /** A token with an unknown kid makes the verifier refetch the keys at most this often. */
  refetchAfterMs?: number;
  maxEntries?: number;
}

/**
 * Verifies access tokens locally against the user service's JWKS: EdDSA only, a `kid` that names
 * a published key, the platform's issuer and audience, `exp`/`nbf` with a few seconds of clock
 * tolerance, and the claims every token carries. An unknown `kid` refetches the keys (a key
 * rotated in is picked up on first sight), at most once per `refetchAfterMs`.
 */
export class AccessTokenVerifier {
  private keys: JWTVerifyGetKey | undefined;
  private fetchedAt = 0;
  /** When a fetch last failed: until refetchAfterMs later, callers are refused without another try. */
  private failedAt = Number.NEGATIVE_INFINITY;
  private fetching: Promise<JWTVerifyGetKey> | undefined;
  private readonly verified: VerifiedCache<AccessClaims>;
  private readonly refetchAfterMs: number;

  constructor(private readonly opts: AccessTokenVerifierOptions) {
    this.refetchAfterMs = opts.refetchAfterMs ?? 5_000;
    this.verified = new VerifiedCache(opts.maxEntries ?? 10_000);
  }

  /** The claims of a token verified before and not expired yet, without waiting: a hot path's shortcut. */
  known(token: string): AccessClaims | undefined {
    return this.verified.get(token);
  }

  /** The token's claims, or undefined when it is not a valid access token now. */
  async verify(token: string): Promise<AccessClaims | undefined> {
    const hit = this.verified.get(token);
    if (hit) return hit;
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return undefined;
    }
    if (typeof kid !== "string" || kid === "") return undefined;
    let claims = await this.check(token, await this.keySet(false));
    if (claims === "unknown-key") claims = await this.check(token, await this.keySet(true));
    if (claims === "unknown-key" || claims === undefined) return undefined;
    this.verified.set(token, claims);
    return claims;
  }

  private async check(token: string, keys: JWTVerifyGetKey): Promise<AccessClaims | "unknown-key" | undefined> {
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: [ACCESS_TOKEN_ALGORITHM],
        issuer: ACCESS_TOKEN_ISSUER,
        audience: ACCESS_TOKEN_AUDIENCE,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ["sub", "sid", "jti", "exp", "iat"],
      });
      const { sub, sid, jti, exp } = payload as { sub: unknown; sid: unknown; jti: unknown; exp: number };
      if (typeof sub !== "string" || typeof sid !== "string" || typeof jti !== "string") return undefined;
      return { sub, sid, jti, expiresAt: exp * 1000 };
    } catch (err) {
      return err instanceof errors.JWKSNoMatchingKey ? "unknown-key" : undefined;
    }
  }

  private async keySet(refresh: boolean): Promise<JWTVerifyGetKey> {
    const now = Date.now();
    const stale = !this.keys || (refresh && now - this.fetchedAt >= this.refetchAfterMs);
    if (!stale) return this.keys!;
    // The user service unreachable a moment ago: no new attempt per request, which would turn a
    // flood of requests into a flood of calls to it.
    if (now - this.failedAt < this.refetchAfterMs) {
      if (this.keys) return this.keys;
      throw new Error("the signing keys are not available yet");
    }
    this.fetching ??= this.opts
      .jwks()
      .then(
        (jwks) => {
          this.keys = createLocalJWKSet(jwks);
          this.fetchedAt = Date.now();
          return this.keys;
        },
        (err: unknown) => {
          this.failedAt = Date.now();
          throw err;
        },
      )
      .finally(() => {
        this.fetching = undefined;
      });
    try {
      return await this.fetching;
    } catch (err) {
      if (this.keys) return this.keys; // the user service is away: keep using the keys we have
      throw err;
    }
  }
}

const SERVICE_TOKEN_SECONDS = 60;
const SERVICE_TOKEN_RENEW_MS = 30_000;

const secretKey = (secret: string) => new TextEncoder().encode(secret);

/**
 * This process's service identity: a short-lived HS256 token per callee, signed with the
 * cluster's SERVICE_SECRET, sent as `x-service-token`. Tokens are minted ahead of use and
 * renewed in the background, so taking one on the hot path is a map lookup.
 */
export class ServiceIdentity {
  private readonly tokens = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly name: string,
    private readonly secret: string,
    private readonly callees: readonly string[],
  ) {}

  /** Mints tokens for every callee (process names), and keeps them fresh until close(). */
  static async start(name: string, secret: string, callees: readonly string[]): Promise<ServiceIdentity> {
    const identity = new ServiceIdentity(name, secret, callees);
    await identity.renew();
    identity.timer = setInterval(() => void identity.renew().catch(() => {}), SERVICE_TOKEN_RENEW_MS);
    identity.timer.unref();
    return identity;
  }

  /** The token to present to a callee process, e.g. "user". */
  tokenFor(callee: string): string {
    const token = this.tokens.get(callee);
    if (token === undefined) throw new Error(`no service token for "${callee}": not among this identity's callees`);
    return token;
  }

  close() {
    clearInterval(this.timer);
  }

  private async renew() {
    const key = secretKey(this.secret);
    const minted = await Promise.all(
      this.callees.map(async (callee) => {
        const token = await new SignJWT({})
          .setProtectedHeader({ alg: "HS256", typ: "JWT" })
          .setIssuer(SERVICE_TOKEN_ISSUER)
          .setSubject(`service:${this.name}`)
          .setAudience(`service:${callee}`)
          .setIssuedAt()
          .setExpirationTime(`${SERVICE_TOKEN_SECONDS}s`)
          .sign(key);
        return [callee, token] as const;
      }),
    );
    for (const [callee, token] of minted) this.tokens.set(callee, token);
  }
}

/** Checks `x-service-token`s addressed to this process; returns the calling process's name. */
export class ServiceTokenVerifier {
  private readonly key: Uint8Array;
  private readonly verified = new VerifiedCache<{ service: string; expiresAt: number }>(1_000);

  constructor(
    private readonly processName: string,
    secret: string,
  ) {
    this.key = secretKey(secret);
  }

  /** The calling service of a token verified before and not expired yet, without waiting. */
  known(token: string): string | undefined {
    return this.verified.get(token)?.service;
  }

  async verify(token: string): Promise<string | undefined> {
    const hit = this.verified.get(token);
    if (hit) return hit.service;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ["HS256"],
        issuer: SERVICE_TOKEN_ISSUER,
        audience: `service:${this.processName}`,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ["sub", "exp"],
      });
      const sub = payload.sub ?? "";
      if (!sub.startsWith("service:")) return undefined;
      const service = sub.slice("service:".length);
      this.verified.set(token, { service, expiresAt: payload.exp! * 1000 });
      return service;
    } catch {
      return undefined;
    }
  }
}

/**
 * Who is calling, as every service sees it (docs/decisions/0007-identity-and-access.md).
 * The user service answers these from its database; every other process asks it
 * (TokenService.IntrospectToken) and caches the answer until told otherwise.
 */

export type PrincipalKind = "user" | "api_key" | "service" | "anonymous";

export interface Principal {
  readonly kind: PrincipalKind;
  /** The user id for users; the owner's user id for API keys; "service:<name>" for services; "" when anonymous. */
  readonly subject: string;
  /** The username (the owner's for API keys); the service name for services; "" when anonymous. */
  readonly username: string;
  /** For API keys, the key id. */
  readonly apiKeyId?: string | undefined;
  /** For access tokens, the session id ("sid"). */
  readonly sessionId?: string | undefined;
  /** For access tokens, the token id ("jti"). */
  readonly tokenId?: string | undefined;
  /** The roles the principal acts with (an API key's one role). */
  readonly roles: readonly string[];
  /** The current effective permissions, wildcards kept as given ("*", "stock.*"), sorted. */
  readonly permissions: readonly string[];
  /** When the credential expires, in ms since the epoch; undefined when it does not. */
  readonly expiresAt?: number | undefined;
}

export const ANONYMOUS: Principal = Object.freeze({ kind: "anonymous", subject: "", username: "", roles: [], permissions: [] });

/** The caller of one RPC: the principal, plus how the call reached this process. */
export interface Caller {
  readonly principal: Principal;
  /** The process that made the call when it proved a service identity, e.g. "edge", "reservation". */
  readonly viaService?: string | undefined;
  /** The end client's address: from the edge (x-client-ip, trusted only from a service) or the peer. */
  readonly clientIp?: string | undefined;
  readonly userAgent?: string | undefined;
  /**
   * The metadata that carries the caller's own credential (authorization or x-api-key), for a
   * call this service makes on the caller's behalf. Empty for service and anonymous principals.
   */
  readonly credentials: Readonly<Record<string, string>>;
}

export const ANONYMOUS_CALLER: Caller = Object.freeze({ principal: ANONYMOUS, credentials: Object.freeze({}) });

/** The answer to "who is behind this credential, now?". */
export interface Introspection {
  readonly active: boolean;
  readonly principal?: Principal | undefined;
  /** How long the answer may be cached, in seconds; 0 = do not cache. */
  readonly cacheSeconds: number;
}

/**
 * Resolves a credential to its principal with current rights. The user service implements it
 * over its database; other processes over TokenService.IntrospectToken. `credential` is an access
 * token whose signature the caller has already verified, or an API key secret. Invalid, expired,
 * revoked or inactive credentials are `{ active: false }`, not errors.
 */
export interface IdentitySource {
  introspect(credential: string): Promise<Introspection>;
}

/**
 * What the user service publishes on the bus (channel AUTH_INVALIDATE_CHANNEL) after a commit
 * that changes someone's rights; every process drops the cached principals it names.
 */
export interface AuthInvalidation {
  users?: string[];
  sessions?: string[];
  apiKeys?: string[];
  /** Everything, e.g. after a role's permissions changed. */
  all?: boolean;
}

export const AUTH_INVALIDATE_CHANNEL = "auth.invalidate";

/** Built-in role names; their permission sets live in the user service. */
export const BUILT_IN_ROLES = ["admin", "manager", "clerk", "viewer", "service"] as const;

/** Whether a set of granted permissions (with "*" and "<domain>.*" wildcards) covers one permission. */
export function grants(granted: readonly string[], permission: string): boolean {
  const dot = permission.indexOf(".");
  const domainWildcard = dot > 0 ? `${permission.slice(0, dot)}.*` : undefined;
  for (const g of granted) if (g === permission || g === "*" || g === domainWildcard) return true;
  return false;
}

/**
 * Who a change is recorded as made by (created_by, updated_by, a ledger entry's actor): the user
 * id for users, "apikey:<key id>" for API keys, "service:<name>" for a service acting for itself.
 */
export function actorOf(caller: Caller): string {
  const p = caller.principal;
  if (p.kind === "api_key" && p.apiKeyId) return `apikey:${p.apiKeyId}`;
  return p.subject;
}

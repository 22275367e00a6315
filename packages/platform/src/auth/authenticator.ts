import type { Metadata } from "@grpc/grpc-js";
import { Unauthenticated } from "../errors.js";
import { ANONYMOUS, type Caller, type Principal } from "./principal.js";
import type { PrincipalCache } from "./principals.js";
import type { AccessTokenVerifier, ServiceTokenVerifier } from "./tokens.js";

/** The process that only forwards callers: its service identity never acts on its own behalf. */
export const EDGE_PROCESS = "edge";

/** What the built-in `service` role holds: a service acting on its own behalf (e.g. a sweeper). */
export const SERVICE_PERMISSIONS: readonly string[] = Object.freeze([
  "audit.write",
  "item.read",
  "reservation.manage",
  "reservation.read",
  "stock.hold",
  "stock.read",
  "storage.usage",
  "token.introspect",
  "warehouse.read",
]);

export const servicePrincipal = (name: string): Principal => ({
  kind: "service",
  subject: `service:${name}`,
  username: name,
  roles: ["service"],
  permissions: SERVICE_PERMISSIONS,
});

/** API key secrets start with this; anything else after "Bearer " is an access token. */
export const API_KEY_PREFIX = "imk_";
const USER_AGENT_MAX = 256;

export interface AuthenticatorOptions {
  accessTokens: AccessTokenVerifier;
  serviceTokens: ServiceTokenVerifier;
  principals: PrincipalCache;
}

/**
 * Works out who is calling from a call's metadata (docs/decisions/0007-identity-and-access.md):
 * the calling service from `x-service-token`, the principal from `authorization` or `x-api-key`.
 * A credential that is present but wrong is UNAUTHENTICATED, never silently anonymous, except
 * where `lenient` (public RPCs: a stale token must not stop a client from calling Refresh).
 */
export class Authenticator {
  constructor(private readonly opts: AuthenticatorOptions) {}

  /**
   * The caller of a call. Synchronous when every credential has been seen before (the hot path:
   * a few map lookups, no promise); a promise when a signature must be checked or the user
   * service asked.
   */
  callerOf(metadata: Metadata, peer: () => string, lenient: boolean): Caller | Promise<Caller> {
    const serviceToken = first(metadata, "x-service-token");
    const credential = this.credentialOf(metadata, lenient);
    const viaService = serviceToken === undefined ? undefined : this.opts.serviceTokens.known(serviceToken);
    const principal = credential === undefined ? undefined : this.knownPrincipal(credential.secret);
    if ((serviceToken === undefined || viaService !== undefined) && principal !== UNKNOWN)
      return this.assemble(metadata, peer, lenient, viaService, credential, principal);
    return this.lookUp(metadata, peer, lenient, serviceToken, credential);
  }

  private async lookUp(metadata: Metadata, peer: () => string, lenient: boolean, serviceToken: string | undefined, credential: Credential | undefined) {
    let viaService: string | undefined;
    if (serviceToken !== undefined) {
      viaService = await this.opts.serviceTokens.verify(serviceToken);
      if (viaService === undefined && !lenient) throw new Unauthenticated("the service token is not valid", undefined, "INVALID_SERVICE_TOKEN");
    }
    const principal = credential === undefined ? undefined : ((await this.principalOf(credential.secret)) ?? null);
    return this.assemble(metadata, peer, lenient, viaService, credential, principal);
  }

  /** principal: null when the credential is known to be invalid now. */
  private assemble(
    metadata: Metadata,
    /** The transport peer, asked for only when no service vouches for the client's address. */
    peer: () => string,
    lenient: boolean,
    viaService: string | undefined,
    credential: Credential | undefined,
    principal: Principal | null | undefined,
  ): Caller {
    const clientIp = (viaService && first(metadata, "x-client-ip")) || addressOf(peer());
    const agent = first(metadata, viaService ? "x-client-user-agent" : "user-agent");
    const userAgent = agent && agent.length > USER_AGENT_MAX ? agent.slice(0, USER_AGENT_MAX) : agent;
    if (credential === undefined) {
      const self = viaService !== undefined && viaService !== EDGE_PROCESS ? servicePrincipal(viaService) : ANONYMOUS;
      return { principal: self, credentials: NO_CREDENTIALS, viaService, clientIp, userAgent };
    }
    if (!principal) {
      if (lenient) return { principal: ANONYMOUS, credentials: NO_CREDENTIALS, viaService, clientIp, userAgent };
      throw new Unauthenticated(
        credential.isApiKey ? "the API key is not valid: unknown, revoked or expired" : "the access token is not valid: expired, revoked or malformed",
        undefined,
        "INVALID_CREDENTIALS",
      );
    }
    return { principal, credentials: { [credential.header]: credential.raw }, viaService, clientIp, userAgent };
  }

  private credentialOf(metadata: Metadata, lenient: boolean): Credential | undefined {
    const authorization = first(metadata, "authorization");
    if (authorization !== undefined) {
      const secret = bearerToken(authorization);
      if (secret === undefined) {
        if (lenient) return undefined;
        throw new Unauthenticated('the authorization header must be "Bearer <token>"', undefined, "INVALID_CREDENTIALS");
      }
      return { header: "authorization", raw: authorization, secret, isApiKey: secret.startsWith(API_KEY_PREFIX) };
    }
    const apiKey = first(metadata, "x-api-key");
    if (apiKey !== undefined) return { header: "x-api-key", raw: apiKey, secret: apiKey.trim(), isApiKey: true };
    return undefined;
  }

  /** The principal behind a credential seen before: null when it is known invalid, UNKNOWN when not seen. */
  private knownPrincipal(secret: string): Principal | null | typeof UNKNOWN {
    if (!secret.startsWith(API_KEY_PREFIX) && this.opts.accessTokens.known(secret) === undefined) return UNKNOWN;
    const known = this.opts.principals.peek(secret);
    return known === undefined ? UNKNOWN : known;
  }

  /** A JWT must verify locally before the user service is asked about it: forgeries cost nothing. */
  private async principalOf(secret: string): Promise<Principal | undefined> {
    if (!secret.startsWith(API_KEY_PREFIX) && (await this.opts.accessTokens.verify(secret)) === undefined) return undefined;
    return this.opts.principals.get(secret);
  }
}

interface Credential {
  /** The metadata key it came in, to forward it the same way. */
  header: "authorization" | "x-api-key";
  raw: string;
  secret: string;
  isApiKey: boolean;
}

const UNKNOWN = Symbol("unknown");

/**
 * The token of "Bearer <token>" (the scheme in any case, spaces around the token allowed), or
 * undefined. By hand: a regular expression over a 700-character token showed in the profile.
 */
export function bearerToken(header: string): string | undefined {
  if (header.length < 8 || header.slice(0, 6).toLowerCase() !== "bearer" || header[6] !== " ") return undefined;
  const token = header.slice(7).trim();
  return token === "" || /\s/.test(token) ? undefined : token;
}

const NO_CREDENTIALS: Readonly<Record<string, string>> = Object.freeze({});

function first(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** "ipv4:10.0.0.1:5050" / "ipv6:[::1]:5050" / "10.0.0.1:5050" → the address alone. */
export function addressOf(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, "");
  const bracketed = /^\[([^\]]+)\]/.exec(bare);
  if (bracketed) return bracketed[1]!;
  const colon = bare.lastIndexOf(":");
  return colon > 0 && bare.indexOf(":") === colon ? bare.slice(0, colon) : bare;
}

import { create } from "@bufbuild/protobuf";
import type { JWK } from "jose";
import { PrincipalKind } from "@inv/gen/user/v1/audit_pb";
import { PrincipalSchema, type JsonWebKey, type Principal as PrincipalMessage } from "@inv/gen/user/v1/user_pb";
import type { Principal, PrincipalKind as Kind } from "./principal.js";

/** The wire forms of identity (user.v1.Principal, PrincipalKind, JsonWebKey), both ways, in one place. */

const KINDS: Record<PrincipalKind, Kind> = {
  [PrincipalKind.UNSPECIFIED]: "anonymous",
  [PrincipalKind.ANONYMOUS]: "anonymous",
  [PrincipalKind.USER]: "user",
  [PrincipalKind.API_KEY]: "api_key",
  [PrincipalKind.SERVICE]: "service",
};

export const PRINCIPAL_KINDS: Record<Kind, PrincipalKind> = {
  anonymous: PrincipalKind.ANONYMOUS,
  user: PrincipalKind.USER,
  api_key: PrincipalKind.API_KEY,
  service: PrincipalKind.SERVICE,
};

/** The wire form of a principal (user.v1.Principal) as the platform's Principal. */
export function principalOf(message: PrincipalMessage, expiresAt: number | undefined): Principal {
  return {
    kind: KINDS[message.kind],
    subject: message.subject,
    username: message.username,
    apiKeyId: message.apiKeyId || undefined,
    sessionId: message.sessionId || undefined,
    roles: message.roles,
    permissions: message.permissions,
    expiresAt,
  };
}

/** The platform's Principal as its wire form (what IntrospectToken and GetMe answer). */
export function principalMessageOf(p: Principal): PrincipalMessage {
  return create(PrincipalSchema, {
    kind: PRINCIPAL_KINDS[p.kind],
    subject: p.subject,
    username: p.username,
    apiKeyId: p.apiKeyId ?? "",
    sessionId: p.sessionId ?? "",
    roles: [...p.roles],
    permissions: [...p.permissions],
  });
}

/** A JsonWebKey message as a JWK: its non-empty members only. */
export function jwkOf(key: JsonWebKey): JWK {
  const jwk: Record<string, string> = {};
  for (const name of ["kty", "kid", "use", "alg", "crv", "x", "y", "n", "e"] as const) if (key[name]) jwk[name] = key[name];
  return jwk as JWK;
}

import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { JSONWebKeySet, JWK } from "jose";
import { PrincipalKind } from "@inv/gen/user/v1/audit_pb";
import { TokenService } from "@inv/gen/user/v1/token_pb";
import { UserService, type JsonWebKey, type Principal as PrincipalMessage } from "@inv/gen/user/v1/user_pb";
import type { GrpcChannel } from "../grpc/client.js";
import type { IdentitySource, Principal, PrincipalKind as Kind } from "./principal.js";
import type { ServiceIdentity } from "./tokens.js";

const USER_PROCESS = "user";

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

/** The user service's answers over gRPC, for every process but the user service itself. */
export function remoteIdentitySource(channel: GrpcChannel, identity: ServiceIdentity): IdentitySource {
  return {
    async introspect(token) {
      const answer = await channel.unary(TokenService.method.introspectToken, { token }, { metadata: { "x-service-token": identity.tokenFor(USER_PROCESS) } });
      if (!answer.active || !answer.principal) return { active: false, cacheSeconds: answer.cacheSeconds };
      const expiresAt = answer.expireTime ? timestampMs(answer.expireTime) : undefined;
      return {
        active: true,
        principal: { ...principalOf(answer.principal, expiresAt), tokenId: answer.tokenId || undefined },
        cacheSeconds: answer.cacheSeconds,
      };
    },
  };
}

/** The public keys that verify access tokens, from the user service's GetJwks. */
export function remoteJwks(channel: GrpcChannel): () => Promise<JSONWebKeySet> {
  return async () => {
    const { keys } = await channel.unary(UserService.method.getJwks, {});
    return { keys: keys.map(jwkOf) };
  };
}

/** A JsonWebKey message as a JWK: its non-empty members only. */
export function jwkOf(key: JsonWebKey): JWK {
  const jwk: Record<string, string> = {};
  for (const name of ["kty", "kid", "use", "alg", "crv", "x", "y", "n", "e"] as const) if (key[name]) jwk[name] = key[name];
  return jwk as JWK;
}

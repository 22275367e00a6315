import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { JSONWebKeySet } from "jose";
import { TokenService } from "@inv/gen/user/v1/token_pb";
import { UserService } from "@inv/gen/user/v1/user_pb";
import type { GrpcChannel } from "../grpc/client.js";
import type { IdentitySource } from "./principal.js";
import type { ServiceIdentity } from "./tokens.js";
import { jwkOf, principalOf } from "./wire.js";

const USER_PROCESS = "user";

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

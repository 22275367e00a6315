import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { checkFields, principalMessageOf, type ServiceImpl } from "@inv/platform";
import type { TokenService } from "@inv/gen/user/v1/token_pb";
import type { UserDeps } from "./deps.js";

/** TokenService: the same answers the service's own IdentitySource gives, for every other process. */
export function tokenHandlers({ identity }: UserDeps): Partial<ServiceImpl<typeof TokenService>> {
  return {
    introspectToken: async ({ token }) => {
      checkFields((v) => {
        if (token === "") v.fail("token", "required", "token is required");
      });
      const answer = await identity.introspect(token);
      const p = answer.principal;
      if (!answer.active || !p) return { active: false, cacheSeconds: answer.cacheSeconds };
      return {
        active: true,
        principal: principalMessageOf(p),
        tokenId: p.tokenId ?? "",
        ...(p.expiresAt === undefined ? {} : { expireTime: timestampFromDate(new Date(p.expiresAt)) }),
        cacheSeconds: answer.cacheSeconds,
      };
    },
  };
}

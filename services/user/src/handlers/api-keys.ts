import {
  FailedPrecondition,
  NAME_MAX,
  PermissionDenied,
  checkFields,
  grants,
  inTransaction,
  invalid,
  listPage,
  notFound,
  type ServiceImpl,
} from "@inv/platform";
import type { UserService } from "@inv/gen/user/v1/user_pb";
import { checkRoleName } from "../domain/rules.js";
import { toApiKey } from "../mapping.js";
import { findApiKey, insertApiKey, listApiKeys, revokeApiKey } from "../store/api-keys.js";
import { lockRoleForUse, refuseServiceRole } from "../store/roles.js";
import { newApiKeySecret, sha256 } from "../tokens/secrets.js";
import { actingUserId, requireUser } from "./caller.js";
import type { UserDeps } from "./deps.js";

type Impl = ServiceImpl<typeof UserService>;

export function apiKeyHandlers({ db, invalidate }: UserDeps) {
  /**
   * The key acts with one role, so whoever makes it must already hold every permission of that
   * role: a key never lends its owner more than they have. The secret leaves the service once,
   * in this response; only its SHA-256 is kept.
   */
  const createApiKey: Impl["createApiKey"] = async ({ apiKey: k }, ctx) => {
    if (!k) throw invalid("api_key", "required", "api_key is required");
    const owner = requireUser(ctx, "CreateApiKey");
    const values = checkFields((v) => {
      const expireAt = v.timestamp("api_key.expire_time", k.expireTime, { future: true }) ?? null;
      return { name: v.text("api_key.name", k.name, { max: NAME_MAX, required: true }), role: checkRoleName(v, "api_key.role", k.role), expireAt };
    });
    refuseServiceRole([values.role], "api_key.role");
    const { prefix, secret } = newApiKeySecret();
    const row = await inTransaction(db, async (tx) => {
      const role = await lockRoleForUse(tx, values.role);
      if (!role) {
        throw new FailedPrecondition(`no such role: "${values.role}"`, { field: "api_key.role", value: values.role, constraint: "exists" }, "ROLE_NOT_FOUND");
      }
      const held = ctx.caller.principal.permissions;
      const lacking = role.permissions.filter((p) => !grants(held, p));
      if (lacking.length > 0) {
        throw new PermissionDenied(`a key with role "${role.name}" would grant ${lacking.join(", ")}, which you do not hold`, [], "ROLE_EXCEEDS_CALLER");
      }
      const row = await insertApiKey(tx, { ...values, prefix, secretHash: sha256(secret), ownerUserId: owner });
      await ctx.audit(tx, { resourceType: "ApiKey", resourceId: row.id, details: { name: row.name, role: row.role, prefix } });
      return row;
    });
    return { apiKey: toApiKey(row), secret };
  };

  const getApiKey: Impl["getApiKey"] = async ({ id }) => {
    const key = checkFields((v) => v.id("id", id));
    const row = await findApiKey(db, key);
    if (!row) throw notFound("API key", key);
    return { apiKey: toApiKey(row) };
  };

  const listApiKeysHandler: Impl["listApiKeys"] = async (req) => {
    const filter = checkFields((v) => ({
      ownerUserId: v.optionalId("owner_user_id", req.ownerUserId) ?? undefined,
      role: req.role || undefined,
      showInactive: req.showInactive,
    }));
    const page = await listPage(req, filter, (query) => listApiKeys(db, query), toApiKey);
    return { apiKeys: page.items, nextPageToken: page.nextPageToken };
  };

  const revokeApiKeyHandler: Impl["revokeApiKey"] = async ({ id }, ctx) => {
    const key = checkFields((v) => v.id("id", id));
    const { row, changed } = await inTransaction(db, async (tx) => {
      const result = await revokeApiKey(tx, key, actingUserId(ctx));
      await ctx.audit(tx, { resourceType: "ApiKey", resourceId: key, details: { alreadyRevoked: !result.changed } });
      return result;
    });
    if (changed) await invalidate({ apiKeys: [key] });
    return { apiKey: toApiKey(row) };
  };

  return { createApiKey, getApiKey, listApiKeys: listApiKeysHandler, revokeApiKey: revokeApiKeyHandler } satisfies Partial<Impl>;
}

import {
  DESCRIPTION_MAX,
  NAME_MAX,
  checkFields,
  fieldsToUpdate,
  inTransaction,
  invalid,
  notFound,
  presentIn,
  type FieldChecker,
  type ServiceImpl,
} from "@inv/platform";
import { RoleSchema, type Role, type UserService } from "@inv/gen/user/v1/user_pb";
import type { PermissionCatalog } from "../domain/permissions.js";
import { checkPermissions, checkRoleName } from "../domain/rules.js";
import { toRole } from "../mapping.js";
import { keysetPage } from "../store/paging.js";
import { deleteRole, findRole, insertRole, listRoles, updateRole, type RoleChanges } from "../store/roles.js";
import type { UserDeps } from "./deps.js";

type Impl = ServiceImpl<typeof UserService>;

const MUTABLE = ["display_name", "description", "permissions"];
const PAGE_SIZES = { default: 50, max: 500 };

function changesOf(v: FieldChecker, r: Role, fields: readonly string[], catalog: PermissionCatalog): RoleChanges {
  const changes: RoleChanges = {};
  for (const field of fields) {
    if (field === "display_name") changes.displayName = v.text("role.display_name", r.displayName, { max: NAME_MAX }) || r.name;
    else if (field === "description") changes.description = v.text("role.description", r.description, { max: DESCRIPTION_MAX });
    else changes.permissions = checkPermissions(v, "role.permissions", r.permissions, catalog);
  }
  return changes;
}

export function roleHandlers({ db, permissions: catalog, invalidate }: UserDeps) {
  const createRole: Impl["createRole"] = async ({ role: r }, ctx) => {
    if (!r) throw invalid("role", "required", "role is required");
    const values = checkFields((v) => {
      const name = checkRoleName(v, "role.name", r.name);
      return {
        name,
        displayName: v.text("role.display_name", r.displayName, { max: NAME_MAX }) || name,
        description: v.text("role.description", r.description, { max: DESCRIPTION_MAX }),
        permissions: checkPermissions(v, "role.permissions", r.permissions, catalog),
      };
    });
    const row = await inTransaction(db, async (tx) => {
      const row = await insertRole(tx, values);
      await ctx.audit(tx, { resourceType: "Role", resourceId: row.name, details: { permissions: row.permissions } });
      return row;
    });
    return { role: toRole(row) };
  };

  const getRole: Impl["getRole"] = async ({ name }) => {
    const key = checkFields((v) => checkRoleName(v, "name", name));
    const row = await findRole(db, key);
    if (!row) throw notFound("role", key, "name");
    return { role: toRole(row) };
  };

  const listRolesHandler: Impl["listRoles"] = async (req) => {
    const filter = { permission: req.permission.trim() || undefined };
    const page = await keysetPage(
      req,
      filter,
      PAGE_SIZES,
      (query) => listRoles(db, query),
      (row) => [row.name],
      toRole,
    );
    return { roles: page.items, nextPageToken: page.nextPageToken };
  };

  /** A change of permissions reaches every holder's next request: every process drops its cached principals. */
  const updateRoleHandler: Impl["updateRole"] = async ({ role: r, updateMask }, ctx) => {
    if (!r) throw invalid("role", "required", "role is required");
    const fields = fieldsToUpdate(updateMask?.paths, { mutable: MUTABLE, present: presentIn(RoleSchema, r) });
    const { name, changes } = checkFields((v) => ({ name: checkRoleName(v, "role.name", r.name), changes: changesOf(v, r, fields, catalog) }));
    const row = await inTransaction(db, async (tx) => {
      const row = await updateRole(tx, name, changes);
      await ctx.audit(tx, {
        resourceType: "Role",
        resourceId: name,
        details: { fields, ...(changes.permissions ? { permissions: changes.permissions } : {}) },
      });
      return row;
    });
    if (changes.permissions) await invalidate({ all: true });
    return { role: toRole(row) };
  };

  const deleteRoleHandler: Impl["deleteRole"] = async ({ name }, ctx) => {
    const key = checkFields((v) => checkRoleName(v, "name", name));
    const row = await inTransaction(db, async (tx) => {
      const row = await deleteRole(tx, key);
      await ctx.audit(tx, { resourceType: "Role", resourceId: key, details: { permissions: row.permissions } });
      return row;
    });
    await invalidate({ all: true });
    return { role: toRole(row) };
  };

  const listPermissions: Impl["listPermissions"] = async ({ domain }) => ({
    permissions: catalog.list(domain.trim() || undefined).map((p) => ({ name: p.name, description: p.description, methods: [...p.methods] })),
  });

  return {
    createRole,
    getRole,
    listRoles: listRolesHandler,
    updateRole: updateRoleHandler,
    deleteRole: deleteRoleHandler,
    listPermissions,
  } satisfies Partial<Impl>;
}

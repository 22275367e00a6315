import { and, arrayOverlaps, asc, count, eq, gt, inArray, isNull, or, sql } from "drizzle-orm";
import { AlreadyExists, FailedPrecondition, invalid, notFound, stillInUse, violates, type Db } from "@inv/platform";
import { SERVICE_ROLE } from "../domain/built-in-roles.js";
import type { KeysetQuery } from "./paging.js";
import { apiKeys, roles, userRoles, users, type RoleRow } from "./schema.js";

export interface NewRole {
  name: string;
  displayName: string;
  description: string;
  permissions: string[];
}

export type RoleChanges = Partial<Omit<NewRole, "name">>;

export async function insertRole(db: Db, role: NewRole): Promise<RoleRow> {
  try {
    const [row] = await db.insert(roles).values(role).returning();
    return row!;
  } catch (err) {
    if (violates(err, "roles_pkey")) {
      throw new AlreadyExists(`role "${role.name}" already exists`, { field: "role.name", value: role.name, constraint: "unique" }, "ALREADY_EXISTS");
    }
    throw err;
  }
}

export async function findRole(db: Db, name: string): Promise<RoleRow | undefined> {
  const [row] = await db.select().from(roles).where(eq(roles.name, name));
  return row;
}

/** Roles by name; the caller compares with what it asked for to find the missing ones. */
export async function findRoles(db: Db, names: readonly string[]): Promise<RoleRow[]> {
  if (names.length === 0) return [];
  return db
    .select()
    .from(roles)
    .where(inArray(roles.name, [...names]));
}

/**
 * Throws FAILED_PRECONDITION naming every role of the list that does not exist. Inside a
 * transaction that then references the roles, the foreign key keeps them from being deleted
 * before the commit.
 */
export async function requireRoles(db: Db, names: readonly string[], field: string): Promise<RoleRow[]> {
  refuseServiceRole(names, field);
  const found = await findRoles(db, names);
  const missing = names.filter((name) => !found.some((r) => r.name === name));
  if (missing.length > 0) {
    throw new FailedPrecondition(
      `no such role: ${missing.map((m) => `"${m}"`).join(", ")}`,
      missing.map((name) => ({ field, value: name, constraint: "exists" })),
      "ROLE_NOT_FOUND",
    );
  }
  return found;
}

/** The service role is the platform's own: no user or API key may be given it (INVALID_ARGUMENT). */
export function refuseServiceRole(names: readonly string[], field: string) {
  if (names.includes(SERVICE_ROLE)) {
    throw invalid(field, "not_reserved", `the "${SERVICE_ROLE}" role is reserved for the platform's own services`, SERVICE_ROLE);
  }
}

export interface RoleFilter {
  /** Only roles granting this permission, directly or by wildcard. */
  permission: string | undefined;
}

/** One page ordered by name. */
export async function listRoles(db: Db, query: KeysetQuery<RoleFilter>): Promise<RoleRow[]> {
  const { permission } = query.filter;
  const dot = permission ? permission.indexOf(".") : -1;
  const granting = permission ? ["*", permission, ...(dot > 0 ? [`${permission.slice(0, dot)}.*`] : [])] : undefined;
  return db
    .select()
    .from(roles)
    .where(and(query.after ? gt(roles.name, String(query.after[0])) : undefined, granting ? arrayOverlaps(roles.permissions, granting) : undefined))
    .orderBy(asc(roles.name))
    .limit(query.limit);
}

/** Locks a role for a change; built-in roles cannot be changed or deleted. */
async function lockChangeableRole(tx: Db, name: string): Promise<RoleRow> {
  const [row] = await tx.select().from(roles).where(eq(roles.name, name)).for("update");
  if (!row) throw notFound("role", name, "name");
  if (row.builtIn) {
    throw new FailedPrecondition(
      `role "${name}" is built in and cannot be changed or deleted`,
      { field: "name", value: name, constraint: "not_built_in" },
      "BUILT_IN_ROLE",
    );
  }
  return row;
}

/** Changes a role (not a built-in one) under its row lock. */
export async function updateRole(tx: Db, name: string, changes: RoleChanges): Promise<RoleRow> {
  await lockChangeableRole(tx, name);
  const [row] = await tx
    .update(roles)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(roles.name, name))
    .returning();
  return row!;
}

/**
 * Deletes a role that no live user and no usable API key has. Under the role's row lock: an
 * AssignRoles or CreateApiKey naming it key-share-locks it first (the foreign key, or the
 * explicit lock of CreateApiKey), so the counts below include anything committed before.
 * What deleted users still list of the role is removed with it.
 */
export async function deleteRole(tx: Db, name: string): Promise<RoleRow> {
  const row = await lockChangeableRole(tx, name);
  const [holders] = await tx
    .select({ n: count() })
    .from(userRoles)
    .innerJoin(users, eq(users.id, userRoles.userId))
    .where(and(eq(userRoles.roleName, name), isNull(users.deletedAt)));
  const [keys] = await tx
    .select({ n: count() })
    .from(apiKeys)
    .where(and(eq(apiKeys.role, name), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expireAt), gt(apiKeys.expireAt, sql`now()`))));
  const userCount = holders?.n ?? 0;
  const keyCount = keys?.n ?? 0;
  if (userCount > 0 || keyCount > 0) {
    throw stillInUse(name, "role_in_use", `role "${name}" is still held by ${userCount} user(s) and ${keyCount} active API key(s); take it away first`);
  }
  await tx.delete(userRoles).where(eq(userRoles.roleName, name));
  await tx.delete(roles).where(eq(roles.name, name));
  return row;
}

/** Key-share-locks a role so it cannot be deleted before the calling transaction ends. */
export async function lockRoleForUse(tx: Db, name: string): Promise<RoleRow | undefined> {
  const [row] = await tx.select().from(roles).where(eq(roles.name, name)).for("key share");
  return row;
}

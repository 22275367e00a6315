import { and, asc, eq, ilike, inArray, isNull, ne, or, sql } from "drizzle-orm";
import { AlreadyExists, type FieldViolation, lockRow, type Db, updateResource, violates } from "@inv/platform";
import { uuidv7 } from "uuidv7";
import type { KeysetQuery } from "./paging.js";
import { roles, userRoles, users, type UserRow } from "./schema.js";

/** A user with the roles they hold and the union of those roles' permissions. */
export interface UserView {
  row: UserRow;
  roles: string[];
  permissions: string[];
}

export interface NewUser {
  username: string;
  email: string;
  displayName: string;
  active: boolean;
  passwordHash: string;
  createdBy: string | null;
}

export interface UserChanges {
  email?: string;
  displayName?: string;
  active?: boolean;
}

export interface UserFilter {
  active: boolean | undefined;
  role: string | undefined;
  query: string | undefined;
  showDeleted: boolean;
}

/** The roles and effective permissions of some users, in one query. */
export async function rolesOf(db: Db, userIds: readonly string[]): Promise<Map<string, { roles: string[]; permissions: string[] }>> {
  const out = new Map(userIds.map((id) => [id, { roles: [] as string[], permissions: [] as string[] }]));
  if (userIds.length === 0) return out;
  const held = await db
    .select({ userId: userRoles.userId, role: roles.name, permissions: roles.permissions })
    .from(userRoles)
    .innerJoin(roles, eq(roles.name, userRoles.roleName))
    .where(inArray(userRoles.userId, [...userIds]));
  for (const h of held) {
    const entry = out.get(h.userId)!;
    entry.roles.push(h.role);
    entry.permissions.push(...h.permissions);
  }
  for (const entry of out.values()) {
    entry.roles.sort();
    entry.permissions = [...new Set(entry.permissions)].sort();
  }
  return out;
}

export async function withRoles(db: Db, rows: readonly UserRow[]): Promise<UserView[]> {
  const held = await rolesOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => ({ row, ...held.get(row.id)! }));
}

export async function viewOf(db: Db, row: UserRow): Promise<UserView> {
  return (await withRoles(db, [row]))[0]!;
}

export async function findUser(db: Db, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row;
}

/** The live user a sign-in names, by username or (with an "@") by email; both are stored lower-cased. */
export async function findLiveUserByLogin(db: Db, login: string): Promise<UserRow | undefined> {
  const name = login.trim().toLowerCase();
  const [row] = await db
    .select()
    .from(users)
    .where(and(name.includes("@") ? eq(users.email, name) : eq(users.username, name), isNull(users.deletedAt)));
  return row;
}

/**
 * ALREADY_EXISTS naming every field whose value another live user has: a form learns that
 * both its username and its email are taken in one round trip. The unique indexes still
 * decide races (see insertUser).
 */
export async function refuseDuplicates(db: Db, wanted: { username?: string; email?: string }, fields: { username: string; email: string }, exceptId?: string) {
  if (!wanted.username && !wanted.email) return;
  const clash = await db
    .select({ username: users.username, email: users.email })
    .from(users)
    .where(
      and(
        isNull(users.deletedAt),
        exceptId ? ne(users.id, exceptId) : undefined,
        or(wanted.username ? eq(users.username, wanted.username) : undefined, wanted.email ? eq(users.email, wanted.email) : undefined),
      ),
    );
  const violations: FieldViolation[] = [];
  if (wanted.username && clash.some((c) => c.username === wanted.username)) {
    violations.push({ field: fields.username, value: wanted.username, constraint: "unique", description: `username "${wanted.username}" is taken` });
  }
  if (wanted.email && clash.some((c) => c.email === wanted.email)) {
    violations.push({ field: fields.email, value: wanted.email, constraint: "unique", description: `email "${wanted.email}" is taken` });
  }
  if (violations.length > 0) throw new AlreadyExists(violations.map((v) => v.description).join("; "), violations, "ALREADY_EXISTS");
}

/** Maps a unique-index violation of a user insert or update to ALREADY_EXISTS. */
function duplicateOf(err: unknown, values: { username?: string; email?: string }, prefix: string): unknown {
  if (violates(err, "users_username_live_uq")) {
    return new AlreadyExists(
      `username "${values.username}" is taken`,
      { field: `${prefix}.username`, value: values.username, constraint: "unique" },
      "ALREADY_EXISTS",
    );
  }
  if (violates(err, "users_email_live_uq")) {
    return new AlreadyExists(`email "${values.email}" is taken`, { field: `${prefix}.email`, value: values.email, constraint: "unique" }, "ALREADY_EXISTS");
  }
  return err;
}

export async function insertUser(tx: Db, user: NewUser): Promise<UserRow> {
  try {
    const [row] = await tx
      .insert(users)
      .values({ id: uuidv7(), ...user })
      .returning();
    return row!;
  } catch (err) {
    throw duplicateOf(err, user, "user");
  }
}

/** Replaces a user's roles. The foreign key key-share-locks each role until the commit. */
export async function setRoles(tx: Db, userId: string, names: readonly string[]): Promise<void> {
  await tx.delete(userRoles).where(eq(userRoles.userId, userId));
  if (names.length > 0) await tx.insert(userRoles).values(names.map((roleName) => ({ userId, roleName })));
}

/** One page ordered by username (ids break the ties deleted users can make). */
export async function listUsers(db: Db, query: KeysetQuery<UserFilter>): Promise<UserRow[]> {
  const { filter, after } = query;
  const like = filter.query ? `%${filter.query.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
  return db
    .select()
    .from(users)
    .where(
      and(
        filter.showDeleted ? undefined : isNull(users.deletedAt),
        filter.active === undefined ? undefined : eq(users.active, filter.active),
        filter.role ? inArray(users.id, db.select({ id: userRoles.userId }).from(userRoles).where(eq(userRoles.roleName, filter.role))) : undefined,
        like ? or(ilike(users.username, like), ilike(users.email, like), ilike(users.displayName, like)) : undefined,
        after ? sql`(${users.username}, ${users.id}) > (${String(after[0])}, ${String(after[1])}::uuid)` : undefined,
      ),
    )
    .orderBy(asc(users.username), asc(users.id))
    .limit(query.limit);
}

/** Changes a live user (no etag: the user contract has none). */
export async function updateUser(tx: Db, id: string, changes: UserChanges): Promise<UserRow> {
  try {
    return await updateResource(tx, users, { kind: "user", id, etag: "", changes, fields: { id: "user.id", etag: "user.etag" } });
  } catch (err) {
    throw duplicateOf(err, changes, "user");
  }
}

export async function setPasswordHash(tx: Db, id: string, passwordHash: string): Promise<UserRow> {
  return updateResource(tx, users, { kind: "user", id, etag: "", changes: { passwordHash, passwordChangedAt: sql`now()` } });
}

/** Records a sign-in; with a new hash, upgrades the stored one to the current cost. */
export async function markSignedIn(tx: Db, id: string, rehashed?: string): Promise<UserRow> {
  const [row] = await tx
    .update(users)
    .set({ lastLoginAt: sql`now()`, ...(rehashed ? { passwordHash: rehashed } : {}) })
    .where(eq(users.id, id))
    .returning();
  return row!;
}

export const lockUser = (tx: Db, id: string) => lockRow(tx, users, id, "update");

/** Soft-deletes a user (and deactivates them); the caller has locked the row. */
export async function markDeleted(tx: Db, id: string): Promise<UserRow> {
  const [row] = await tx
    .update(users)
    .set({ deletedAt: sql`now()`, active: false, version: sql`${users.version} + 1`, updatedAt: sql`now()` })
    .where(eq(users.id, id))
    .returning();
  return row!;
}

/** Whether any live, active user holds the role. */
export async function anyLiveHolder(db: Db, role: string): Promise<boolean> {
  const [found] = await db
    .select({ id: users.id })
    .from(users)
    .innerJoin(userRoles, eq(userRoles.userId, users.id))
    .where(and(eq(userRoles.roleName, role), isNull(users.deletedAt), eq(users.active, true)))
    .limit(1);
  return found !== undefined;
}

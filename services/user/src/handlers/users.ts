import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  FailedPrecondition,
  NAME_MAX,
  Unauthenticated,
  alreadyDeleted,
  checkFields,
  fieldsToUpdate,
  inTransaction,
  invalid,
  notFound,
  presentIn,
  type Db,
  type FieldChecker,
  type ServiceImpl,
} from "@inv/platform";
import { UserSchema, type User, type UserService } from "@inv/gen/user/v1/user_pb";
import { checkPassword } from "../domain/passwords.js";
import { QUERY_MAX, checkEmail, checkRoleNames, checkUsername } from "../domain/rules.js";
import { toUser } from "../mapping.js";
import { revokeKeysOf } from "../store/api-keys.js";
import { keysetPage } from "../store/paging.js";
import { requireRoles } from "../store/roles.js";
import { revokeSessions } from "../store/sessions.js";
import type { UserRow } from "../store/schema.js";
import {
  findUser,
  insertUser,
  listUsers,
  lockUser,
  markDeleted,
  refuseDuplicates,
  setPasswordHash,
  setRoles,
  updateUser,
  viewOf,
  withRoles,
  type UserChanges,
} from "../store/users.js";
import { actingUserId, requireSession } from "./caller.js";
import type { UserDeps } from "./deps.js";

type Impl = ServiceImpl<typeof UserService>;

const MUTABLE = ["email", "display_name", "active", "roles"];
const USER_FIELDS = { username: "user.username", email: "user.email" };
const PAGE_SIZES = { default: 50, max: 500 };

/** The changes an update makes, from the fields its mask (or AIP-134) chose, each checked. */
function changesOf(v: FieldChecker, u: User, fields: readonly string[]): { changes: UserChanges; roles?: string[] } {
  const changes: UserChanges = {};
  let roles: string[] | undefined;
  for (const field of fields) {
    if (field === "email") changes.email = checkEmail(v, "user.email", u.email);
    else if (field === "display_name") changes.displayName = v.text("user.display_name", u.displayName, { max: NAME_MAX });
    else if (field === "active") changes.active = u.active ?? false;
    else roles = checkRoleNames(v, "user.roles", u.roles);
  }
  return roles ? { changes, roles } : { changes };
}

/** Locks a live user for a change: NOT_FOUND when missing, FAILED_PRECONDITION when deleted. */
async function lockLiveUser(tx: Db, id: string, field = "id"): Promise<UserRow> {
  const row = await lockUser(tx, id);
  if (!row) throw notFound("user", id, field);
  if (row.deletedAt) throw alreadyDeleted("user", id, field);
  return row;
}

export function userHandlers({ db, passwords, throttle, invalidate }: UserDeps) {
  const createUser: Impl["createUser"] = async ({ user: u, password }, ctx) => {
    if (!u) throw invalid("user", "required", "user is required");
    const values = checkFields((v) => {
      const username = checkUsername(v, "user.username", u.username);
      return {
        username,
        email: checkEmail(v, "user.email", u.email),
        displayName: v.text("user.display_name", u.displayName, { max: NAME_MAX }),
        active: u.active ?? true,
        roles: checkRoleNames(v, "user.roles", u.roles),
        password: checkPassword(v, "password", password, username),
      };
    });
    // The cheap refusals come before the deliberately slow hash.
    await refuseDuplicates(db, values, USER_FIELDS);
    await requireRoles(db, values.roles, "user.roles");
    const passwordHash = await passwords.hash(values.password);
    const view = await inTransaction(db, async (tx) => {
      await requireRoles(tx, values.roles, "user.roles");
      const row = await insertUser(tx, {
        username: values.username,
        email: values.email,
        displayName: values.displayName || values.username,
        active: values.active,
        passwordHash,
        createdBy: actingUserId(ctx),
      });
      await setRoles(tx, row.id, values.roles);
      await ctx.audit(tx, { resourceType: "User", resourceId: row.id, details: { username: row.username, roles: values.roles } });
      return viewOf(tx, row);
    });
    return { user: toUser(view) };
  };

  const getUser: Impl["getUser"] = async ({ id }) => {
    const key = checkFields((v) => v.id("id", id));
    const row = await findUser(db, key);
    if (!row) throw notFound("user", key);
    return { user: toUser(await viewOf(db, row)) };
  };

  const listUsersHandler: Impl["listUsers"] = async (req) => {
    const filter = checkFields((v) => ({
      active: req.active,
      role: req.role || undefined,
      query: v.text("query", req.query, { max: QUERY_MAX }) || undefined,
      showDeleted: req.showDeleted,
    }));
    const page = await keysetPage(
      req,
      filter,
      PAGE_SIZES,
      async (query) => withRoles(db, await listUsers(db, query)),
      (view) => [view.row.username, view.row.id],
      toUser,
    );
    return { users: page.items, nextPageToken: page.nextPageToken };
  };

  /** Deactivating ends the user's sessions; a change of roles or activity is announced. */
  const updateUserHandler: Impl["updateUser"] = async ({ user: u, updateMask }, ctx) => {
    if (!u) throw invalid("user", "required", "user is required");
    const fields = fieldsToUpdate(updateMask?.paths, { mutable: MUTABLE, present: presentIn(UserSchema, u) });
    const { id, changes, roles } = checkFields((v) => ({ id: v.id("user.id", u.id), ...changesOf(v, u, fields) }));
    const { view, ended } = await inTransaction(db, async (tx) => {
      const before = await lockLiveUser(tx, id, "user.id");
      if (changes.email) await refuseDuplicates(tx, { email: changes.email }, USER_FIELDS, id);
      if (changes.displayName === "") changes.displayName = before.username;
      const row = await updateUser(tx, id, changes);
      if (roles) {
        await requireRoles(tx, roles, "user.roles");
        await setRoles(tx, id, roles);
      }
      const ended = before.active && changes.active === false ? await revokeSessions(tx, { userId: id }, "user_deactivated") : [];
      await ctx.audit(tx, { resourceType: "User", resourceId: id, details: { fields, ...(roles ? { roles } : {}), endedSessions: ended.length } });
      return { view: await viewOf(tx, row), ended };
    });
    if (roles || changes.active !== undefined) await invalidate({ users: [id], sessions: ended });
    return { user: toUser(view) };
  };

  /** Soft-deletes a user, ends their sessions and revokes their API keys; a retry returns the deleted user. */
  const deleteUserHandler: Impl["deleteUser"] = async ({ id }, ctx) => {
    const key = checkFields((v) => v.id("id", id));
    if (actingUserId(ctx) === key && ctx.caller.principal.kind === "user") {
      throw new FailedPrecondition("you cannot delete yourself", { field: "id", value: key, constraint: "not_self" }, "DELETE_SELF");
    }
    const { view, sessions, keys } = await inTransaction(db, async (tx) => {
      const row = await lockUser(tx, key);
      if (!row) throw notFound("user", key);
      if (row.deletedAt) return { view: await viewOf(tx, row), sessions: [], keys: [] };
      const deleted = await markDeleted(tx, key);
      const sessions = await revokeSessions(tx, { userId: key }, "user_deleted");
      const keys = await revokeKeysOf(tx, key, actingUserId(ctx));
      await ctx.audit(tx, {
        resourceType: "User",
        resourceId: key,
        details: { username: row.username, endedSessions: sessions.length, revokedApiKeys: keys.length },
      });
      return { view: await viewOf(tx, deleted), sessions, keys };
    });
    await invalidate({ users: [key], sessions, apiKeys: keys });
    return { user: toUser(view) };
  };

  const assignRoles: Impl["assignRoles"] = async ({ id, roles }, ctx) => {
    const request = checkFields((v) => ({ id: v.id("id", id), roles: checkRoleNames(v, "roles", roles) }));
    const view = await inTransaction(db, async (tx) => {
      await lockLiveUser(tx, request.id);
      await requireRoles(tx, request.roles, "roles");
      await setRoles(tx, request.id, request.roles);
      const row = await updateUser(tx, request.id, {});
      await ctx.audit(tx, { resourceType: "User", resourceId: request.id, details: { roles: request.roles } });
      return viewOf(tx, row);
    });
    await invalidate({ users: [request.id] });
    return { user: toUser(view) };
  };

  /** An administrator's reset: every session of the user ends, since whoever held them may be why. */
  const setUserPassword: Impl["setUserPassword"] = async ({ id, password }, ctx) => {
    const key = checkFields((v) => {
      checkPassword(v, "password", password);
      return v.id("id", id);
    });
    const user = await findUser(db, key);
    if (!user) throw notFound("user", key);
    if (user.deletedAt) throw alreadyDeleted("user", key);
    checkFields((v) => checkPassword(v, "password", password, user.username));
    const passwordHash = await passwords.hash(password);
    const { view, ended } = await inTransaction(db, async (tx) => {
      await lockLiveUser(tx, key);
      const row = await setPasswordHash(tx, key, passwordHash);
      const ended = await revokeSessions(tx, { userId: key }, "password_set");
      await ctx.audit(tx, { resourceType: "User", resourceId: key, details: { endedSessions: ended.length } });
      return { view: await viewOf(tx, row), ended };
    });
    await invalidate({ sessions: ended });
    return { user: toUser(view) };
  };

  /**
   * The caller's own change, proven with the current password (throttled like a sign-in, so it
   * cannot be used to guess). The other sessions end; the one making the call stays.
   */
  const changeMyPassword: Impl["changeMyPassword"] = async ({ currentPassword, newPassword }, ctx) => {
    const me = requireSession(ctx, "ChangeMyPassword");
    const user = await findUser(db, me.subject);
    if (!user || user.deletedAt) throw new Unauthenticated("the signed-in user no longer exists", [], "UNAUTHENTICATED");
    checkFields((v) => {
      if (currentPassword === "") v.fail("current_password", "required", "current_password is required");
      checkPassword(v, "new_password", newPassword, user.username);
      if (newPassword === currentPassword && !v.has("new_password")) {
        v.fail("new_password", "same_as_current", "new_password must differ from the current password");
      }
    });
    await throttle.check(user.username, ctx.caller.clientIp);
    if (!(await passwords.verify(user.passwordHash, currentPassword))) {
      await throttle.failed(user.username, ctx.caller.clientIp);
      throw new Unauthenticated("current_password is wrong", { field: "current_password", constraint: "matches" }, "WRONG_PASSWORD");
    }
    await throttle.succeeded(user.username);
    const passwordHash = await passwords.hash(newPassword);
    const { row, ended } = await inTransaction(db, async (tx) => {
      await lockLiveUser(tx, user.id);
      const row = await setPasswordHash(tx, user.id, passwordHash);
      const ended = await revokeSessions(tx, { userId: user.id, except: me.sessionId }, "password_changed");
      await ctx.audit(tx, { resourceType: "User", resourceId: user.id, details: { endedSessions: ended.length } });
      return { row, ended };
    });
    await invalidate({ sessions: ended });
    return { passwordChangeTime: timestampFromDate(row.passwordChangedAt) };
  };

  return {
    createUser,
    getUser,
    listUsers: listUsersHandler,
    updateUser: updateUserHandler,
    deleteUser: deleteUserHandler,
    assignRoles,
    setUserPassword,
    changeMyPassword,
  } satisfies Partial<Impl>;
}

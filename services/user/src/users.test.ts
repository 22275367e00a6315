/**
 * Users, roles and permissions over gRPC: every RPC, every violation at once, and the status
 * codes of duplicates, unknown names and built-in roles.
 */
import { TokenService } from "@inv/gen/user/v1/token_pb";
import { toJsonString } from "@bufbuild/protobuf";
import { ApiKeyState, UserSchema, UserService } from "@inv/gen/user/v1/user_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, failure, startUserService, uniqueName, type UserTestService } from "./testing/support.js";

let t: UserTestService;
const PASSWORD = "Tr0ub4dor&3-horse";

beforeAll(async () => {
  t = await startUserService();
});
afterAll(() => t?.stop());

const newUser = async (roles: string[] = ["viewer"], extra: { active?: boolean } = {}) => {
  const username = uniqueName();
  const { user } = await t.admin.createUser({ user: { username, email: `${username}@example.com`, roles, ...extra }, password: PASSWORD });
  return user!;
};
const introspect = (token: string) => t.asService(TokenService).introspectToken({ token });

describe("CreateUser and GetUser", () => {
  it("creates a user lower-cased, with defaults, the union of its roles' permissions and its creator; never a password", async () => {
    const name = uniqueName("Mixed.Case");
    const { user } = await t.admin.createUser({ user: { username: name, email: `${name}@Example.COM`, roles: ["viewer", "clerk"] }, password: PASSWORD });
    const me = await t.admin.getMe({});
    expect(user).toMatchObject({
      username: name.toLowerCase(),
      email: `${name.toLowerCase()}@example.com`,
      displayName: name.toLowerCase(),
      active: true,
      roles: ["clerk", "viewer"],
      createdBy: me.user!.id,
    });
    expect(user!.permissions).toEqual([
      "item.read",
      "report.read",
      "reservation.manage",
      "reservation.read",
      "stock.read",
      "stock.write",
      "unit.read",
      "unit.write",
      "warehouse.read",
    ]);
    expect(user!.passwordChangeTime).toBeDefined();
    expect(user!.lastLoginTime).toBeUndefined();
    expect(toJsonString(UserSchema, user!)).not.toContain(PASSWORD);
    expect((await t.admin.getUser({ id: user!.id })).user).toEqual(user);
  });

  it("an empty create names every field at fault at once", async () => {
    expect(await failure(t.admin.createUser({ user: {}, password: "" }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      fields: ["user.username", "user.email", "password"],
      constraints: ["required", "required", "required"],
    });
    expect(await failure(t.admin.createUser({ password: PASSWORD }))).toMatchObject({ code: "INVALID_ARGUMENT", fields: ["user"] });
    const many = await failure(
      t.admin.createUser({ user: { username: "x y", email: "nope", displayName: "d".repeat(201), roles: ["Bad Role"] }, password: "short" }),
    );
    expect(many.fields).toEqual(["user.username", "user.email", "user.display_name", "user.roles[0]", "password"]);
  });

  it.each([
    ["Sh0rt-1", "min_length"],
    ["onlylowercaseletters", "character_classes"],
    ["Password2024!!", "common_password"],
    ["xx-{name}-Secure-9", "contains_username"],
    [`Aa1-${"z".repeat(260)}`, "max_length"],
  ])("refuses the weak password %j naming the rule %s, and creates nothing", async (template, rule) => {
    const username = uniqueName("weak");
    const f = await failure(t.admin.createUser({ user: { username, email: `${username}@example.com` }, password: template.replace("{name}", username) }));
    expect(f).toMatchObject({ code: "INVALID_ARGUMENT", fields: ["password"], constraints: [rule] });
    expect(f.message).not.toContain(template.replace("{name}", username));
    expect((await t.admin.listUsers({ query: username })).users).toEqual([]);
  });

  it("a taken username or email, in any case, is ALREADY_EXISTS naming each taken field", async () => {
    const u = await newUser();
    expect(await failure(t.admin.createUser({ user: { username: u.username.toUpperCase(), email: "fresh@example.com" }, password: PASSWORD }))).toMatchObject({
      code: "ALREADY_EXISTS",
      fields: ["user.username"],
    });
    expect(await failure(t.admin.createUser({ user: { username: uniqueName(), email: u.email.toUpperCase() }, password: PASSWORD }))).toMatchObject({
      code: "ALREADY_EXISTS",
      fields: ["user.email"],
    });
    // Both at once: the message names both (the status details carry the first field).
    const both = await failure(t.admin.createUser({ user: { username: u.username, email: u.email }, password: PASSWORD }));
    expect(both).toMatchObject({ code: "ALREADY_EXISTS", fields: ["user.username"] });
    expect(both.message).toContain(`username "${u.username}" is taken; email "${u.email}" is taken`);
  });

  it("of concurrent creates with one username, exactly one wins; the rest are ALREADY_EXISTS", async () => {
    const username = uniqueName("race");
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        t.admin.createUser({ user: { username, email: `${username}-${i}@example.com` }, password: PASSWORD }).then(
          () => "created",
          async (e: unknown) => (await failure(Promise.reject(e))).code,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === "created")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "ALREADY_EXISTS")).toHaveLength(9);
    expect((await t.admin.listUsers({ query: username })).users).toHaveLength(1);
  });

  it("an unknown role is FAILED_PRECONDITION and creates nothing", async () => {
    const username = uniqueName();
    expect(
      await failure(t.admin.createUser({ user: { username, email: `${username}@example.com`, roles: ["viewer", "ghost"] }, password: PASSWORD })),
    ).toMatchObject({
      code: "FAILED_PRECONDITION",
      reason: "ROLE_NOT_FOUND",
    });
    expect((await t.admin.listUsers({ query: username })).users).toEqual([]);
  });

  it("an unknown user is NOT_FOUND; a malformed id INVALID_ARGUMENT", async () => {
    expect(await failure(t.admin.getUser({ id: "00000000-0000-7000-8000-000000000000" }))).toMatchObject({ code: "NOT_FOUND", fields: ["id"] });
    expect(await failure(t.admin.getUser({ id: "nope" }))).toMatchObject({ code: "INVALID_ARGUMENT", fields: ["id"] });
  });
});

describe("ListUsers", () => {
  it("pages by username with the role, active and text filters, and shows deleted users only when asked", async () => {
    const stem = uniqueName("lst");
    const made = [];
    for (const [i, roles] of [["clerk"], ["viewer"], ["clerk", "viewer"], ["clerk"]].entries()) {
      const { user } = await t.admin.createUser({
        user: { username: `${stem}-${4 - i}`, email: `${stem}-${i}@example.com`, roles, active: i !== 1 },
        password: PASSWORD,
      });
      made.push(user!);
    }
    const names = (users: { username: string }[]) => users.map((u) => u.username);
    const all = await t.admin.listUsers({ query: stem, pageSize: 3 });
    expect(names(all.users)).toEqual([`${stem}-1`, `${stem}-2`, `${stem}-3`]);
    const rest = await t.admin.listUsers({ query: stem, pageSize: 3, pageToken: all.nextPageToken });
    expect(names(rest.users)).toEqual([`${stem}-4`]);
    expect(rest.nextPageToken).toBe("");
    expect(names((await t.admin.listUsers({ query: stem, role: "clerk" })).users)).toEqual([`${stem}-1`, `${stem}-2`, `${stem}-4`]);
    expect(names((await t.admin.listUsers({ query: stem, active: false })).users)).toEqual([`${stem}-3`]);
    expect(names((await t.admin.listUsers({ query: `${stem}-0@EXAMPLE` })).users)).toEqual([`${stem}-4`]);
    await t.admin.deleteUser({ id: made[0]!.id });
    expect(names((await t.admin.listUsers({ query: stem })).users)).not.toContain(`${stem}-4`);
    expect(names((await t.admin.listUsers({ query: stem, showDeleted: true })).users)).toContain(`${stem}-4`);
    expect(await failure(t.admin.listUsers({ query: stem, role: "viewer", pageToken: all.nextPageToken }))).toMatchObject({ fields: ["page_token"] });
    expect((await t.admin.listUsers({ query: "%" })).users).toEqual([]);
  });
});

describe("UpdateUser, AssignRoles, DeleteUser", () => {
  it("changes the fields in the mask; an unknown path, a taken email or a deleted user are refused", async () => {
    const u = await newUser();
    const other = await newUser();
    const { user } = await t.admin.updateUser({
      user: { id: u.id, email: "New@Example.com", displayName: "New Name" },
      updateMask: { paths: ["email", "display_name"] },
    });
    expect(user).toMatchObject({ email: "new@example.com", displayName: "New Name", username: u.username, roles: ["viewer"] });
    expect(await failure(t.admin.updateUser({ user: { id: u.id, username: "x" }, updateMask: { paths: ["username"] } }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      fields: ["update_mask"],
    });
    expect(await failure(t.admin.updateUser({ user: { id: u.id, email: other.email }, updateMask: { paths: ["email"] } }))).toMatchObject({
      code: "ALREADY_EXISTS",
      fields: ["user.email"],
    });
    const { user: roled } = await t.admin.updateUser({ user: { id: u.id, roles: ["clerk"] }, updateMask: { paths: ["roles"] } });
    expect(roled!.roles).toEqual(["clerk"]);
    expect(await failure(t.admin.updateUser({ user: { id: "00000000-0000-7000-8000-000000000000", displayName: "x" } }))).toMatchObject({ code: "NOT_FOUND" });
  });

  it("deactivating a user ends their sessions: refresh and access token both stop working", async () => {
    const u = await newUser();
    const session = await t.login(u.username, PASSWORD);
    expect((await introspect(session.accessToken)).active).toBe(true);
    await t.admin.updateUser({ user: { id: u.id, active: false }, updateMask: { paths: ["active"] } });
    expect((await introspect(session.accessToken)).active).toBe(false);
    expect(await failure(t.clientWith(UserService, {}).refresh({ refreshToken: session.refreshToken }))).toMatchObject({ code: "UNAUTHENTICATED" });
    expect(await failure(t.login(u.username, PASSWORD))).toMatchObject({ code: "UNAUTHENTICATED" });
    await t.admin.updateUser({ user: { id: u.id, active: true }, updateMask: { paths: ["active"] } });
    expect((await introspect(session.accessToken)).active).toBe(false); // the session stays ended
    expect((await t.login(u.username, PASSWORD)).accessToken).not.toBe("");
  });

  it("AssignRoles replaces the set; unknown roles are FAILED_PRECONDITION, unknown users NOT_FOUND", async () => {
    const u = await newUser(["viewer", "clerk"]);
    expect((await t.admin.assignRoles({ id: u.id, roles: ["manager"] })).user).toMatchObject({ roles: ["manager"] });
    expect((await t.admin.assignRoles({ id: u.id, roles: [] })).user).toMatchObject({ roles: [], permissions: [] });
    expect(await failure(t.admin.assignRoles({ id: u.id, roles: ["nobody-has-this"] }))).toMatchObject({ code: "FAILED_PRECONDITION" });
    expect(await failure(t.admin.assignRoles({ id: "00000000-0000-7000-8000-000000000000", roles: [] }))).toMatchObject({ code: "NOT_FOUND" });
    expect((await t.admin.getUser({ id: u.id })).user!.roles).toEqual([]);
  });

  it("DeleteUser soft-deletes, ends sessions, revokes API keys and frees the username; a retry returns the same user", async () => {
    const u = await newUser(["manager"]);
    const session = await t.login(u.username, PASSWORD);
    const { apiKey, secret } = await t.as(UserService, session.accessToken).createApiKey({ apiKey: { name: "k", role: "viewer" } });
    const { user: deleted } = await t.admin.deleteUser({ id: u.id });
    expect(deleted).toMatchObject({ active: false });
    expect(deleted!.deleteTime).toBeDefined();
    expect((await t.admin.deleteUser({ id: u.id })).user).toEqual(deleted);
    expect((await introspect(session.accessToken)).active).toBe(false);
    expect((await introspect(secret)).active).toBe(false);
    expect((await t.admin.getApiKey({ id: apiKey!.id })).apiKey).toMatchObject({ state: ApiKeyState.REVOKED });
    expect((await t.admin.getUser({ id: u.id })).user!.deleteTime).toBeDefined();
    const again = await t.admin.createUser({ user: { username: u.username, email: u.email }, password: PASSWORD });
    expect(again.user!.id).not.toBe(u.id);
  });

  it("a caller cannot delete themself", async () => {
    const me = (await t.admin.getMe({})).user!;
    expect(await failure(t.admin.deleteUser({ id: me.id }))).toMatchObject({ code: "FAILED_PRECONDITION", reason: "DELETE_SELF" });
  });
});

describe("passwords", () => {
  it("SetUserPassword refuses a weak password naming the rule, then sets it and ends every session of the user", async () => {
    const u = await newUser();
    const session = await t.login(u.username, PASSWORD);
    expect(await failure(t.admin.setUserPassword({ id: u.id, password: `${u.username}-Aa1` }))).toMatchObject({ constraints: ["contains_username"] });
    expect(await failure(t.admin.setUserPassword({ id: u.id, password: "" }))).toMatchObject({ constraints: ["required"] });
    const { user } = await t.admin.setUserPassword({ id: u.id, password: "Brand-New-Secret-42" });
    expect(user!.passwordChangeTime!.seconds).toBeGreaterThanOrEqual(u.passwordChangeTime!.seconds);
    expect((await introspect(session.accessToken)).active).toBe(false);
    expect(await failure(t.login(u.username, PASSWORD))).toMatchObject({ code: "UNAUTHENTICATED" });
    await t.login(u.username, "Brand-New-Secret-42");
    expect(await failure(t.admin.setUserPassword({ id: "00000000-0000-7000-8000-000000000000", password: "Brand-New-Secret-42" }))).toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("ChangeMyPassword needs the current password, a new and different one, and ends only the other sessions", async () => {
    const u = await newUser(["manager"]);
    const current = await t.login(u.username, PASSWORD);
    const other = await t.login(u.username, PASSWORD);
    const me = t.as(UserService, current.accessToken);
    expect(await failure(me.changeMyPassword({ currentPassword: "Wrong-Password-1", newPassword: "Another-Secret-77" }))).toMatchObject({
      code: "UNAUTHENTICATED",
    });
    expect(await failure(me.changeMyPassword({ currentPassword: PASSWORD, newPassword: PASSWORD }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      constraints: ["same_as_current"],
    });
    expect(await failure(me.changeMyPassword({ currentPassword: "", newPassword: "weak" }))).toMatchObject({ fields: ["current_password", "new_password"] });
    const { passwordChangeTime } = await me.changeMyPassword({ currentPassword: PASSWORD, newPassword: "Another-Secret-77" });
    expect(passwordChangeTime).toBeDefined();
    expect((await introspect(current.accessToken)).active).toBe(true);
    expect((await introspect(other.accessToken)).active).toBe(false);
    await t.login(u.username, "Another-Secret-77");
    const { secret } = await me.createApiKey({ apiKey: { name: "k", role: "viewer" } });
    expect(await failure(t.as(UserService, secret).changeMyPassword({ currentPassword: "Another-Secret-77", newPassword: "Third-Secret-88" }))).toMatchObject({
      code: "FAILED_PRECONDITION",
    });
  });
});

describe("roles", () => {
  it("creates, reads, lists, updates and deletes a role", async () => {
    const name = `night-${process.pid}`;
    const { role } = await t.admin.createRole({ role: { name, description: "Night shift", permissions: ["stock.write", "item.*", "stock.write"] } });
    expect(role).toMatchObject({ name, displayName: name, description: "Night shift", permissions: ["item.*", "stock.write"], builtIn: false });
    expect((await t.admin.getRole({ name })).role).toEqual(role);
    const granting = (await t.admin.listRoles({ permission: "item.write" })).roles.map((r) => r.name);
    expect(granting).toEqual(["admin", "manager", name]);
    const paged = await t.admin.listRoles({ pageSize: 2 });
    expect(paged.roles.map((r) => r.name)).toEqual(["admin", "clerk"]);
    expect((await t.admin.listRoles({ pageSize: 2, pageToken: paged.nextPageToken })).roles.map((r) => r.name)).toEqual(["manager", name]);
    const { role: updated } = await t.admin.updateRole({
      role: { name, permissions: ["stock.read"], displayName: "Nights" },
      updateMask: { paths: ["permissions", "display_name"] },
    });
    expect(updated).toMatchObject({ permissions: ["stock.read"], displayName: "Nights", description: "Night shift" });
    expect((await t.admin.deleteRole({ name })).role).toMatchObject({ name, permissions: ["stock.read"] });
    expect(await failure(t.admin.getRole({ name }))).toMatchObject({ code: "NOT_FOUND", fields: ["name"] });
  });

  it("refuses bad names, unknown permissions (all at once), duplicates and unknown roles", async () => {
    expect(await failure(t.admin.createRole({ role: { name: "X", permissions: ["stock.fly", "*", "nope.*"] } }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      fields: ["role.name", "role.permissions[0]", "role.permissions[2]"],
    });
    expect(await failure(t.admin.createRole({ role: { name: "viewer" } }))).toMatchObject({ code: "ALREADY_EXISTS", fields: ["role.name"] });
    expect(await failure(t.admin.updateRole({ role: { name: "ghost-role", description: "x" } }))).toMatchObject({ code: "NOT_FOUND" });
    expect(await failure(t.admin.deleteRole({ name: "ghost-role" }))).toMatchObject({ code: "NOT_FOUND" });
  });

  it("built-in roles cannot be changed or deleted", async () => {
    expect(await failure(t.admin.updateRole({ role: { name: "viewer", permissions: ["*"] } }))).toMatchObject({
      code: "FAILED_PRECONDITION",
      reason: "BUILT_IN_ROLE",
    });
    expect(await failure(t.admin.deleteRole({ name: "admin" }))).toMatchObject({ code: "FAILED_PRECONDITION", reason: "BUILT_IN_ROLE" });
    expect((await t.admin.getRole({ name: "viewer" })).role!.permissions).not.toContain("*");
  });

  it("a role held by a live user or an active API key cannot be deleted; the message gives the counts", async () => {
    const name = `held-${process.pid}`;
    await t.admin.createRole({ role: { name, permissions: ["stock.read"] } });
    const u = await newUser([name]);
    const held = await failure(t.admin.deleteRole({ name }));
    expect(held).toMatchObject({ code: "FAILED_PRECONDITION", reason: "IN_USE" });
    expect(held.message).toContain("1 user(s) and 0 active API key(s)");
    await t.admin.assignRoles({ id: u.id, roles: [] });
    const { apiKey } = await t.admin.createApiKey({ apiKey: { name: "k", role: name } });
    expect((await failure(t.admin.deleteRole({ name }))).message).toContain("0 user(s) and 1 active API key(s)");
    await t.admin.revokeApiKey({ id: apiKey!.id });
    await t.admin.deleteRole({ name });
  });

  it("ListPermissions lists every declared permission with a description and its methods, by domain on request", async () => {
    const { permissions } = await t.admin.listPermissions({});
    expect(permissions.map((p) => p.name)).toEqual(
      expect.arrayContaining(["apikey.manage", "audit.read", "stock.write", "token.introspect", "user.admin", "warehouse.write"]),
    );
    expect(permissions.every((p) => p.description !== "" && p.methods.length > 0)).toBe(true);
    expect(permissions.find((p) => p.name === "user.admin")!.methods).toContain("user.v1.UserService.CreateUser");
    expect((await t.admin.listPermissions({ domain: "stock" })).permissions.map((p) => p.name)).toEqual(["stock.hold", "stock.read", "stock.write"]);
  });

  it("the built-in roles are seeded", async () => {
    const { roles } = await t.admin.listRoles({});
    expect(roles.filter((r) => r.builtIn).map((r) => r.name)).toEqual(["admin", "clerk", "manager", "service", "viewer"]);
    expect(roles.find((r) => r.name === "admin")!.permissions).toEqual(["*"]);
  });
});

describe("access", () => {
  it("a viewer may not administer users; an anonymous caller is UNAUTHENTICATED", async () => {
    const u = await newUser(["viewer"]);
    const { accessToken } = await t.login(u.username, PASSWORD);
    expect(await failure(t.as(UserService, accessToken).listUsers({}))).toMatchObject({ code: "PERMISSION_DENIED" });
    expect(await failure(t.clientWith(UserService, {}).getMe({}))).toMatchObject({ code: "UNAUTHENTICATED" });
    expect(ADMIN.username).toBe((await t.admin.getMe({})).user!.username);
  });
});

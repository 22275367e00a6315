/**
 * Properties of identity and access, over gRPC against a real database: who a login makes you,
 * and that credentials stay unique and rights stay current.
 */
import { serviceProcesses } from "@inv/service-catalog/descriptors";
import { TokenService } from "@inv/gen/user/v1/token_pb";
import { UserService } from "@inv/gen/user/v1/user_pb";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILT_IN_ROLE_PERMISSIONS } from "./domain/built-in-roles.js";
import { PermissionCatalog } from "./domain/permissions.js";
import { failure, startUserService, type UserTestService } from "./testing/support.js";
import { propertyRuns } from "@inv/platform/testing";

let t: UserTestService;
const catalog = new PermissionCatalog(serviceProcesses.flatMap((p) => p.services));
const grantable = [...catalog.permissions.map((p) => p.name), "*", "stock.*", "item.*", "user.*"];
const permissionSet = fc.uniqueArray(fc.constantFrom(...grantable), { maxLength: 6 });

/** Custom roles made for the properties, with the permissions each has now. */
const custom = new Map<string, string[]>();
const permissionsOf = (role: string) => custom.get(role) ?? [...(BUILT_IN_ROLE_PERMISSIONS[role as keyof typeof BUILT_IN_ROLE_PERMISSIONS] ?? [])];
const union = (roles: readonly string[]) => [...new Set(roles.flatMap(permissionsOf))].sort();

beforeAll(async () => {
  t = await startUserService();
  const sets = [["stock.read", "stock.write"], ["item.*", "report.read"], ["*"], [], ["unit.read", "warehouse.read", "stock.read"]];
  for (const [i, permissions] of sets.entries()) {
    const name = `prop-${i}`;
    await t.admin.createRole({ role: { name, permissions } });
    custom.set(name, [...permissions].sort());
  }
});
afterAll(() => t?.stop());

let seq = 0;
const introspect = (token: string) => t.asService(TokenService).introspectToken({ token });
// Every role a person may hold ("service" is the platform's own).
const roleSet = () => fc.subarray(["admin", "manager", "clerk", "viewer", ...custom.keys()]);
/** A password that passes every rule, whatever the generated middle. */
const password = fc.stringMatching(/^[a-z0-9]{5,40}$/).map((middle) => `Kx7-${middle}-Qv`);

describe("Property 12: User Authentication and Authorization", () => {
  it("any valid login yields a session whose principal has exactly the union of the user's roles' permissions", async () => {
    await fc.assert(
      fc.asyncProperty(roleSet(), password, fc.boolean(), fc.boolean(), async (roles, secret, byEmail, shout) => {
        const username = `p12-${process.pid}-${++seq}`;
        const email = `${username}@example.com`;
        await t.admin.createUser({ user: { username, email, roles }, password: secret });
        const login = byEmail ? email : username;
        const session = await t.login(shout ? login.toUpperCase() : login, secret);
        const answer = await introspect(session.accessToken);
        expect(answer.active).toBe(true);
        expect(answer.principal!.roles).toEqual([...roles].sort());
        expect(answer.principal!.permissions).toEqual(union(roles));
        expect(session.user!.permissions).toEqual(union(roles));
        const me = await t.as(UserService, session.accessToken).getMe({});
        expect(me.principal!.permissions).toEqual(union(roles));
        // And only the right password opens it.
        expect(await failure(t.login(username, `${secret}x`))).toMatchObject({ code: "UNAUTHENTICATED" });
      }),
      { numRuns: propertyRuns() },
    );
  });
});

describe("Property 13: User Uniqueness and Role Management", () => {
  it("usernames and emails are unique among live users, whatever their case", async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[a-z0-9]{3,12}$/), fc.boolean(), fc.boolean(), async (stem, sameName, sameEmail) => {
        const username = `p13-${++seq}-${stem}`;
        const email = `${username}@example.com`;
        await t.admin.createUser({ user: { username, email }, password: "Kx7-unique-Qv" });
        const second = t.admin.createUser({
          user: { username: sameName ? username.toUpperCase() : `${username}-2`, email: sameEmail ? email.toUpperCase() : `${username}-2@example.com` },
          password: "Kx7-unique-Qv",
        });
        if (sameName || sameEmail) {
          expect(await failure(second)).toMatchObject({ code: "ALREADY_EXISTS", fields: [sameName ? "user.username" : "user.email"] });
          expect((await t.admin.listUsers({ query: username })).users.map((u) => u.username)).toEqual([username]);
        } else {
          await second;
          expect((await t.admin.listUsers({ query: username })).users.map((u) => u.username)).toEqual([username, `${username}-2`]);
        }
      }),
      { numRuns: propertyRuns() },
    );
  });

  it("a role modification changes the introspected permissions of a token already issued, on its next check", async () => {
    const username = `p13-holder-${process.pid}`;
    await t.admin.createUser({ user: { username, email: `${username}@example.com`, roles: ["viewer", "prop-0"] }, password: "Kx7-holder-Qv" });
    const { accessToken } = await t.login(username, "Kx7-holder-Qv");
    await fc.assert(
      fc.asyncProperty(permissionSet, fc.constantFrom("prop-0", "prop-1"), async (permissions, role) => {
        const held = (await t.admin.getUser({ id: (await t.as(UserService, accessToken).getMe({})).user!.id })).user!.roles;
        await t.admin.updateRole({ role: { name: role, permissions }, updateMask: { paths: ["permissions"] } });
        custom.set(role, [...permissions].sort());
        expect((await introspect(accessToken)).principal!.permissions).toEqual(union(held));
      }),
      { numRuns: propertyRuns() },
    );
  });
});

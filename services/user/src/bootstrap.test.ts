import { UserService } from "@inv/gen/user/v1/user_pb";
import { createLogger } from "@inv/platform";
import { describe, expect, it } from "vitest";
import { bootstrapAdmin, strongPassword } from "./bootstrap.js";
import { failure, startUserService, testSettings } from "./testing/support.js";

describe("the first administrator", () => {
  it("without ADMIN_PASSWORD: an admin with a generated password, printed once in a box, that signs in", async () => {
    const printed: string[] = [];
    const t = await startUserService(testSettings({ admin: {} }), { print: (text) => printed.push(text) });
    try {
      expect(printed).toHaveLength(1);
      expect(printed[0]).toContain("admin user created");
      expect(printed[0]).toContain("ChangeMyPassword");
      const password = /password\s+(\S+)/.exec(printed[0]!)![1]!;
      expect(password.length).toBeGreaterThanOrEqual(24);
      const { user } = await t.login("admin", password);
      expect(user).toMatchObject({ username: "admin", email: "admin@localhost", roles: ["admin"], createdBy: "" });

      // Once there is an administrator, another start creates nobody and prints nothing.
      await bootstrapAdmin({ ...t.handle.deps(), print: (text) => printed.push(text) });
      expect(printed).toHaveLength(1);
      const admins = await t.as(UserService, (await t.login("admin", password)).accessToken).listUsers({ role: "admin" });
      expect(admins.users).toHaveLength(1);
      const audit = await t.as(UserService, (await t.login("admin", password)).accessToken).listAuditEvents({ method: "bootstrap" });
      expect(audit.auditEvents).toHaveLength(1);
      expect(JSON.stringify(audit.auditEvents[0]!.details)).not.toContain(password);
    } finally {
      await t.stop();
    }
  });

  it("with ADMIN_USERNAME, ADMIN_PASSWORD and ADMIN_EMAIL: that account, and nothing printed", async () => {
    const printed: string[] = [];
    const t = await startUserService(testSettings({ admin: { username: "Boss", password: "Quite-Long-Secret-11", email: "boss@example.com" } }), {
      print: (text) => printed.push(text),
    });
    try {
      expect(printed).toEqual([]);
      expect((await t.login("boss@example.com", "Quite-Long-Secret-11")).user).toMatchObject({ username: "boss", roles: ["admin"] });
      expect(await failure(t.login("admin", "Quite-Long-Secret-11"))).toMatchObject({ code: "UNAUTHENTICATED" });
    } finally {
      await t.stop();
    }
  });

  it("a weak ADMIN_PASSWORD stops the start, naming the rule and not the password", async () => {
    const deps = { db: undefined as never, passwords: undefined as never, log: createLogger("user", "silent") };
    await expect(bootstrapAdmin({ ...deps, settings: { admin: { username: "boss", password: "password1234" } } })).rejects.toThrow(
      /ADMIN_PASSWORD is a commonly used password/,
    );
  });
});

describe("the generated administrator password", () => {
  it("never begins with '-', so it can be pasted as a command-line argument", () => {
    for (let i = 0; i < 2_000; i++) expect(strongPassword("admin")).not.toMatch(/^-/);
  });
});

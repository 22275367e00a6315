import { readFileSync } from "node:fs";
import { serviceProcesses } from "@inv/service-catalog/descriptors";
import { violationsOf } from "@inv/platform/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUILT_IN_ROLE_PERMISSIONS } from "./built-in-roles.js";
import { checkPassword } from "./passwords.js";
import { PERMISSION_DESCRIPTIONS, PermissionCatalog } from "./permissions.js";
import { checkEmail, checkPermissions, checkRoleName, checkUsername } from "./rules.js";

const catalog = new PermissionCatalog(serviceProcesses.flatMap((p) => p.services));
const passwordRule = (password: string, username = "") => violationsOf((v) => checkPassword(v, "password", password, username)).map((v) => v.constraint);

describe("passwords", () => {
  it.each([
    ["", "required"],
    ["Sh0rt!", "min_length"],
    [`Aa1!${"x".repeat(253)}`, "max_length"],
    ["alllowercaseletters", "character_classes"],
    ["123456789012345", "character_classes"],
    ["abababababab12", "few_distinct_characters"],
    ["Password12345!", "common_password"],
    ["P@ssw0rd2024!!", "common_password"],
    ["1234qwertyuiop", "common_password"],
    ["my-name-is-alice-99", "contains_username"],
  ])("refuses %j naming the rule %s", (password, rule) => {
    expect(passwordRule(password, "alice")).toEqual([rule]);
  });

  it("takes long mixed passwords, and never echoes the password back", () => {
    expect(passwordRule("Correct-Horse-7-Battery", "alice")).toEqual([]);
    const [violation] = violationsOf((v) => checkPassword(v, "password", "Password12345!"));
    expect(violation?.value).toBeUndefined();
    expect(violation?.description).not.toContain("Password12345!");
  });

  it("counts characters, not UTF-16 units: 12 emoji and a digit are long enough", () => {
    expect(passwordRule(`${"🔑".repeat(4)}${"🗝️".repeat(4)}ab1Zq`)).toEqual([]);
  });

  it("Property: any password of 12 to 256 characters mixing a lower-case letter, an upper-case letter, a digit and 5+ distinct characters is accepted unless it contains the username or a common word", () => {
    const word = fc.stringMatching(/^[a-km-z]{7,20}$/).filter((w) => !/pass|qwer|asdf|admin|abc|user|test|root|guest|login|secret|master/.test(w));
    fc.assert(
      fc.property(word, fc.integer({ min: 10, max: 99 }), (w, n) => {
        const password = `${w}X${n}-Q`;
        return passwordRule(password, "user-9").length === 0 || new Set(password).size < 5;
      }),
      { numRuns: 100 },
    );
  });
});

describe("usernames, emails and role names", () => {
  it("usernames are lower-cased and limited to 3 to 64 of a-z, 0-9, '.', '_' and '-'", () => {
    expect(violationsOf((v) => expect(checkUsername(v, "u", " Alice.B ")).toBe("alice.b"))).toEqual([]);
    for (const bad of ["ab", "a b", "x".repeat(65), "al!ce", "élodie"]) {
      expect(violationsOf((v) => checkUsername(v, "u", bad)).map((x) => x.constraint)).toEqual(["pattern"]);
    }
    expect(violationsOf((v) => checkUsername(v, "u", "")).map((x) => x.constraint)).toEqual(["required"]);
  });

  it("Property: every string of 3 to 64 allowed characters, in any case, is a username equal to its lower case", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z0-9._-]{3,64}$/), (name) => {
        const violations = violationsOf((v) => expect(checkUsername(v, "u", name)).toBe(name.toLowerCase()));
        return violations.length === 0;
      }),
      { numRuns: 100 },
    );
  });

  it("emails are lower-cased, at most 254 characters and plausibly shaped", () => {
    expect(violationsOf((v) => expect(checkEmail(v, "e", "Ann@Example.COM")).toBe("ann@example.com"))).toEqual([]);
    expect(violationsOf((v) => checkEmail(v, "e", "admin@localhost"))).toEqual([]);
    for (const bad of ["ann", "ann@", "@example.com", "a b@example.com", "ann@exa mple.com", "ann@@example.com", "ann@-example.com"]) {
      expect(violationsOf((v) => checkEmail(v, "e", bad)).map((x) => x.constraint)).toEqual(["format"]);
    }
    expect(violationsOf((v) => checkEmail(v, "e", `${"a".repeat(60)}@${"b".repeat(200)}.com`)).map((x) => x.constraint)).toEqual(["max_length"]);
  });

  it("role names are 2 to 64 of a-z, 0-9, '_' and '-'", () => {
    expect(violationsOf((v) => checkRoleName(v, "r", "night_shift-2"))).toEqual([]);
    for (const bad of ["a", "Night", "night shift", "x".repeat(65), "a.b"]) {
      expect(violationsOf((v) => checkRoleName(v, "r", bad)).map((x) => x.constraint)).toEqual(["pattern"]);
    }
  });
});

describe("permissions", () => {
  it("every permission a contract declares has a one-sentence description", () => {
    const undocumented = catalog.permissions.filter((p) => !PERMISSION_DESCRIPTIONS[p.name]).map((p) => p.name);
    expect(undocumented).toEqual([]);
    for (const p of catalog.permissions) expect(p.description).toMatch(/^[A-Z].*\.$/);
  });

  it("the description table names no permission that no contract declares", () => {
    expect(Object.keys(PERMISSION_DESCRIPTIONS).filter((name) => !catalog.permissions.some((p) => p.name === name))).toEqual([]);
  });

  it("lists the declared permissions sorted, without public and authenticated, with their sorted full method names", () => {
    const names = catalog.permissions.map((p) => p.name);
    expect(names).toEqual([...names].sort());
    expect(names).not.toContain("public");
    expect(names).not.toContain("authenticated");
    const stock = catalog.permissions.find((p) => p.name === "stock.write")!;
    expect(stock.methods).toContain("inventory.v1.StockService.AdjustStock");
    expect(stock.methods).toEqual([...stock.methods].sort());
    expect(catalog.list("user").map((p) => p.name)).toEqual(["user.admin", "user.read"]);
  });

  it("roles may grant declared permissions, '*' and wildcards of declared domains only", () => {
    expect(
      violationsOf((v) => expect(checkPermissions(v, "p", ["stock.write", "*", "item.*", "stock.write"], catalog)).toEqual(["*", "item.*", "stock.write"])),
    ).toEqual([]);
    const bad = violationsOf((v) => checkPermissions(v, "p", ["stock.fly", "nothing.*", "stock", "*.*", "stock.read"], catalog));
    expect(bad.map((x) => x.field)).toEqual(["p[0]", "p[1]", "p[2]", "p[3]"]);
  });

  it("every permission of the built-in roles is grantable, and migration 0001 seeds exactly these sets", () => {
    const migration = readFileSync(new URL("../../drizzle/0001_built_in_roles.sql", import.meta.url), "utf8");
    for (const [role, permissions] of Object.entries(BUILT_IN_ROLE_PERMISSIONS)) {
      for (const p of permissions) expect(catalog.isGrantable(p), `${role}: ${p}`).toBe(true);
      expect(permissions).toEqual([...permissions].sort());
      const seeded = new RegExp(`\\('${role}',[^\\n]*\\n?\\s*ARRAY\\[([^\\]]*)\\]`).exec(migration)?.[1];
      expect(
        seeded?.split(",").map((s) => s.trim().replace(/'/g, "")),
        role,
      ).toEqual(permissions);
    }
  });
});

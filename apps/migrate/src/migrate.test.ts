/**
 * migrateAll against a database of this file's own, one run after another: what a bad URL
 * refuses, the roles and rights a first run leaves, a second run changing nothing, a rotated
 * password, and the services starting as their roles afterwards.
 */
import { randomBytes } from "node:crypto";
import { openDatabase } from "@inv/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataOwners } from "./config.js";
import { migrateAll, type ServiceMigration, scramVerifier, serviceDatabases } from "./index.js";
import {
  createMigrateTestDatabase,
  expectServiceRights,
  type MigrateTestDatabase,
  passwordMatches,
  POSTGRES_ONLY,
  rightsAndState,
  rolesOfRun,
  serviceSchemas,
  skipWithoutPostgres,
  testLog as log,
} from "./testing.js";

describe.skipIf(skipWithoutPostgres)(`migrateAll ${POSTGRES_ONLY}`, () => {
  let t: MigrateTestDatabase;
  let first: ServiceMigration[];
  beforeAll(async () => {
    t = await createMigrateTestDatabase();
  });
  afterAll(() => t?.drop());

  const run = (serviceUrls = t.serviceUrls(), adminUrl = t.adminUrl) => migrateAll({ adminUrl, serviceUrls, log });

  async function expectNothingCreated() {
    expect(await rolesOfRun(t)).toEqual([]);
    expect(await serviceSchemas(t)).toEqual([]);
  }

  it("refuses a malformed or misdirected service URL before changing anything, naming the variable and never the password", async () => {
    const password = "S3cret-never-logged";
    const warehouse = new URL(t.urlOf("warehouse", { password }));
    const variant = (parts: Partial<Pick<URL, "protocol" | "username" | "password" | "pathname">>) => Object.assign(new URL(warehouse), parts).toString();
    const cases: [string | undefined, RegExp][] = [
      [undefined, /^WAREHOUSE_DATABASE_URL is not set$/],
      [`not a url ${password}`, /^WAREHOUSE_DATABASE_URL is not a URL/],
      [variant({ protocol: "mysql:" }), /^WAREHOUSE_DATABASE_URL is not a postgres:\/\/ URL$/],
      [variant({ username: "" }), /^WAREHOUSE_DATABASE_URL names no role/],
      [variant({ username: encodeURIComponent(`x"; DROP ROLE postgres; --`) }), /^WAREHOUSE_DATABASE_URL names a role this task does not create/],
      [variant({ username: "Warehouse" }), /^WAREHOUSE_DATABASE_URL names a role this task does not create/],
      [variant({ username: "pg_warehouse" }), /^WAREHOUSE_DATABASE_URL names a role this task does not create/],
      [variant({ username: "public" }), /^WAREHOUSE_DATABASE_URL names a role this task does not create/],
      [variant({ username: "a".repeat(64) }), /^WAREHOUSE_DATABASE_URL names a role this task does not create/],
      [variant({ password: "" }), /^WAREHOUSE_DATABASE_URL has no password$/],
      [variant({ password: "%E0%A4%A" }), /^WAREHOUSE_DATABASE_URL holds a malformed %-escape$/],
      [variant({ pathname: "/elsewhere" }), /^WAREHOUSE_DATABASE_URL names database "elsewhere", but DATABASE_ADMIN_URL connects to/],
      [variant({ username: t.roleOf("inventory") }), /^WAREHOUSE_DATABASE_URL and INVENTORY_DATABASE_URL name the same role/],
      [variant({ username: t.adminRole }), /^WAREHOUSE_DATABASE_URL names the role of DATABASE_ADMIN_URL/],
    ];
    for (const [url, expected] of cases) {
      const failure = await run({ ...t.serviceUrls(), warehouse: url }).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(failure?.message, String(url)).toMatch(expected);
      expect(failure?.message).not.toContain(password);
      expect(failure?.name).toBe("MigrateError");
    }
    await expectNothingCreated();
  });

  it("refuses a bad admin URL, or an admin that may not create roles, before changing anything", async () => {
    const unreachable = new URL(t.adminUrl);
    unreachable.port = "1";
    const noDatabase = new URL(t.adminUrl);
    noDatabase.pathname = `/${t.name}_missing`;
    const weak = `${t.name}_weak`;
    await t.sql.unsafe(`CREATE ROLE ${weak} LOGIN PASSWORD 'weak'`);
    const cases: [string, RegExp][] = [
      ["", /^DATABASE_ADMIN_URL is not set$/],
      ["localhost:5432/postgres", /^DATABASE_ADMIN_URL is not a postgres:\/\/ URL$/],
      ["127.0.0.1:5432", /^DATABASE_ADMIN_URL is not a URL/],
      [unreachable.toString(), /^cannot connect with DATABASE_ADMIN_URL: .*ECONNREFUSED/],
      [noDatabase.toString(), new RegExp(`^cannot connect with DATABASE_ADMIN_URL: database "${t.name}_missing" does not exist$`)],
      [t.urlAs(weak, "weak"), new RegExp(`^the role of DATABASE_ADMIN_URL \\(${weak}\\) may not create roles$`)],
    ];
    for (const [adminUrl, expected] of cases) {
      await expect(run(t.serviceUrls(), adminUrl), adminUrl).rejects.toThrow(expected);
    }
    await t.sql.unsafe(`DROP ROLE ${weak}`);
    await expectNothingCreated();
  });

  it("gives each service a role that owns its schema and tables, reads and writes them, and may use nothing else", async () => {
    first = await run();
    expect(first).toEqual(
      serviceDatabases().map((s) => ({
        service: s.name,
        role: t.roleOf(s.name),
        schema: s.schema,
        roleCreated: true,
        adopted: false,
        applied: expect.any(Number),
        moved: false,
      })),
    );
    for (const m of first) expect(m.applied, m.service).toBeGreaterThan(0);
    expect(await rolesOfRun(t)).toEqual(dataOwners.map((o) => t.roleOf(o.name)).sort());
    for (const o of dataOwners) expect(await passwordMatches(t, t.roleOf(o.name), t.passwordOf(o.name)), o.name).toBe(true);
    await expectServiceRights(t);
    // Nothing in drizzle's shared schema: the bookkeeping is in each service's own.
    const [shared] = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'drizzle'`;
    expect(shared!.n).toBe(0);
  });

  it("changes nothing when run again", async () => {
    const before = await rightsAndState(t);
    const again = await run();
    expect(again).toEqual(first.map((m) => ({ ...m, roleCreated: false, applied: 0 })));
    expect(await rightsAndState(t)).toEqual(before);
  });

  it("lets each service start as its role, with no right to create schemas", async () => {
    for (const s of serviceDatabases()) {
      const database = await openDatabase({ url: t.urlOf(s.name), schema: s.schema, migrationsFolder: s.migrationsFolder, maxConnections: 1 });
      await database.close();
    }
    await expectServiceRights(t);
  });

  it("sets the password of a URL that changed, the old one no longer matching", async () => {
    const old = t.passwordOf("warehouse");
    const rotated = `rotated-${randomBytes(6).toString("hex")}:/@?#%'"\\`;
    t.setPassword("warehouse", rotated);
    await run();
    expect(await passwordMatches(t, t.roleOf("warehouse"), rotated)).toBe(true);
    expect(await passwordMatches(t, t.roleOf("warehouse"), old)).toBe(false);
    expect(await passwordMatches(t, t.roleOf("inventory"), t.passwordOf("inventory"))).toBe(true);

    // Not ASCII: sent as it is, for Postgres to prepare (SASLprep) and hash.
    t.setPassword("warehouse", "pässwörd-ünïcode");
    await run();
    expect(await passwordMatches(t, t.roleOf("warehouse"), "pässwörd-ünïcode")).toBe(true);
    await expectServiceRights(t);
  });

  it("makes the SCRAM verifier Postgres makes of the same password and salt", async () => {
    const role = t.roleOf("reservation");
    await t.sql.begin(async (tx) => {
      await tx`SET LOCAL password_encryption = 'scram-sha-256'`;
      await tx.unsafe(`ALTER ROLE ${role} PASSWORD 'by postgres: p@ss w0rd!'`);
    });
    const [row] = await t.sql<{ stored: string }[]>`SELECT rolpassword AS stored FROM pg_authid WHERE rolname = ${role}`;
    const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(row!.stored)!;
    expect(scramVerifier("by postgres: p@ss w0rd!", Buffer.from(salt!, "base64"), Number(iterations))).toBe(row!.stored);
    await run();
    expect(await passwordMatches(t, role, t.passwordOf("reservation"))).toBe(true);
  });
});

/**
 * The task as the image runs it (node on src/main.ts, here through tsx): its environment is the
 * catalog's, a missing variable fails in one log line, and a good run exits 0.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { databaseUrlVariable, defaultFor, variablesReadBy } from "@inv/service-catalog";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataOwners, loadMigrateConfig, migrateConfigSchema, serviceUrlsOf } from "./config.js";
import { createMigrateTestDatabase, expectServiceRights, type MigrateTestDatabase, POSTGRES_ONLY, skipWithoutPostgres } from "./testing.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/** Runs the task with exactly this environment (and PATH); resolves with its exit code and output. */
function runMain(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "apps/migrate/src/main.ts"], {
      cwd: root,
      env: { PATH: process.env["PATH"] ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const lines = (text: string) => text.split("\n").filter((l) => l.trim() !== "");

describe("the migration task's environment", () => {
  it("is exactly what the catalog says the task reads, with the catalog's defaults", () => {
    const properties: Record<string, { default?: unknown }> = migrateConfigSchema.properties ?? {};
    expect(Object.keys(properties).sort()).toEqual(
      variablesReadBy("migrate")
        .map((v) => v.name)
        .sort(),
    );
    for (const v of variablesReadBy("migrate")) expect(properties[v.name]?.default?.toString() ?? null, v.name).toBe(defaultFor(v));
  });

  it("requires the admin URL and every data-keeping service's URL, and never repeats a URL's value in its complaint", () => {
    expect(() => loadMigrateConfig({})).toThrow(/DATABASE_ADMIN_URL must have required property/);
    const env = Object.fromEntries(dataOwners.map((o) => [databaseUrlVariable(o.name), `postgres://${o.name}:pw@db/app`]));
    expect(serviceUrlsOf(loadMigrateConfig({ ...env, DATABASE_ADMIN_URL: "postgres://admin:pw@db/app" }))).toEqual(
      Object.fromEntries(dataOwners.map((o) => [o.name, `postgres://${o.name}:pw@db/app`])),
    );
    const [first] = dataOwners;
    expect(() => loadMigrateConfig({ ...env, [databaseUrlVariable(first!.name)]: "" })).toThrow(databaseUrlVariable(first!.name));
  });

  it("without DATABASE_ADMIN_URL, the task exits non-zero with one log line that names it", async () => {
    const { code, stdout, stderr } = await runMain({ LOG_LEVEL: "info" });
    expect(code).not.toBe(0);
    expect(stderr).toBe("");
    expect(lines(stdout)).toHaveLength(1);
    const line = JSON.parse(lines(stdout)[0]!) as { level: number; msg: string; err?: unknown };
    expect(line.level).toBe(50);
    expect(line.msg).toMatch(/^migration failed: invalid configuration: DATABASE_ADMIN_URL must have required property/);
    expect(line.err).toBeUndefined();
  });
});

describe.skipIf(skipWithoutPostgres)(`the migration task ${POSTGRES_ONLY}`, () => {
  let t: MigrateTestDatabase;
  beforeAll(async () => {
    t = await createMigrateTestDatabase();
  });
  afterAll(() => t?.drop());

  const environment = () => ({
    LOG_LEVEL: "info",
    DATABASE_ADMIN_URL: t.adminUrl,
    ...Object.fromEntries(dataOwners.map((o) => [databaseUrlVariable(o.name), t.urlOf(o.name)])),
  });

  it("exits 0 once every service's role and schema are up to date, logging a line per service and none of the passwords", async () => {
    const { code, stdout, stderr } = await runMain(environment());
    expect(stderr).toBe("");
    expect(code, stdout).toBe(0);
    const logged = lines(stdout).map((l) => JSON.parse(l) as { level: number; msg: string; service?: string });
    expect(logged.filter((l) => l.msg === "service role and schema up to date").map((l) => l.service)).toEqual(dataOwners.map((o) => o.name));
    expect(logged.at(-1)?.msg).toBe("every service's role and schema are up to date");
    for (const o of dataOwners) expect(stdout).not.toContain(t.passwordOf(o.name));
    await expectServiceRights(t);
  });

  it("exits 1 with one line naming the variable and the cause when it refuses (a service role with more rights than it may have)", async () => {
    await t.sql.unsafe(`ALTER ROLE ${t.roleOf("user")} CREATEDB`);
    const { code, stdout } = await runMain(environment());
    expect(code).toBe(1);
    expect(lines(stdout)).toHaveLength(1);
    expect(JSON.parse(lines(stdout)[0]!)).toMatchObject({
      level: 50,
      msg: `migration failed: USER_DATABASE_URL names role ${t.roleOf("user")}, which exists with more rights than a service role may have (superuser, createrole, createdb, replication or bypassrls)`,
    });
    await t.sql.unsafe(`ALTER ROLE ${t.roleOf("user")} NOCREATEDB`);
  });
});

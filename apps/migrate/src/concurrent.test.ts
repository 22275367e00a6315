/**
 * Two copies of the migration task started together on a fresh database (a retried deployment,
 * say): both succeed, every migration runs once, every role is created once.
 */
import { readMigrationFiles } from "drizzle-orm/migrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateAll, serviceDatabases } from "./index.js";
import { createMigrateTestDatabase, expectServiceRights, type MigrateTestDatabase, POSTGRES_ONLY, skipWithoutPostgres, testLog as log } from "./testing.js";

describe.skipIf(skipWithoutPostgres)(`two migration tasks at once ${POSTGRES_ONLY}`, () => {
  let t: MigrateTestDatabase;
  beforeAll(async () => {
    t = await createMigrateTestDatabase();
  });
  afterAll(() => t?.drop());

  it("both succeed, and between them create each role and apply each migration once", async () => {
    const runs = await Promise.all([1, 2].map(() => migrateAll({ adminUrl: t.adminUrl, serviceUrls: t.serviceUrls(), log })));
    for (const s of serviceDatabases()) {
      const mine = runs.map((r) => r.find((m) => m.service === s.name)!);
      expect(
        mine.filter((m) => m.roleCreated),
        s.name,
      ).toHaveLength(1);
      const migrations = readMigrationFiles({ migrationsFolder: s.migrationsFolder }).length;
      expect(mine.map((m) => m.applied).sort(), s.name).toEqual([0, migrations]);
      const [recorded] = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ${t.sql(s.schema)}.${t.sql(`__${s.schema}_migrations`)}`;
      expect(recorded!.n, s.name).toBe(migrations);
    }
    await expectServiceRights(t);
  });
});

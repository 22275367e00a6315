/**
 * A database from before services had roles of their own: every schema migrated by one role
 * (here the admin, as a deployment whose services all connected as it), with drizzle's migrator
 * and its bookkeeping in the shared `drizzle` schema, as openDatabase used to run it. The task
 * hands each schema, its objects and its bookkeeping to the service's role and runs nothing again.
 */
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { readMigrationFiles } from "drizzle-orm/migrator";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateAll, serviceDatabases } from "./index.js";
import {
  createMigrateTestDatabase,
  expectServiceRights,
  type MigrateTestDatabase,
  POSTGRES_ONLY,
  rightsAndState,
  skipWithoutPostgres,
  testLog as log,
} from "./testing.js";

describe.skipIf(skipWithoutPostgres)(`a database migrated before services had roles ${POSTGRES_ONLY}`, () => {
  let t: MigrateTestDatabase;
  beforeAll(async () => {
    t = await createMigrateTestDatabase();
    const admin = postgres(t.adminUrl, { max: 1, onnotice: () => {} });
    try {
      for (const s of serviceDatabases()) {
        await migrate(drizzle(admin), { migrationsFolder: s.migrationsFolder, migrationsTable: `__${s.schema}_migrations` });
      }
    } finally {
      await admin.end({ timeout: 5 });
    }
  });
  afterAll(() => t?.drop());

  it("hands each schema, everything in it and its bookkeeping to the service's role, and runs no migration again", async () => {
    const migrated = await migrateAll({ adminUrl: t.adminUrl, serviceUrls: t.serviceUrls(), log });
    expect(migrated.map((m) => [m.service, m.roleCreated, m.adopted, m.applied])).toEqual(serviceDatabases().map((s) => [s.name, true, true, 0]));
    for (const s of serviceDatabases()) {
      const [where] = await t.sql<{ schemas: string[] }[]>`
        SELECT array_agg(n.nspname::text) AS schemas FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = ${`__${s.schema}_migrations`}`;
      expect(where!.schemas, s.name).toEqual([s.schema]);
      const [recorded] = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ${t.sql(s.schema)}.${t.sql(`__${s.schema}_migrations`)}`;
      expect(recorded!.n, s.name).toBe(readMigrationFiles({ migrationsFolder: s.migrationsFolder }).length);
    }
    // The admin joined each role only for the hand-over.
    const [members] = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_auth_members WHERE member = ${t.adminRole}::regrole`;
    expect(members!.n).toBe(0);
    await expectServiceRights(t);
  });

  it("then changes nothing when run again", async () => {
    const before = await rightsAndState(t);
    const again = await migrateAll({ adminUrl: t.adminUrl, serviceUrls: t.serviceUrls(), log });
    expect(again.map((m) => [m.roleCreated, m.adopted, m.applied, m.moved])).toEqual(again.map(() => [false, false, 0, false]));
    expect(await rightsAndState(t)).toEqual(before);
  });
});

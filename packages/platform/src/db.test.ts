/**
 * openDatabase's migrations on the engine the run has (a scratch Postgres database per test
 * with TEST_DATABASE_URL or a container, else PGlite): the bookkeeping table in the service's
 * own schema, and databases migrated before it moved there (drizzle's migrator with its default
 * `drizzle` schema, as openDatabase used to run it) moved over without running anything again.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as drizzleMigratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as drizzleMigratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type Database, type Db, migrateExclusively, openDatabase, rows } from "./db.js";
import { findPgError } from "./sqlstate.js";
import { createScratchDatabase, type ScratchDatabase } from "./testing/database.js";

const SCHEMA = "gadget";
const TABLE = `__${SCHEMA}_migrations`;

/** The migrations of a made-up service, as drizzle-kit writes them; the first creates its schema. */
const MIGRATIONS = [
  [
    "0000_init",
    `CREATE SCHEMA "${SCHEMA}";\n--> statement-breakpoint\nCREATE TABLE "${SCHEMA}"."parts" ("id" integer PRIMARY KEY NOT NULL, "name" text NOT NULL);\n`,
  ],
  // Running this twice fails (duplicate key): a migration run again cannot go unnoticed.
  ["0001_first_part", `INSERT INTO "${SCHEMA}"."parts" VALUES (1, 'first');\n`],
  ["0002_bins", `CREATE TABLE "${SCHEMA}"."bins" ("id" integer PRIMARY KEY NOT NULL);\n`],
] as const;

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A migrations folder with the first `count` migrations (or the given ones). */
function migrationsFolder(count: number, migrations: readonly (readonly [string, string])[] = MIGRATIONS): string {
  const folder = mkdtempSync(join(tmpdir(), "db-migrations-"));
  folders.push(folder);
  mkdirSync(join(folder, "meta"));
  const entries = migrations.slice(0, count).map(([tag, text], idx) => {
    writeFileSync(join(folder, `${tag}.sql`), text);
    return { idx, version: "7", when: 1_700_000_000_000 + idx * 1000, tag, breakpoints: true };
  });
  writeFileSync(join(folder, "meta", "_journal.json"), JSON.stringify({ version: "7", dialect: "postgresql", entries }));
  return folder;
}

const opened: Database[] = [];
const scratches: ScratchDatabase[] = [];
const dataDirs: string[] = [];
afterEach(async () => {
  for (const database of opened.splice(0)) await database.close();
  for (const scratch of scratches.splice(0)) await scratch.drop();
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Where a test's database lives: a scratch Postgres database, or a PGlite data folder (so it outlives a close). */
interface Place {
  url: string | undefined;
  dataDir: string | undefined;
}

async function freshPlace(label: string): Promise<Place> {
  const scratch = await createScratchDatabase(label);
  scratches.push(scratch);
  if (scratch.url) return { url: scratch.url, dataDir: undefined };
  const dataDir = mkdtempSync(join(tmpdir(), "db-pglite-"));
  dataDirs.push(dataDir);
  return { url: undefined, dataDir };
}

async function open(place: Place, folder: string): Promise<Database> {
  const database = await openDatabase({ schema: SCHEMA, migrationsFolder: folder, url: place.url, dataDir: place.dataDir, maxConnections: 2 });
  opened.push(database);
  return database;
}

/** Migrates the way openDatabase did before: drizzle's migrator, bookkeeping in drizzle's default schema. */
async function migrateTheOldWay(place: Place, folder: string) {
  const config = { migrationsFolder: folder, migrationsTable: TABLE };
  if (place.url) {
    const client = postgres(place.url, { max: 1, onnotice: () => {} });
    await drizzleMigratePostgres(drizzlePostgres(client), config).finally(() => client.end({ timeout: 5 }));
    return;
  }
  const dir = join(place.dataDir!, SCHEMA);
  mkdirSync(dir, { recursive: true });
  const client = new PGlite(dir);
  await drizzleMigratePglite(drizzlePglite(client), config).finally(() => client.close());
}

/** The schemas that hold a table of that name. */
async function schemasHolding(db: Db, table: string): Promise<string[]> {
  const found = await rows<{ schema: string }>(
    db,
    sql`SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = ${table} ORDER BY 1`,
  );
  return found.map((r) => r.schema);
}

async function recorded(db: Db): Promise<number[]> {
  const found = await rows<{ created_at: string | number }>(db, sql.raw(`SELECT created_at FROM "${SCHEMA}"."${TABLE}" ORDER BY id`));
  return found.map((r) => Number(r.created_at));
}

const journalTimes = (count: number) => MIGRATIONS.slice(0, count).map((_, idx) => 1_700_000_000_000 + idx * 1000);

// On PGlite each place is a data folder of its own, and making one costs seconds: few tests, each a story.
describe("openDatabase's migrations", () => {
  it("keeps a fresh database's bookkeeping in the service's own schema, applies only what was added since, and then nothing", async () => {
    const place = await freshPlace("db_fresh");
    const first = await open(place, migrationsFolder(2));
    expect(await schemasHolding(first.db, TABLE)).toEqual([SCHEMA]);
    expect(await recorded(first.db)).toEqual(journalTimes(2));
    const [drizzleSchema] = await rows<{ n: number }>(first.db, sql`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'drizzle'`);
    expect(drizzleSchema!.n).toBe(0);
    await opened.pop()!.close();

    const second = await open(place, migrationsFolder(3));
    expect(await recorded(second.db)).toEqual(journalTimes(3));
    expect(await schemasHolding(second.db, "bins")).toEqual([SCHEMA]);
    await opened.pop()!.close();

    const third = await open(place, migrationsFolder(3));
    expect(await recorded(third.db)).toEqual(journalTimes(3));
    const [parts] = await rows<{ n: number }>(third.db, sql.raw(`SELECT count(*)::int AS n FROM "${SCHEMA}".parts`));
    expect(parts!.n).toBe(1);
  });

  it("moves the bookkeeping of a database migrated the old way into the schema, and runs nothing again", async () => {
    const place = await freshPlace("db_old_layout");
    await migrateTheOldWay(place, migrationsFolder(2));
    // Run again, either migration would fail: the schema exists, part 1 too.
    const { db } = await open(place, migrationsFolder(3));
    expect(await schemasHolding(db, TABLE)).toEqual([SCHEMA]);
    expect(await recorded(db)).toEqual(journalTimes(3));
    const [parts] = await rows<{ n: number }>(db, sql.raw(`SELECT count(*)::int AS n FROM "${SCHEMA}".parts`));
    expect(parts!.n).toBe(1);
    // The serial's sequence went with its table, so the next row numbers on.
    const [last] = await rows<{ id: number }>(db, sql.raw(`SELECT max(id)::int AS id FROM "${SCHEMA}"."${TABLE}"`));
    expect(last!.id).toBe(3);
    await opened.pop()!.close();

    const again = await open(place, migrationsFolder(3));
    expect(await recorded(again.db)).toEqual(journalTimes(3));
  });

  it("moves an up-to-date old-layout database's bookkeeping too, migrating nothing", async () => {
    const place = await freshPlace("db_old_current");
    await migrateTheOldWay(place, migrationsFolder(3));
    const { db } = await open(place, migrationsFolder(3));
    expect(await schemasHolding(db, TABLE)).toEqual([SCHEMA]);
    expect(await recorded(db)).toEqual(journalTimes(3));
  });

  it("leaves an old table whose schema is gone where it is, leaves nothing behind when a migration fails, and migrates once it is fixed", async () => {
    const place = await freshPlace("db_failed");
    // What drizzle's migrator leaves when the first migration fails, or an operator dropped the schema.
    await migrateTheOldWay(place, migrationsFolder(1));
    await inPlace(place, `DROP SCHEMA "${SCHEMA}" CASCADE`);
    const broken = migrationsFolder(3, [...MIGRATIONS.slice(0, 2), ["0002_bins", `CREATE TABLE "${SCHEMA}"."bins" ("id" integer REFERENCES nowhere);\n`]]);
    await expect(open(place, broken)).rejects.toThrow(/nowhere/);
    const { db } = await open(place, migrationsFolder(3));
    expect(await schemasHolding(db, TABLE)).toEqual(["drizzle", SCHEMA]);
    expect(await recorded(db)).toEqual(journalTimes(3));
  });
});

/** Runs SQL on the place's database outside openDatabase. */
async function inPlace(place: Place, statement: string) {
  if (place.url) {
    const client = postgres(place.url, { max: 1, onnotice: () => {} });
    await client.unsafe(statement).finally(() => client.end({ timeout: 5 }));
    return;
  }
  const client = new PGlite(join(place.dataDir!, SCHEMA));
  await client.exec(statement).finally(() => client.close());
}

describe.skipIf(!process.env["TEST_DATABASE_URL"])("migrations on Postgres, as a service's own role", () => {
  const roles: string[] = [];
  afterAll(async () => {
    const server = postgres(process.env["TEST_DATABASE_URL"]!, { max: 1, onnotice: () => {} });
    for (const role of roles) await server.unsafe(`DROP ROLE IF EXISTS ${role}`);
    await server.end({ timeout: 5 });
  });

  /** A login role with CREATE on the scratch database only while the first migration runs, as apps/migrate leaves it. */
  async function serviceRole(url: string): Promise<string> {
    const role = `db_test_${randomBytes(5).toString("hex")}`;
    const password = randomBytes(12).toString("hex");
    roles.push(role);
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
      await admin.unsafe(`GRANT CREATE ON DATABASE "${new URL(url).pathname.slice(1)}" TO ${role}`);
      const u = new URL(url);
      u.username = role;
      u.password = password;
      await migrateExclusively({ url: u.toString(), schema: SCHEMA, migrationsFolder: migrationsFolder(2) });
      await admin.unsafe(`REVOKE CREATE ON DATABASE "${new URL(url).pathname.slice(1)}" FROM ${role}`);
      return u.toString();
    } finally {
      await admin.end({ timeout: 5 });
    }
  }

  it("starts, and migrates further, with no right to create schemas (drizzle's migrator asks for one every time)", async () => {
    const place = await freshPlace("db_role");
    const url = await serviceRole(place.url!);
    const { db } = await open({ url, dataDir: undefined }, migrationsFolder(3));
    expect(await recorded(db)).toEqual(journalTimes(3));
    const [owners] = await rows<{ owners: string[] }>(
      db,
      sql`SELECT array_agg(DISTINCT pg_get_userbyid(relowner)) AS owners FROM pg_class WHERE relnamespace = ${SCHEMA}::regnamespace`,
    );
    expect(owners!.owners).toEqual([new URL(url).username]);
    const denied = await rows(db, sql`CREATE SCHEMA elsewhere`).catch((err: unknown) => err);
    expect(findPgError(denied)?.code).toBe("42501");
  });

  it("lets one of several replicas starting together migrate while the others wait and find nothing to do", async () => {
    const place = await freshPlace("db_concurrent");
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, () => migrateExclusively({ url: place.url!, schema: SCHEMA, migrationsFolder: migrationsFolder(3) })),
    );
    expect(outcomes.map((o) => o.applied).sort()).toEqual([0, 0, 0, 3]);
    const { db } = await open(place, migrationsFolder(3));
    expect(await recorded(db)).toEqual(journalTimes(3));
  });
});

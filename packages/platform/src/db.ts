import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { type SQL, sql } from "drizzle-orm";
import { readMigrationFiles } from "drizzle-orm/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import type { Logger } from "pino";
import { findPgError, isRetryableSqlState } from "./sqlstate.js";

/** A Drizzle database or transaction: query functions take this first and work with either. */
export type Db = PgDatabase<PgQueryResultHKT, Record<string, unknown>>;

export interface Database {
  readonly db: Db;
  /** "postgres" with DATABASE_URL set, "pglite" for the embedded default. */
  readonly kind: "postgres" | "pglite";
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** The service's schema; also names its migrations table, which lives in it. */
  schema: string;
  /** The service's drizzle-kit migrations folder. */
  migrationsFolder: string;
  /** postgres:// URL. Without it, an embedded PGlite database is used. */
  url?: string | undefined;
  /** Where PGlite keeps its files (a folder per schema is made under it); in memory when unset. */
  dataDir?: string | undefined;
  /** Pool size for postgres.js. */
  maxConnections?: number;
  log?: Logger;
}

/**
 * Opens the service's database and brings its schema up to date. With a URL the driver is
 * postgres.js; without one it is PGlite, a real Postgres in WASM, so the same SQL runs in both.
 */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.url) {
    const migrated = await migrateExclusively({ url: opts.url, schema: opts.schema, migrationsFolder: opts.migrationsFolder });
    const client = postgres(opts.url, { max: opts.maxConnections ?? 10, onnotice: () => {} });
    opts.log?.info({ schema: opts.schema, ...migrated }, "database ready (postgres)");
    return { db: drizzlePostgres(preparing(client)) as unknown as Db, kind: "postgres", close: () => client.end({ timeout: 5 }) };
  }
  let dataDir: string | undefined;
  if (opts.dataDir) {
    dataDir = join(opts.dataDir, opts.schema);
    mkdirSync(dataDir, { recursive: true });
  }
  if (!dataDir) {
    const client = await migratedInMemory(opts.schema, opts.migrationsFolder);
    opts.log?.info({ schema: opts.schema, dataDir: "memory" }, "database ready (embedded PGlite)");
    return { db: drizzlePglite(client) as unknown as Db, kind: "pglite", close: () => client.close() };
  }
  const client = new PGlite(dataDir);
  const db = drizzlePglite(client) as unknown as Db;
  try {
    // One connection, one process: nothing else can be migrating it.
    const migrated = await applyMigrations(db, opts.schema, opts.migrationsFolder);
    opts.log?.info({ schema: opts.schema, dataDir, ...migrated }, "database ready (embedded PGlite)");
  } catch (err) {
    await client.close();
    throw err;
  }
  return { db, kind: "pglite", close: () => client.close() };
}

/**
 * In-memory PGlite databases are copies of templates the process makes once: starting a PGlite
 * (its WASM and an initdb) takes 2–4 s and migrating a service's schema on it 0.5–1 s more,
 * where a copy of a migrated one (`clone`) takes under one. What makes them in memory is the
 * tests (a database per test file, per service) and short-lived runs; a data folder is always
 * opened and migrated as itself. A template is never handed out or written to; it lives as long
 * as the process, one per schema and migrations folder, plus an empty one.
 */
const templates = new Map<string, Promise<PGlite>>();

function template(key: string, make: (client: PGlite) => Promise<unknown>): Promise<PGlite> {
  let made = templates.get(key);
  if (!made) {
    made = (async () => {
      const client = new PGlite();
      try {
        await client.waitReady;
        await make(client);
        return client;
      } catch (err) {
        await client.close();
        throw err;
      }
    })();
    templates.set(key, made);
    // A failed template (a broken migration) is tried again by the next caller.
    made.catch(() => templates.delete(key));
  }
  return made;
}

/** A copy of a template: a PGlite, though `clone` is typed as returning its interface. */
const copyOf = async (made: PGlite): Promise<PGlite> => (await made.clone()) as PGlite;

/** A new, empty in-memory PGlite database. */
export async function emptyInMemory(): Promise<PGlite> {
  return copyOf(await template("", async () => {}));
}

/** A new in-memory PGlite database with a service's schema migrated. */
async function migratedInMemory(schema: string, migrationsFolder: string): Promise<PGlite> {
  return copyOf(
    await template(`${schema}\0${migrationsFolder}`, (client) => applyMigrations(drizzlePglite(client) as unknown as Db, schema, migrationsFolder)),
  );
}

type Sql = postgres.Sql | postgres.TransactionSql;

/**
 * The client drizzle gets: every statement a named prepared statement, in transactions too.
 * Drizzle sends queries it did not name unprepared, and for those postgres.js asks the server to
 * describe the statement before it binds it: two round trips, and a parse and plan, per statement.
 * Prepared, a query shape is parsed once per connection and each later call is one round trip
 * (one SELECT ran at about twice the rate in a postgres.js microbenchmark). The cache of each
 * connection is bounded by the number of query shapes the service has, and it goes with the
 * connection when postgres.js recycles it (`max_lifetime`). Not for a transaction-mode pooler
 * (pgbouncer), which cannot keep named statements; the platform connects to Postgres directly.
 */
function preparing<T extends Sql>(sql: T): T {
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === "unsafe") {
        return (query: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) =>
          target.unsafe(query, params as postgres.ParameterOrJSON<never>[], { ...options, prepare: true });
      }
      if (property === "begin") {
        return (...args: unknown[]) => {
          const body = args.pop() as (tx: postgres.TransactionSql) => unknown;
          return (target as postgres.Sql).begin(...(args as [string]), (tx) => body(preparing(tx)));
        };
      }
      if (property === "savepoint") {
        return (...args: unknown[]) => {
          const body = args.pop() as (tx: postgres.TransactionSql) => unknown;
          return (target as postgres.TransactionSql).savepoint(...(args as [string]), (tx) => body(preparing(tx)));
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

/** What bringing a schema up to date did. */
export interface MigrationOutcome {
  /** Migrations applied now; 0 when the schema was up to date. */
  readonly applied: number;
  /** Whether the bookkeeping table was moved here from drizzle's shared schema (see applyMigrations). */
  readonly moved: boolean;
}

export interface MigrateSchemaOptions {
  /** postgres:// URL; the migrations run as the role it names, which then owns what they create. */
  url: string;
  schema: string;
  migrationsFolder: string;
}

/**
 * Brings one schema up to date on Postgres: what a service does at start (openDatabase), and
 * what the migration task (apps/migrate) does as each service's role before a rollout.
 * Replicas (and migration tasks) starting together must not run the same migration twice: a
 * session advisory lock keyed by the schema lets one migrate while the others wait, then find
 * nothing left to do. A one-connection client keeps the lock and the migration on the same
 * session.
 */
export async function migrateExclusively(opts: MigrateSchemaOptions): Promise<MigrationOutcome> {
  const session = postgres(opts.url, { max: 1, onnotice: () => {} });
  const key = `migrate:${opts.schema}`;
  try {
    await session`SELECT pg_advisory_lock(hashtext(${key}))`;
    const outcome = await applyMigrations(drizzlePostgres(session) as unknown as Db, opts.schema, opts.migrationsFolder);
    await session`SELECT pg_advisory_unlock(hashtext(${key}))`;
    return outcome;
  } finally {
    await session.end({ timeout: 5 });
  }
}

/** Where drizzle's migrator keeps its bookkeeping unless told otherwise, shared by every service. */
export const DRIZZLE_DEFAULT_MIGRATIONS_SCHEMA = "drizzle";

/** The name of a service's migration bookkeeping table (in the service's own schema). */
export const migrationsTableOf = (schema: string) => `__${schema}_migrations`;

/**
 * Applies the migrations of `migrationsFolder` not yet recorded in `<schema>.__<schema>_migrations`,
 * keeping drizzle's bookkeeping (the table's columns, a row per migration with its file's hash
 * and its journal time, and "every migration newer than the newest row is pending"), so the
 * table stays readable by drizzle-kit. Not drizzle's own migrator, which puts the table in a
 * schema of its own and runs `CREATE SCHEMA IF NOT EXISTS` first, always: Postgres checks
 * CREATE on the database before it sees that the schema exists, so a service role that owns
 * its schema and nothing more could not start; and with the table in the service's schema,
 * that statement would create the schema before the first migration's own `CREATE SCHEMA`.
 * Here the bookkeeping table is made once its schema exists: up front when it does, else right
 * after the first migration (which creates it), in the same transaction as every pending
 * migration, so a failed migration leaves nothing behind. An up-to-date schema costs two or
 * three catalog reads and one read of the table: no DDL, no write.
 *
 * Databases migrated before the bookkeeping moved keep theirs in `drizzle.__<schema>_migrations`:
 * that table is moved into the schema first (the caller holds the schema's lock). The schema
 * exists whenever a migration was recorded there (the first creates it); an old table without
 * the schema recorded nothing that is still there (a first migration that failed leaves an
 * empty table behind), so it is left alone and the schema is migrated from the start.
 */
async function applyMigrations(db: Db, schema: string, migrationsFolder: string): Promise<MigrationOutcome> {
  const migrations = readMigrationFiles({ migrationsFolder });
  const table = migrationsTableOf(schema);
  const bookkeeping = sql`${sql.identifier(schema)}.${sql.identifier(table)}`;
  const moved = await moveOldBookkeeping(db, schema, table);
  const recorded = await tableExists(db, schema, table);
  let newest: number | undefined;
  if (recorded) {
    const [row] = await rows<{ created_at: string | number | bigint | null }>(
      db,
      sql`SELECT created_at FROM ${bookkeeping} ORDER BY created_at DESC NULLS LAST LIMIT 1`,
    );
    if (row?.created_at != null) newest = Number(row.created_at);
  }
  const pending = migrations.filter((m) => newest === undefined || newest < m.folderMillis);
  if (recorded && pending.length === 0) return { applied: 0, moved };
  await db.transaction(async (tx) => {
    let ready = recorded;
    const prepareBookkeeping = async () => {
      if (ready) return;
      if (!(await schemaExists(tx, schema))) await tx.execute(sql`CREATE SCHEMA ${sql.identifier(schema)}`);
      await tx.execute(sql`CREATE TABLE IF NOT EXISTS ${bookkeeping} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`);
      ready = true;
    };
    if (await schemaExists(tx, schema)) await prepareBookkeeping();
    for (const migration of pending) {
      for (const statement of migration.sql) await tx.execute(sql.raw(statement));
      await prepareBookkeeping();
      await tx.execute(sql`INSERT INTO ${bookkeeping} ("hash", "created_at") VALUES (${migration.hash}, ${migration.folderMillis})`);
    }
    await prepareBookkeeping();
  });
  return { applied: pending.length, moved };
}

/** Moves `drizzle.<table>` into the schema when it is there, the schema too, and the schema has none yet. */
async function moveOldBookkeeping(db: Db, schema: string, table: string): Promise<boolean> {
  if (schema === DRIZZLE_DEFAULT_MIGRATIONS_SCHEMA || !(await tableExists(db, DRIZZLE_DEFAULT_MIGRATIONS_SCHEMA, table))) return false;
  if ((await tableExists(db, schema, table)) || !(await schemaExists(db, schema))) return false;
  await db.execute(sql`ALTER TABLE ${sql.identifier(DRIZZLE_DEFAULT_MIGRATIONS_SCHEMA)}.${sql.identifier(table)} SET SCHEMA ${sql.identifier(schema)}`);
  return true;
}

// From the catalogs, which every role may read: to_regclass and friends fail with "permission
// denied" on a schema the role may not use, and a service role may use its own schema only.
async function schemaExists(db: Db, schema: string): Promise<boolean> {
  const [row] = await rows<{ found: boolean }>(db, sql`SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = ${schema}) AS found`);
  return row?.found === true;
}

async function tableExists(db: Db, schema: string, table: string): Promise<boolean> {
  const [row] = await rows<{ found: boolean }>(
    db,
    sql`SELECT EXISTS (
          SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = ${schema} AND c.relname = ${table} AND c.relkind IN ('r', 'p')
        ) AS found`,
  );
  return row?.found === true;
}

/**
 * A list of values as one parameter, for `column IN ${valueList(values, "uuid")}`: the statement's
 * text is the same whatever the list's length, so Postgres prepares and plans it once, where
 * drizzle's `inArray` makes one parameter per value and a new statement for every length. The
 * values are cast to the column's type, so its index still serves the lookup.
 */
export const valueList = (values: readonly string[], type: "text" | "uuid" = "text"): SQL =>
  sql`(SELECT jsonb_array_elements_text(${JSON.stringify(values)}::jsonb)::${sql.raw(type)})`;

/** Rows of a raw query: postgres.js returns an array, PGlite an object with `rows`. */
export async function rows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/**
 * Runs fn in a transaction, running it again (up to `attempts` times in all) when Postgres
 * aborts it for a serialization failure or deadlock; fn must be safe to repeat.
 */
export function inTransaction<T>(db: Db, fn: (tx: Db) => Promise<T>, attempts = 3): Promise<T> {
  return retryingConflicts(() => db.transaction((tx) => fn(tx as unknown as Db)), attempts);
}

/**
 * Runs fn (a transaction, or one statement that is its own) again, up to `attempts` times in
 * all, when Postgres aborts it for a serialization failure or deadlock.
 */
export async function retryingConflicts<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const pg = findPgError(err);
      if (attempt >= attempts || !pg || !isRetryableSqlState(pg.code)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** attempt * Math.random()));
    }
  }
}

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
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
  /** The service's schema; also names its migrations table. */
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
  const migrations = { migrationsFolder: opts.migrationsFolder, migrationsTable: `__${opts.schema}_migrations` };
  if (opts.url) {
    await migrateExclusively(opts.url, opts.schema, migrations);
    const client = postgres(opts.url, { max: opts.maxConnections ?? 10, onnotice: () => {} });
    opts.log?.info({ schema: opts.schema }, "database ready (postgres)");
    return { db: drizzlePostgres(preparing(client)) as unknown as Db, kind: "postgres", close: () => client.end({ timeout: 5 }) };
  }
  let dataDir: string | undefined;
  if (opts.dataDir) {
    dataDir = join(opts.dataDir, opts.schema);
    mkdirSync(dataDir, { recursive: true });
  }
  const client = new PGlite(dataDir);
  const db = drizzlePglite(client);
  await migratePglite(db, migrations);
  opts.log?.info({ schema: opts.schema, dataDir: dataDir ?? "memory" }, "database ready (embedded PGlite)");
  return { db: db as unknown as Db, kind: "pglite", close: () => client.close() };
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

/**
 * Replicas starting together must not run the same migration twice: a session advisory lock
 * keyed by the schema lets one migrate while the others wait, then find nothing left to do.
 * A one-connection client keeps the lock and the migration on the same session.
 */
async function migrateExclusively(url: string, schema: string, config: Parameters<typeof migratePostgres>[1]) {
  const session = postgres(url, { max: 1, onnotice: () => {} });
  const key = `migrate:${schema}`;
  try {
    await session`SELECT pg_advisory_lock(hashtext(${key}))`;
    await migratePostgres(drizzlePostgres(session), config);
    await session`SELECT pg_advisory_unlock(hashtext(${key}))`;
  } finally {
    await session.end({ timeout: 5 });
  }
}

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

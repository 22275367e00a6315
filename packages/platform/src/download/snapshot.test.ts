/**
 * readSnapshot and cursorRows on the service's own driver setup (openDatabase: postgres.js with
 * every statement prepared, or PGlite), with a pool of ONE connection: a transaction that is not
 * ended makes the next query hang (postgres.js waits for the connection, PGlite for its
 * transaction lock), which the tests turn into a failure with `within`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, type Db, openDatabase, rows } from "../db.js";
import { createScratchDatabase, type ScratchDatabase } from "../testing/database.js";
import { cursorRows, readSnapshot, rfc3339Utc } from "./snapshot.js";

let scratch: ScratchDatabase;
let database: Database;
let db: Db;
let migrations: string;

beforeAll(async () => {
  scratch = await createScratchDatabase("download_snapshot");
  // openDatabase migrates; nothing to migrate here but an empty journal.
  migrations = mkdtempSync(join(tmpdir(), "snapshot-test-"));
  mkdirSync(join(migrations, "meta"));
  writeFileSync(join(migrations, "meta", "_journal.json"), JSON.stringify({ version: "7", dialect: "postgresql", entries: [] }));
  database = await openDatabase({ schema: "snap", migrationsFolder: migrations, url: scratch.url, maxConnections: 1 });
  db = database.db;
  await db.execute(sql`CREATE TABLE things (n integer PRIMARY KEY, name text NOT NULL)`);
  await db.execute(sql`INSERT INTO things SELECT g, 'thing ' || g FROM generate_series(1, 2500) g`);
});

afterAll(async () => {
  await database?.close();
  await scratch?.drop();
  rmSync(migrations, { recursive: true, force: true });
});

const onPostgres = () => database.kind === "postgres";

/** The promise, or a failure after `ms`: what a stuck transaction turns into. */
function within<T>(promise: Promise<T>, ms = 5_000, what = "the query"): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms: is a transaction still open?`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The next query on the one-connection database works: no transaction was left open. */
async function databaseIsFree() {
  const [row] = await within(rows<{ one: number }>(db, sql`SELECT 1 AS one`));
  expect(row!.one).toBe(1);
  if (onPostgres()) {
    const [open] = await rows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    );
    expect(open!.n).toBe(0);
  }
}

async function* numbers(tx: Db, batchSize = 1000) {
  for await (const batch of cursorRows<{ n: number; name: string }>(tx, sql`SELECT n, name FROM things ORDER BY n`, batchSize)) yield batch;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("readSnapshot", () => {
  it("runs the work in one REPEATABLE READ, READ ONLY transaction and yields all its items", async () => {
    const seen: unknown[] = [];
    for await (const item of readSnapshot(db, async function* (tx) {
      yield await rows<{ iso: string; ro: string }>(
        tx,
        sql`SELECT current_setting('transaction_isolation') AS iso, current_setting('transaction_read_only') AS ro`,
      );
      yield* numbers(tx);
    })) {
      seen.push(item);
    }
    expect(seen[0]).toEqual([{ iso: "repeatable read", ro: "on" }]);
    const batches = seen.slice(1) as { n: number }[][];
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 500]);
    expect(batches.flat().map((r) => r.n)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
    await databaseIsFree();
  });

  it("refuses writes", async () => {
    const writing = readSnapshot(db, async function* (tx) {
      yield await tx.execute(sql`INSERT INTO things VALUES (0, 'no')`);
    });
    expect(await failure(drain(writing))).toMatch(/read-only transaction/);
    await databaseIsFree();
  });

  it("sees one snapshot: rows another connection commits after the count are not read (Postgres)", async (ctx) => {
    if (!onPostgres()) return ctx.skip("PGlite has one connection: see the next test");
    const other = postgres(scratch.url!, { max: 1, onnotice: () => {} });
    try {
      let counted = 0;
      let read = 0;
      for await (const item of readSnapshot(db, async function* (tx) {
        const [c] = await rows<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM things`);
        yield { count: c!.n };
        yield* numbers(tx, 700);
      })) {
        if (!Array.isArray(item)) {
          counted = item.count;
          // Committed by another connection while the snapshot is open.
          await other`INSERT INTO things SELECT g, 'late ' || g FROM generate_series(10001, 10100) g`;
        } else read += item.length;
      }
      expect(counted).toBe(2500);
      expect(read).toBe(counted);
      const [after] = await rows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM things`);
      expect(after!.n).toBe(2600);
    } finally {
      await other`DELETE FROM things WHERE n > 10000`;
      await other.end({ timeout: 5 });
    }
  });

  it("makes a write on the one-connection PGlite wait for the snapshot, so a count and its rows agree there too (PGlite)", async (ctx) => {
    if (onPostgres()) return ctx.skip("Postgres: see the test with a second connection");
    let write: Promise<unknown> | undefined;
    let writeDone = false;
    let counted = 0;
    let read = 0;
    for await (const item of readSnapshot(db, async function* (tx) {
      const [c] = await rows<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM things`);
      yield { count: c!.n };
      yield* numbers(tx, 700);
    })) {
      if (!Array.isArray(item)) {
        counted = item.count;
        write = db.execute(sql`INSERT INTO things VALUES (10001, 'late')`).then(() => {
          writeDone = true;
        });
        await sleep(50);
      } else read += item.length;
      expect(writeDone).toBe(false);
    }
    await within(write!);
    expect(read).toBe(counted);
    await db.execute(sql`DELETE FROM things WHERE n > 10000`);
  });

  it("reads at most one item ahead of its consumer", async () => {
    let produced = 0;
    let consumed = 0;
    const ahead: number[] = [];
    for await (const _ of readSnapshot(db, async function* () {
      for (let i = 0; i < 20; i++) {
        produced++;
        yield i;
      }
    })) {
      consumed++;
      await sleep(2);
      ahead.push(produced - consumed);
    }
    expect(consumed).toBe(20);
    expect(Math.max(...ahead)).toBeLessThanOrEqual(1);
  });

  it("ends the transaction when the consumer stops early, and lets the work close its cursor", async () => {
    let closed = false;
    let batches = 0;
    for await (const _ of readSnapshot(db, async function* (tx) {
      try {
        yield* numbers(tx, 100);
      } finally {
        closed = true;
      }
    })) {
      if (++batches === 2) break;
    }
    expect(closed).toBe(true);
    await databaseIsFree();
  });

  it("passes an error of the work to the consumer after the items before it, and ends the transaction", async () => {
    const got: number[] = [];
    const failing = readSnapshot(db, async function* (tx) {
      yield 1;
      yield 2;
      await tx.execute(sql`SELECT 1 / 0`);
    });
    const failed = failure(
      (async () => {
        for await (const n of failing) got.push(n);
      })(),
    );
    expect(await failed).toMatch(/division by zero/);
    expect(got).toEqual([1, 2]);
    await databaseIsFree();
  });

  it("passes an error before the first item (a refused export) to the consumer", async () => {
    const refused = readSnapshot(db, async function* (tx) {
      const [c] = await rows<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM things`);
      if (c!.n > 10) throw new Error(`too large: ${c!.n} rows`);
      yield c!.n;
    });
    await expect(drain(refused)).rejects.toThrow("too large: 2500 rows");
    await databaseIsFree();
  });

  it("ends the transaction of a consumer that stops pulling, after idleTimeoutMs", async () => {
    const iterator = readSnapshot(db, (tx) => numbers(tx, 100), { idleTimeoutMs: 100 })[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    await databaseIsFree(); // waits for the idle timeout on the one connection
    await expect(iterator.next()).rejects.toThrow(/pulled nothing for 100 ms/);
  });

  it("ends the transaction when its signal aborts, and the next pull rejects with the reason", async () => {
    const abort = new AbortController();
    const iterator = readSnapshot(db, (tx) => numbers(tx, 100), { signal: abort.signal })[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    abort.abort(new Error("client cancelled"));
    await databaseIsFree();
    await expect(iterator.next()).rejects.toThrow("client cancelled");
    await expect(drain(readSnapshot(db, (tx) => numbers(tx), { signal: abort.signal }))).rejects.toThrow("client cancelled");
  });

  it("begins no transaction until the first pull", async () => {
    let started = false;
    const snapshot = readSnapshot(db, async function* () {
      started = true;
      yield 1;
    });
    snapshot[Symbol.asyncIterator]();
    await sleep(10);
    expect(started).toBe(false);
    await databaseIsFree();
  });
});

describe("cursorRows", () => {
  it("fetches batches of batchSize as objects keyed by column name, the last one short", async () => {
    const sizes: number[] = [];
    await db.transaction(async (tx) => {
      for await (const batch of cursorRows<{ n: number; name: string }>(
        tx as unknown as Db,
        sql`SELECT n, name FROM things WHERE n <= ${1234} ORDER BY n`,
        500,
      )) {
        sizes.push(batch.length);
        expect(batch[0]).toEqual({ n: batch[0]!.n, name: `thing ${batch[0]!.n}` });
      }
    });
    expect(sizes).toEqual([500, 500, 234]);
  });

  it("gives two cursors of one transaction names of their own, and reuses names across transactions of other shapes", async () => {
    for (let round = 0; round < 2; round++) {
      await db.transaction(async (tx) => {
        const t = tx as unknown as Db;
        const a = cursorRows<{ n: number }>(t, sql`SELECT n FROM things ORDER BY n LIMIT 3`, 2)[Symbol.asyncIterator]();
        const b = cursorRows<{ label: string; twice: number }>(t, sql`SELECT 'x' || n AS label, n * 2 AS twice FROM things ORDER BY n DESC LIMIT 3`, 2)[
          Symbol.asyncIterator
        ]();
        expect((await a.next()).value).toEqual([{ n: 1 }, { n: 2 }]);
        expect((await b.next()).value).toEqual([
          { label: "x2500", twice: 5000 },
          { label: "x2499", twice: 4998 },
        ]);
        expect((await a.next()).value).toEqual([{ n: 3 }]);
        expect((await b.next()).value).toEqual([{ label: "x2498", twice: 4996 }]);
        expect((await a.next()).done).toBe(true);
        expect((await b.next()).done).toBe(true);
        const [open] = await rows<{ n: number }>(t, sql`SELECT count(*)::int AS n FROM pg_cursors WHERE name LIKE 'download_cursor_%'`);
        expect(open!.n).toBe(0); // both closed
      });
    }
  });

  it("yields nothing for no rows, and passes a query's error on, not CLOSE's", async () => {
    await db.transaction(async (tx) => {
      expect(await drain(cursorRows(tx as unknown as Db, sql`SELECT n FROM things WHERE false`))).toEqual([]);
    });
    const failed = failure(db.transaction((tx) => drain(cursorRows(tx as unknown as Db, sql`SELECT 1 / (n - 150) FROM things ORDER BY n`, 100))));
    expect(await failed).toMatch(/division by zero/);
    await expect(drain(cursorRows(db, sql`SELECT 1`, 0))).rejects.toThrow(/batchSize/);
  });

  it("binds the query's parameters", async () => {
    const got = await db.transaction(async (tx) =>
      drain(cursorRows<{ n: number }>(tx as unknown as Db, sql`SELECT n FROM things WHERE n BETWEEN ${5} AND ${7} ORDER BY n`)),
    );
    expect(got.flat()).toEqual([{ n: 5 }, { n: 6 }, { n: 7 }]);
  });
});

describe("rfc3339Utc", () => {
  it("writes a timestamptz as toISOString() does, whatever the session's time zone", async () => {
    const instant = new Date("2026-11-26T10:30:00.123Z");
    const got = await db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL TimeZone = 'America/New_York'`);
      return rows<{ t: string; none: string | null }>(
        tx as unknown as Db,
        sql`SELECT ${rfc3339Utc(sql`${instant.toISOString()}::timestamptz`)} AS t, ${rfc3339Utc(sql`NULL`)} AS none`,
      );
    });
    expect(got).toEqual([{ t: instant.toISOString(), none: null }]);
  });
});

/** What a promise rejects with, its causes' messages included (drizzle wraps driver errors). */
async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    const messages: string[] = [];
    for (let e = err as Error | undefined; e; e = e.cause as Error | undefined) messages.push(e.message);
    return messages.join(" <- ");
  }
  throw new Error("expected a rejection");
}

async function drain<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

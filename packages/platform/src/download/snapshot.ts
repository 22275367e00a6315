import { type SQL, sql } from "drizzle-orm";
import { type Db, rows } from "../db.js";

export interface SnapshotOptions {
  /**
   * Ends the transaction when aborted (pass the call's `ctx.signal`): the consumer's next pull
   * then rejects with the signal's reason. Without it a cancelled call still ends the transaction
   * when its consumer calls `return()`, or at the idle timeout.
   */
  signal?: AbortSignal | undefined;
  /**
   * How long an item read ahead may wait for the consumer to pull it before the transaction is
   * ended anyway (the consumer's next pull then rejects): a consumer that is neither pulling nor
   * stopping (a stalled or abandoned call) must not hold a connection, or on PGlite the whole
   * database, forever. 60 s by default.
   */
  idleTimeoutMs?: number | undefined;
}

/** How long a snapshot waits for its consumer by default (see SnapshotOptions.idleTimeoutMs). */
export const SNAPSHOT_IDLE_TIMEOUT_MS = 60_000;

/** One consistent, read-only view of the database: a count and the rows read after it agree. */
const SNAPSHOT = { isolationLevel: "repeatable read", accessMode: "read only" } as const;

/**
 * Runs `work` inside one `REPEATABLE READ, READ ONLY` transaction and yields its items as the
 * consumer pulls them: the transaction waits for the consumer, and reads at most one item ahead
 * of it. The transaction begins at the first pull and ends (a commit: it changed nothing) when
 * the work is done, when the consumer stops early (`return()`, e.g. `break` in `for await`, or a
 * cancelled call), when `work` throws (the error reaches the consumer, after the items before
 * it), when `signal` aborts, or when an item waits longer than `idleTimeoutMs`. The consumer's
 * last pull, or its `return()`, settles only once the transaction has ended, so the connection
 * is back in the pool (postgres.js) and the database free for other queries (PGlite, which runs
 * one transaction at a time and makes every other query wait for it) by then.
 *
 * `db` is the database, not a transaction (the isolation level must be the transaction's first
 * statement). Works on postgres.js and PGlite through drizzle's `db.transaction`. Inside `work`
 * query `tx` only: on PGlite a query on `db` waits for this very transaction, forever. On
 * PGlite every other query of the process waits while a snapshot is open, so pass the call's
 * signal: the platform's gRPC server does not stop a stream handler whose client cancelled while
 * it waited for 'drain', and without the signal only the idle timeout would end the transaction.
 *
 * ```ts
 * yield* readSnapshot(db, async function* (tx) {
 *   const total = await countRows(tx);
 *   yield* csvDownload({ ..., totalRows: total, rows: batches(cursorRows(tx, query)) });
 * }, { signal: ctx.signal });
 * ```
 */
export function readSnapshot<T>(db: Db, work: (tx: Db) => AsyncIterable<T>, opts: SnapshotOptions = {}): AsyncIterable<T> {
  return snapshotItems(db, work, opts);
}

async function* snapshotItems<T>(db: Db, work: (tx: Db) => AsyncIterable<T>, opts: SnapshotOptions): AsyncGenerator<T, void, undefined> {
  const { signal } = opts;
  signal?.throwIfAborted();
  const handoff = new Handoff<T>(opts.idleTimeoutMs ?? SNAPSHOT_IDLE_TIMEOUT_MS);
  const onAbort = () => handoff.close({ error: signal?.reason });
  signal?.addEventListener("abort", onAbort, { once: true });
  // Never rejects: how the transaction ended is told to the consumer through the handoff.
  const ended = db
    .transaction((tx) => produce(work(tx as unknown as Db), handoff), SNAPSHOT)
    .then(
      () => handoff.close({}),
      (error: unknown) => handoff.close({ error }),
    );
  try {
    for (;;) {
      const next = await handoff.take();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    handoff.close({}); // a consumer that stopped early: the producer stops at its next handoff
    await ended;
  }
}

/** Inside the transaction: pulls the work's items one at a time, each when the consumer took the last. */
async function produce<T>(items: AsyncIterable<T>, handoff: Handoff<T>): Promise<void> {
  const iterator = items[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done) {
        finished = true;
        return;
      }
      if (!(await handoff.put(next.value))) return; // the consumer is gone
    }
  } catch (err) {
    finished = true; // an iterator that threw is done; nothing left to close
    throw err;
  } finally {
    // Stopped early: let the work clean up (close its cursor) while the transaction is still open.
    if (!finished) await iterator.return?.();
  }
}

type Ending = { error?: unknown };

/**
 * The meeting point of the transaction (producer) and the consumer: holds at most one item, and
 * the end of the stream (done, or an error) once there is one. The first ending wins.
 */
class Handoff<T> {
  private item: { value: T } | undefined;
  private ending: Ending | undefined;
  private consumer: { resolve: (r: IteratorResult<T, undefined>) => void; reject: (err: unknown) => void } | undefined;
  private producer: ((taken: boolean) => void) | undefined;
  private idle: NodeJS.Timeout | undefined;

  constructor(private readonly idleTimeoutMs: number) {}

  /** Producer: offers one item; true once the consumer took it, false when the stream has ended. */
  put(value: T): Promise<boolean> {
    if (this.ending) return Promise.resolve(false);
    if (this.consumer) {
      const consumer = this.consumer;
      this.consumer = undefined;
      consumer.resolve({ done: false, value });
      return Promise.resolve(true);
    }
    this.item = { value };
    this.idle = setTimeout(() => this.close({ error: idleError(this.idleTimeoutMs) }), this.idleTimeoutMs);
    this.idle.unref();
    return new Promise((resolve) => {
      this.producer = resolve;
    });
  }

  /** Consumer: the next item, or the end. */
  take(): Promise<IteratorResult<T, undefined>> {
    if (this.item) {
      const { value } = this.item;
      this.item = undefined;
      clearTimeout(this.idle);
      this.wakeProducer(true);
      return Promise.resolve({ done: false, value });
    }
    if (this.ending) return this.ending.error === undefined ? Promise.resolve({ done: true, value: undefined }) : Promise.reject(this.ending.error);
    return new Promise((resolve, reject) => {
      this.consumer = { resolve, reject };
    });
  }

  /** Ends the stream: an item not yet taken is dropped, a waiting consumer gets the end, a waiting producer stops. */
  close(ending: Ending): void {
    if (this.ending) return;
    this.ending = ending.error === undefined ? {} : ending;
    this.item = undefined;
    clearTimeout(this.idle);
    this.wakeProducer(false);
    const consumer = this.consumer;
    this.consumer = undefined;
    if (!consumer) return;
    if (ending.error === undefined) consumer.resolve({ done: true, value: undefined });
    else consumer.reject(ending.error);
  }

  private wakeProducer(taken: boolean) {
    const producer = this.producer;
    this.producer = undefined;
    producer?.(taken);
  }
}

const idleError = (ms: number) =>
  new Error(`the snapshot's consumer pulled nothing for ${ms} ms: its transaction was ended (see SnapshotOptions.idleTimeoutMs)`);

/** Cursors declared in each transaction so far: names need only be unique within their transaction. */
const cursorsDeclared = new WeakMap<Db, number>();

/**
 * The rows of `query`, `batchSize` at a time, through a server-side cursor (`DECLARE … NO SCROLL
 * CURSOR`, `FETCH FORWARD n`, `CLOSE`), so at most one batch is in memory. `tx` must be a
 * transaction (a cursor lives in one), e.g. the one `readSnapshot` hands its work. Each batch
 * pulled is one round trip; the next is not fetched before the consumer asks for it.
 *
 * Rows are plain objects keyed by column name, as `rows()` returns them on both drivers: text,
 * integers and booleans as JavaScript values, `bigint`/`int8` as a string (postgres.js) or a
 * number (PGlite), `numeric` as a string, `json` parsed, and timestamps as Postgres text
 * ("2026-11-26 10:30:00.123456+00": drizzle keeps them raw), so select them through
 * `rfc3339Utc()` for a CSV. Cast `int8` columns to text (`::text`) to get the same type on both.
 *
 * The cursor's name is unique within the transaction (`download_cursor_<n>`), not globally:
 * the service's postgres.js client prepares every statement, so a name of its own per call would
 * leave three more prepared statements on a pooled connection for every export.
 */
export async function* cursorRows<R>(tx: Db, query: SQL, batchSize = 1000): AsyncGenerator<R[], void, undefined> {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, not ${batchSize}`);
  const n = (cursorsDeclared.get(tx) ?? 0) + 1;
  cursorsDeclared.set(tx, n);
  const cursor = `download_cursor_${n}`;
  await tx.execute(sql`DECLARE ${sql.raw(cursor)} NO SCROLL CURSOR FOR ${query}`);
  const fetch = sql.raw(`FETCH FORWARD ${batchSize} FROM ${cursor}`);
  let failed = false;
  try {
    for (;;) {
      const batch = await rows<R>(tx, fetch);
      if (batch.length > 0) yield batch;
      if (batch.length < batchSize) return;
    }
  } catch (err) {
    failed = true; // the transaction is aborted: CLOSE would only fail, and hide this error
    throw err;
  } finally {
    if (!failed) await tx.execute(sql.raw(`CLOSE ${cursor}`));
  }
}

/**
 * A `timestamptz` expression as RFC 3339 text in UTC with milliseconds, exactly as
 * `Date.prototype.toISOString()` writes it ("2026-11-26T10:30:00.123Z"), computed in SQL: raw
 * rows carry timestamps as Postgres text otherwise (see cursorRows). A plain `timestamp` is read
 * in the session's time zone first; NULL stays NULL.
 */
export function rfc3339Utc(timestamp: SQL): SQL {
  return sql`to_char((${timestamp})::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

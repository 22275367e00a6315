import type { AuditEvent } from "@inv/gen/user/v1/audit_pb";
import { lte, sql } from "drizzle-orm";
import { valueList, type Db } from "../db.js";
import type { Logger } from "../log.js";
import { decodeAuditEvent, type AuditOutboxTable } from "./outbox.js";

export interface AuditRelayOptions {
  db: Db;
  table: AuditOutboxTable;
  /** Hands events to the receiver (user.v1.AuditRecordService.RecordAuditEvents); rejects when they were not taken. */
  send: (events: AuditEvent[]) => Promise<void>;
  log: Logger;
  /** How often the outbox is looked at without a wake, while there is work (or trouble). */
  pollMs?: number;
  /**
   * How often once a look found nothing: this process's own writes wake the relay, so the poll
   * only finds rows another replica left behind. (On PGlite a look blocks the service's thread
   * for about a millisecond: once a second showed in its tail latency.)
   */
  idlePollMs?: number;
  /** Events per send (RecordAuditEvents takes at most 500). */
  batchSize?: number;
  /** Backoff after a row's first failed send; it doubles per failure up to retryMaxMs. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** A send that has not settled by then counts as failed (its events may still arrive: at least once). */
  sendTimeoutMs?: number;
  /** How long a wake waits before looking, so the writer's transaction has time to commit. */
  wakeDelayMs?: number;
  /**
   * While writes keep coming, the least time between two looks started by wakes: the writes of
   * that time ship as one batch (one claim, one send, one delete) instead of a few each. A first
   * write after a quiet spell still ships after wakeDelayMs.
   */
  busyIntervalMs?: number;
}

export interface AuditRelay {
  /** Look at the outbox soon (ignored while the receiver is failing: the rows' backoff decides). */
  wake(): void;
  /** Ships every row due now; resolves with how many events were shipped. Never rejects. */
  flush(): Promise<number>;
  /** Stops the timer and waits for a batch in flight. */
  stop(): Promise<void>;
}

/**
 * Ships the outbox's rows to the receiver, at least once, oldest first, and deletes each row only
 * after `send` took it. Any number of replicas may relay one table at once.
 *
 * A batch is claimed with one statement: `UPDATE … SET next_attempt_at = now() + lease WHERE id
 * IN (SELECT … ORDER BY occur_time LIMIT n FOR UPDATE SKIP LOCKED) RETURNING …`. SKIP LOCKED
 * keeps concurrent claims apart, and the lease keeps the rows from other relays while this one
 * sends, without holding a transaction (and row locks) open across the network call. That
 * matters on PGlite, which has one connection: an open transaction there would stall every query
 * of the service for as long as the receiver takes to answer. If this process dies mid-send the
 * lease simply runs out and another relay (or this one, restarted) ships the rows again.
 *
 * When a send fails the rows stay, with `attempts` bumped and `next_attempt_at` pushed out
 * (retryMinMs doubling to retryMaxMs); one warning is logged per failure streak, and wakes are
 * ignored until a send succeeds again, so a receiver that is down costs one attempt per poll at
 * most. Nothing is thrown out of the loop: database errors count as failures too.
 */
export function startAuditRelay(opts: AuditRelayOptions): AuditRelay {
  const { db, table: t, send, log } = opts;
  const pollMs = opts.pollMs ?? 1000;
  const batchSize = opts.batchSize ?? 500;
  const retryMinMs = Math.max(1, Math.trunc(opts.retryMinMs ?? 1000));
  const retryMaxMs = Math.max(retryMinMs, Math.trunc(opts.retryMaxMs ?? 60_000));
  const sendTimeoutMs = opts.sendTimeoutMs ?? 30_000;
  const leaseMs = Math.trunc(sendTimeoutMs + 30_000);
  const wakeDelayMs = opts.wakeDelayMs ?? 20;
  const idlePollMs = Math.max(pollMs, opts.idlePollMs ?? 10_000);
  const busyIntervalMs = Math.max(wakeDelayMs, opts.busyIntervalMs ?? 250);
  let lastDrainAt = Number.NEGATIVE_INFINITY;

  let stopped = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  // Batches run one at a time per relay: the timer, wakes and flush() all queue here.
  let chain: Promise<unknown> = Promise.resolve();

  const exclusive = (fn: () => Promise<number>): Promise<number> => {
    const run = chain.then(fn);
    chain = run.catch(() => 0);
    return run;
  };

  /** Runs a drain in `ms`, unless one is already due sooner. */
  const schedule = (ms: number) => {
    if (stopped) return;
    const at = Date.now() + ms;
    if (timer && timerAt <= at) return;
    clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(tick, ms);
    timer.unref();
  };

  const tick = () => {
    timer = undefined;
    timerAt = Number.POSITIVE_INFINITY;
    lastDrainAt = Date.now();
    void exclusive(drain).then((shipped) => schedule(shipped > 0 || failing ? pollMs : idlePollMs));
  };

  async function drain(): Promise<number> {
    let shipped = 0;
    for (;;) {
      const batch = await shipBatch();
      shipped += batch.shipped;
      if (!batch.more || stopped) return shipped;
    }
  }

  async function shipBatch(): Promise<{ shipped: number; more: boolean }> {
    try {
      const claimed = await claim();
      if (claimed.length === 0) return { shipped: 0, more: false };
      const more = claimed.length === batchSize;
      const events: AuditEvent[] = [];
      const undecodable: string[] = [];
      for (const row of claimed) {
        try {
          events.push(decodeAuditEvent(row.event));
        } catch {
          undecodable.push(row.id);
        }
      }
      if (undecodable.length > 0) {
        // Kept, not dropped (never lose a row): someone has to look, and the backoff keeps them out of the way.
        log.error({ ids: undecodable }, "audit relay: outbox rows that do not decode; kept and retried with backoff");
        await backOff(undecodable);
      }
      if (events.length === 0) return { shipped: 0, more };
      const ids = events.map((e) => e.id);
      try {
        await withTimeout(send(events), sendTimeoutMs);
      } catch (err) {
        failed(err, events.length);
        await backOff(ids);
        return { shipped: 0, more: false };
      }
      await db.delete(t).where(sql`${t.id} IN ${valueList(ids, "uuid")}`);
      if (failing) log.info({ events: events.length }, "audit relay: shipping again");
      failing = false;
      return { shipped: events.length, more };
    } catch (err) {
      // The database failed us: claimed rows keep their lease and come back when it runs out.
      failed(err, 0);
      return { shipped: 0, more: false };
    }
  }

  /** Leases the oldest due rows to this relay (see above). */
  async function claim() {
    const due = db
      .select({ id: t.id })
      .from(t)
      .where(lte(t.nextAttemptAt, sql`now()`))
      .orderBy(t.occurTime)
      .limit(batchSize)
      .for("update", { skipLocked: true });
    const claimed = await db
      .update(t)
      .set({ nextAttemptAt: sql`now() + ${sql.raw(String(leaseMs))} * interval '1 millisecond'` })
      .where(sql`${t.id} IN ${due}`)
      .returning({ id: t.id, event: t.event, occurTime: t.occurTime });
    return claimed.sort((a, b) => a.occurTime.getTime() - b.occurTime.getTime());
  }

  /** One more failed attempt for these rows: retry after retryMinMs · 2^attempts, at most retryMaxMs. */
  async function backOff(ids: string[]) {
    const delay = sql`least(${sql.raw(String(retryMaxMs))}, ${sql.raw(String(retryMinMs))} * power(2, least(${t.attempts}, 30)))`;
    await db
      .update(t)
      .set({ attempts: sql`${t.attempts} + 1`, nextAttemptAt: sql`now() + ${delay} * interval '1 millisecond'` })
      .where(sql`${t.id} IN ${valueList(ids, "uuid")}`);
  }

  function failed(err: unknown, events: number) {
    if (!failing) log.warn({ err, events }, "audit relay: cannot ship audit events; keeping them and retrying with backoff");
    failing = true;
  }

  // Rows left by an earlier run ship at the first poll.
  schedule(pollMs);

  return {
    wake() {
      if (!failing) schedule(Math.max(wakeDelayMs, lastDrainAt + busyIntervalMs - Date.now()));
    },
    flush: () => exclusive(drain),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await chain;
    },
  };
}

/** The promise, or a rejection once `ms` have passed. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

import { Unavailable, inTransaction, type Logger } from "@inv/platform";
import { recordOutcome, runStep, settleStale, type Saga } from "./saga.js";
import { claimForSweep } from "./store/reservations.js";

export interface SweeperOptions {
  /** How often it looks. */
  intervalMs: number;
  /** How long a reservation may stay PENDING before the sweeper takes it for cut off. */
  pendingGraceMs: number;
  /** Reservations claimed per transaction. */
  batch?: number;
}

/**
 * One pass of the sweeper: claims a batch of reservations that need it (FOR UPDATE SKIP LOCKED,
 * so every replica may sweep at once and none takes another's), then for each finishes the confirm
 * or cancel a cut-off call left marked, or expires it (past its expiry: its hold released), or
 * repairs it (left PENDING: finished or undone as its hold in inventory says). A reservation that
 * cannot be settled now is left for the next pass; when inventory cannot be reached, so is the
 * rest of the batch, so that its rows are not kept locked (a confirm or cancel of one would wait)
 * while every call waits out its deadline. Returns how many it claimed.
 */
export async function sweepOnce(saga: Saga, opts: SweeperOptions, log?: Logger): Promise<number> {
  return inTransaction(saga.db, async (tx) => {
    const claimed = await claimForSweep(tx, opts.pendingGraceMs, opts.batch ?? 20);
    for (const row of claimed) {
      try {
        if (row.step !== "") {
          // A confirm or cancel cut off after it was marked: finish it.
          const outcome = await runStep(saga, row);
          await recordOutcome(tx, row, outcome);
        } else await settleStale(saga, row, tx);
      } catch (err) {
        log?.warn({ err, reservationId: row.id }, "reservation not swept; trying again at the next pass");
        // Inventory cannot be reached: the rest of the batch would wait on it too, holding their rows.
        if (err instanceof Unavailable) break;
      }
    }
    return claimed.length;
  });
}

/** Runs sweepOnce every intervalMs (again at once while it finds full batches); returns a stop function. */
export function startSweeper(saga: Saga, opts: SweeperOptions, log: Logger): () => Promise<void> {
  let stopped = false;
  let running: Promise<void> | undefined;
  const batch = opts.batch ?? 20;
  const pass = async () => {
    try {
      while (!stopped && (await sweepOnce(saga, { ...opts, batch }, log)) >= batch) {}
    } catch (err) {
      log.warn({ err }, "reservation sweep failed; trying again at the next pass");
    }
  };
  const timer = setInterval(() => {
    running ??= pass().finally(() => {
      running = undefined;
    });
  }, opts.intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}

import { retryingConflicts, type Db } from "@inv/platform";
import { takeHolds, type HoldToTake, type TakeOutcome } from "./store/holds.js";

export interface HoldBatchOptions {
  /** Statements in flight at once; holds that arrive while all are busy wait for the next batch. */
  lanes?: number;
  /** Holds in one statement at most. */
  maxBatch?: number;
}

interface Waiting {
  take: HoldToTake;
  resolve(outcome: TakeOutcome): void;
  reject(err: unknown): void;
}

/**
 * Takes planned holds in batches, one statement per batch (takeHolds). A hold that arrives while
 * a lane is free goes at once, alone; holds that arrive while every lane is busy queue and go
 * together as the next statement. So a quiet service takes each hold with one statement and no
 * wait, and a busy one takes many with one lock of each level and one commit: on one hot level,
 * the holds queued behind a lock are taken together instead of one commit after another.
 *
 * Each hold in a batch is taken or not on its own (the outcomes are per hold), and the levels
 * are locked in level id order first, so batches do not deadlock. Should a statement fail as a
 * whole (the database is unreachable, say), every hold of its batch gets the error; nothing of
 * the batch was written.
 */
export function holdBatches(db: Db, opts: HoldBatchOptions = {}) {
  const lanes = opts.lanes ?? 2;
  const maxBatch = opts.maxBatch ?? 32;
  const queue: Waiting[] = [];
  let busy = 0;
  const counts = { statements: 0, holds: 0 };

  const send = async (batch: Waiting[]) => {
    counts.statements++;
    counts.holds += batch.length;
    try {
      const outcomes = await retryingConflicts(() =>
        takeHolds(
          db,
          batch.map((w) => w.take),
        ),
      );
      batch.forEach((w, i) => w.resolve(outcomes[i]!));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  };

  const pump = () => {
    while (busy < lanes && queue.length > 0) {
      busy++;
      void send(queue.splice(0, maxBatch)).finally(() => {
        busy--;
        pump();
      });
    }
  };

  return {
    take(take: HoldToTake): Promise<TakeOutcome> {
      return new Promise((resolve, reject) => {
        queue.push({ take, resolve, reject });
        pump();
      });
    },
    /** Statements sent and holds they carried, so far. */
    stats: () => ({ ...counts }),
  };
}

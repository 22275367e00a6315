export interface BatchLaneOptions {
  /** Batches in flight at once; items that arrive while all lanes are busy wait for the next batch. */
  lanes?: number;
  /** Items in one batch at most. */
  maxBatch?: number;
}

export interface BatchLanes<In, Out> {
  /** Sends `item` with the next batch; resolves with its own outcome. */
  submit(item: In): Promise<Out>;
  /** Batches sent and the items they carried, so far. */
  stats(): { batches: number; items: number };
}

interface Waiting<In, Out> {
  item: In;
  resolve(outcome: Out): void;
  reject(err: unknown): void;
}

/**
 * Sends items in batches, at most `lanes` batches at once: an item that arrives while a lane is
 * free goes at once, alone; items that arrive while every lane is busy queue and go together as
 * the next batch. So a quiet caller pays no wait and no batching, and a busy one sends one
 * statement (one round trip, one commit) for many items.
 *
 * `send` answers with one outcome per item, in the items' order. When it rejects, every item of
 * its batch rejects with that error; it must then have done nothing for any of them (one
 * statement, one transaction).
 */
export function batchLanes<In, Out>(send: (batch: In[]) => Promise<Out[]>, opts: BatchLaneOptions = {}): BatchLanes<In, Out> {
  const lanes = opts.lanes ?? 2;
  const maxBatch = opts.maxBatch ?? 32;
  const queue: Waiting<In, Out>[] = [];
  let busy = 0;
  const counts = { batches: 0, items: 0 };

  const run = async (batch: Waiting<In, Out>[]) => {
    counts.batches++;
    counts.items += batch.length;
    try {
      const outcomes = await send(batch.map((w) => w.item));
      if (outcomes.length !== batch.length) throw new Error(`a batch of ${batch.length} got ${outcomes.length} outcomes`);
      batch.forEach((w, i) => w.resolve(outcomes[i] as Out));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  };

  const pump = () => {
    while (busy < lanes && queue.length > 0) {
      busy++;
      void run(queue.splice(0, maxBatch)).finally(() => {
        busy--;
        pump();
      });
    }
  };

  return {
    submit: (item) =>
      new Promise<Out>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        pump();
      }),
    stats: () => ({ ...counts }),
  };
}

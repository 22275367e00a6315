import { batchLanes, retryingConflicts, type BatchLaneOptions, type Db } from "@inv/platform";
import { readHoldPlannings, takeHolds, type HoldPlanning, type HoldToTake, type PlanningQuery, type TakeOutcome } from "./store/holds.js";

/**
 * Takes planned holds in batches, one statement per batch (takeHolds; see batchLanes for when
 * holds go together). On one hot level, the holds queued behind its lock are taken together, with
 * one lock of the level and one commit, instead of one commit after another.
 *
 * Each hold in a batch is taken or not on its own (the outcomes are per hold), and the levels
 * are locked in level id order first, so batches do not deadlock. Should a statement fail as a
 * whole (the database is unreachable, say), every hold of its batch gets the error; nothing of
 * the batch was written.
 */
export function holdBatches(db: Db, opts: BatchLaneOptions = {}) {
  const lanes = batchLanes((takes: HoldToTake[]) => retryingConflicts(() => takeHolds(db, takes)), opts);
  return { take: (take: HoldToTake): Promise<TakeOutcome> => lanes.submit(take), stats: lanes.stats };
}

/**
 * Reads what holds are planned from in batches, one statement per batch (readHoldPlannings): the
 * reads of the holds that arrive while the lanes are busy share one round trip and one snapshot.
 */
export function planningReads(db: Db, opts: BatchLaneOptions = {}) {
  const lanes = batchLanes((queries: PlanningQuery[]) => readHoldPlannings(db, queries), opts);
  return { read: (query: PlanningQuery): Promise<HoldPlanning> => lanes.submit(query), stats: lanes.stats };
}

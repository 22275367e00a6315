import { randomBytes } from "node:crypto";
import { ReservationService } from "@inv/gen/reservation/v1/reservation_pb";
import { startTestInventory, type MemoryDirectory, type TestInventory } from "@inv/inventory-service/testing";
import { startTestService, type TestService } from "@inv/platform/testing";
import type { Hold } from "@inv/gen/inventory/v1/hold_pb";
import { Unavailable, type Db } from "@inv/platform";
import { reservationDefinition, type ReservationConfig } from "./index.js";
import { grpcStockHolds, type StockHolds } from "./inventory.js";
import { byPriority, type WarehouseList } from "./warehouses.js";

/** The active warehouses of a MemoryDirectory: the same ones inventory's tests place stock in. */
export const memoryWarehouseList = (directory: MemoryDirectory): WarehouseList => ({
  active: async () =>
    [...directory.warehouses.values()]
      .filter((w) => w.active && !w.deleted)
      .map((w) => ({ id: w.id, code: w.code, priority: w.priority }))
      .sort(byPriority),
});

/** Faults the tests switch on in the reservation service's calls to inventory. */
export interface Faults {
  /** Inventory cannot be reached: every call fails with UNAVAILABLE, as a stopped process does. */
  inventoryDown: boolean;
  /** The process dies right after inventory took a hold, before it records anything. */
  crashAfterHold: boolean;
  /** The process dies right after inventory committed or released a hold (a confirm or cancel), before it records anything. */
  crashAfterSettle: boolean;
  /** Inventory takes the hold but its answer never arrives: the call fails with UNAVAILABLE, as at its deadline. */
  holdAnswerLost?: boolean;
  /** Runs before each release reaches inventory: what another process does meanwhile (the sweeper repairing the reservation, say). */
  beforeRelease?: (reservationId: string) => Promise<void>;
}

/** Thrown where the process would have died: nothing after it runs, and the caller gets no answer of ours. */
export class SimulatedCrash extends Error {}

function faulty(holds: StockHolds, faults: Faults): StockHolds {
  const guard =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (faults.inventoryDown) throw new Unavailable("inventory could not be reached; nothing is held: retry", undefined, "INVENTORY_UNAVAILABLE");
      return call(...args);
    };
  const crashingAfter =
    (call: (reservationId: string, text: string) => Promise<Hold>) =>
    async (reservationId: string, text: string): Promise<Hold> => {
      const hold = await call(reservationId, text);
      if (faults.crashAfterSettle) throw new SimulatedCrash("the reservation process died after inventory settled the hold");
      return hold;
    };
  return {
    hold: guard(async (req) => {
      const hold = await holds.hold(req);
      if (faults.crashAfterHold) throw new SimulatedCrash("the reservation process died after the hold was taken");
      if (faults.holdAnswerLost) throw new Unavailable("inventory did not answer in time", undefined, "INVENTORY_UNAVAILABLE");
      return hold;
    }),
    release: guard(
      crashingAfter(async (reservationId, text) => {
        await faults.beforeRelease?.(reservationId);
        return holds.release(reservationId, text);
      }),
    ),
    commit: guard(crashingAfter(holds.commit)),
    restock: guard(crashingAfter(holds.restock)),
    get: guard(holds.get),
  };
}

export interface TestReservations {
  svc: TestService;
  /** The reservation service's own database, for checks made directly in it. */
  db: Db;
  faults: Faults;
  /** The inventory service it holds stock in, with its warehouses in memory. */
  inv: TestInventory;
  reservations: ReturnType<typeof reservationClient>;
  stop(): Promise<void>;
}

const reservationClient = (svc: TestService) => svc.client(ReservationService);

/**
 * Test settings: a quick sweeper, and a grace for reservations left pending that outlasts a hold
 * call's deadline, as in production. Both leave room for a loaded CI machine on the embedded engine,
 * where a hundred Reserves at once queue on one connection for seconds: a Reserve whose call is
 * still in flight is then neither cut off by its deadline nor repaired by the sweeper, either of
 * which ends it FAILED (and lets a retry of its order make a second reservation) where a test
 * expects it held. Those interleavings are tested on purpose, with faults.
 */
export const TEST_CONFIG: Partial<ReservationConfig> = {
  RESERVATION_SWEEP_INTERVAL_MS: 100,
  RESERVATION_PENDING_GRACE_MS: 6_000,
  RESERVATION_INVENTORY_DEADLINE_MS: 5_000,
};

/** The reservation service over its own database, holding stock in a test inventory service over gRPC. */
export async function startTestReservations(config: Partial<ReservationConfig> = {}): Promise<TestReservations> {
  const serviceSecret = randomBytes(32).toString("hex");
  const inv = await startTestInventory({ serviceSecret });
  const faults: Faults = { inventoryDown: false, crashAfterHold: false, crashAfterSettle: false };
  const settings = { ...TEST_CONFIG, ...config };
  const def = reservationDefinition({
    config: settings,
    warehouses: () => memoryWarehouseList(inv.directory),
    holds: (resources) => faulty(grpcStockHolds(resources, settings.RESERVATION_INVENTORY_DEADLINE_MS ?? 3_000), faults),
  });
  const svc = await startTestService(def, { serviceSecret, targets: { inventory: inv.svc.target } });
  return {
    svc,
    db: svc.db,
    faults,
    inv,
    reservations: reservationClient(svc),
    async stop() {
      await svc.stop();
      await inv.stop();
    },
  };
}
export { invariantProblems } from "./invariants.js";

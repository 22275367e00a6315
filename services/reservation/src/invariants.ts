import { ReservationStatus } from "@inv/gen/reservation/v1/reservation_pb";
import { reconcile } from "@inv/inventory-service/testing";
import { rows, type Db } from "@inv/platform";
import { sql } from "drizzle-orm";
import type { LineJson } from "./store/schema.js";

/** Hold states each reservation status may have in inventory (none: no hold at all). */
const HOLD_STATES: Record<number, (number | "none")[]> = {
  [ReservationStatus.ACTIVE]: [1],
  [ReservationStatus.CONFIRMED]: [3],
  [ReservationStatus.FULFILLED]: [3],
  [ReservationStatus.CANCELLED]: [2, 5],
  [ReservationStatus.EXPIRED]: [2],
  [ReservationStatus.FAILED]: [4, 2, "none"],
};

/**
 * Every invariant across the reservation and inventory services, read straight from their
 * databases (the same one when they share it): the problems found, none when all hold.
 * - every reservation's hold is in a state its status allows (HOLD_STATES): an ACTIVE one is
 *   HELD, a CONFIRMED or FULFILLED one COMMITTED (so committed stock is theirs), an ended one
 *   released, restocked, failed or never taken;
 * - no HELD hold lacks its reservation, and no reservation is left with a step marked under way;
 * - every stock level's reserved is the quantities of the ACTIVE reservations allocated there;
 * - the ledger reconciles (inventory's reconcile query returns nothing).
 * Meaningful once no call is in flight and the sweeper has settled what was cut off.
 */
export async function invariantProblems(reservationDb: Db, inventoryDb: Db): Promise<string[]> {
  const found: string[] = [];
  const reservations = await rows<{ id: string; status: number; step: string; lines: LineJson[] }>(
    reservationDb,
    sql`SELECT id::text, status, step, lines FROM reservation.reservations`,
  );
  const holds = new Map(
    (await rows<{ reservation_id: string; state: number }>(inventoryDb, sql`SELECT reservation_id, state FROM inventory.holds`)).map((h) => [
      h.reservation_id,
      h.state,
    ]),
  );
  const held = new Map<string, number>();
  for (const r of reservations) {
    const state = holds.get(r.id) ?? "none";
    if (!HOLD_STATES[r.status]?.includes(state)) found.push(`reservation ${r.id} is ${ReservationStatus[r.status]} but its hold is ${state}`);
    if (r.step !== "") found.push(`reservation ${r.id} is ${ReservationStatus[r.status]} with a ${r.step} still marked under way`);
    if (r.status === ReservationStatus.ACTIVE)
      for (const l of r.lines) for (const a of l.allocations) held.set(a.stockLevelId, (held.get(a.stockLevelId) ?? 0) + a.quantity);
  }
  const known = new Set(reservations.map((r) => r.id));
  for (const [id, state] of holds) if (state === 1 && !known.has(id)) found.push(`hold ${id} has no reservation`);
  const levels = await rows<{ id: string; reserved: string }>(inventoryDb, sql`SELECT id::text, reserved::text FROM inventory.stock_levels`);
  for (const l of levels) {
    if (Number(l.reserved) !== (held.get(l.id) ?? 0)) found.push(`level ${l.id} has ${l.reserved} reserved, its active reservations ${held.get(l.id) ?? 0}`);
  }
  found.push(...(await reconcile(inventoryDb)).map((r) => `reconcile: ${JSON.stringify(r)}`));
  return found;
}

import { rows, type Db } from "@inv/platform";
import { sql } from "drizzle-orm";

/**
 * The reconcile query: every stock level whose quantities disagree with its ledger or its holds.
 * It returns no rows while the invariants hold, which the tests check after every run and an
 * operator can run at any time:
 *
 * - on_hand is the sum of the level's ledger deltas, reserved the sum of its reserved deltas;
 * - the level's sequence is the number of its entries, and the entries chain: each one's
 *   "before" is the previous one's "after";
 * - reserved is the sum of what HELD holds have allocated on the level;
 * - 0 <= reserved <= on_hand (also a CHECK constraint).
 */
export interface Discrepancy {
  stock_level_id: string;
  on_hand: number;
  reserved: number;
  sequence: number;
  ledger_on_hand: number;
  ledger_reserved: number;
  ledger_entries: number;
  broken_links: number;
  held: number;
}

export async function reconcile(db: Db): Promise<Discrepancy[]> {
  return rows<Discrepancy>(
    db,
    sql`
    WITH ledger AS (
      SELECT stock_level_id,
             sum(delta)::bigint AS on_hand, sum(reserved_delta)::bigint AS reserved, count(*)::bigint AS entries,
             count(*) FILTER (WHERE prev_on_hand IS DISTINCT FROM on_hand_before OR prev_reserved IS DISTINCT FROM reserved_before)::bigint AS broken
      FROM (
        SELECT m.*,
               coalesce(lag(on_hand_after) OVER w, 0) AS prev_on_hand,
               coalesce(lag(reserved_after) OVER w, 0) AS prev_reserved
        FROM inventory.movements m
        WINDOW w AS (PARTITION BY stock_level_id ORDER BY level_sequence)
      ) chained
      GROUP BY stock_level_id
    ),
    held AS (
      SELECT a.stock_level_id, sum(a.quantity)::bigint AS quantity
      FROM inventory.hold_allocations a JOIN inventory.holds h USING (reservation_id)
      WHERE h.state = 1
      GROUP BY a.stock_level_id
    )
    SELECT l.id AS stock_level_id, l.on_hand::float8 AS on_hand, l.reserved::float8 AS reserved, l.sequence::float8 AS sequence,
           coalesce(g.on_hand, 0)::float8 AS ledger_on_hand, coalesce(g.reserved, 0)::float8 AS ledger_reserved,
           coalesce(g.entries, 0)::float8 AS ledger_entries, coalesce(g.broken, 0)::float8 AS broken_links,
           coalesce(h.quantity, 0)::float8 AS held
    FROM inventory.stock_levels l
    LEFT JOIN ledger g ON g.stock_level_id = l.id
    LEFT JOIN held h ON h.stock_level_id = l.id
    WHERE l.on_hand <> coalesce(g.on_hand, 0)
       OR l.reserved <> coalesce(g.reserved, 0)
       OR l.sequence <> coalesce(g.entries, 0)
       OR coalesce(g.broken, 0) <> 0
       OR l.reserved <> coalesce(h.quantity, 0)
       OR l.reserved < 0 OR l.reserved > l.on_hand`,
  );
}

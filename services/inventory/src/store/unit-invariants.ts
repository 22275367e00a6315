import { rows, type Db } from "@inv/platform";
import { sql } from "drizzle-orm";

/**
 * The tracked-unit invariants, checked in SQL straight in the database: what the property tests
 * run after every random sequence (and the chaos run after its load), and what an operator can
 * run at any time. It returns one line per problem, none while the invariants hold:
 *
 * - every live unit is where its root is, its root is top-level, and its root and depth agree
 *   with its parent's (depth = parent's + 1; a top-level unit is its own root at depth 0);
 * - no live unit is inside a deleted one;
 * - no cycles: walking up the parent links from every live unit reaches its root in exactly
 *   `depth` steps (the walk is bounded, so a cycle would show as a walk that never gets there);
 * - replaying unit_assignments in sequence gives every unit its current parent, and each record's
 *   previous parent is the parent the record before it left;
 * - replaying unit_moves in sequence leaves every moved unit at its current place, each move
 *   starts where the one before it ended, and a carried unit's record goes with its parent's
 *   record of the same operation (same origin, same destination).
 */
export async function unitInvariantProblems(db: Db): Promise<string[]> {
  const found = await Promise.all([
    rows<{ problem: string }>(
      db,
      sql`SELECT 'unit ' || id || ': ' || problem AS problem FROM (
            SELECT u.id::text AS id, CASE
              WHEN r.id IS NULL THEN 'its root ' || u.root_id || ' does not exist'
              WHEN r.parent_id IS NOT NULL OR r.depth <> 0 OR r.root_id <> r.id THEN 'its root ' || r.id || ' is not top-level'
              WHEN r.deleted_at IS NOT NULL AND r.id <> u.id THEN 'its root ' || r.id || ' is deleted'
              WHEN u.warehouse_id <> r.warehouse_id OR u.location_id IS DISTINCT FROM r.location_id THEN 'not at the place of its root ' || r.id
              WHEN u.parent_id IS NULL AND (u.depth <> 0 OR u.root_id <> u.id) THEN 'top-level, but not its own root at depth 0'
              WHEN u.parent_id IS NOT NULL AND p.id IS NULL THEN 'its parent ' || u.parent_id || ' does not exist'
              WHEN p.deleted_at IS NOT NULL THEN 'live inside the deleted unit ' || p.id
              WHEN p.id IS NOT NULL AND (p.root_id <> u.root_id OR u.depth <> p.depth + 1) THEN 'its root or depth disagrees with its parent ' || p.id
            END AS problem
            FROM inventory.tracked_units u
            LEFT JOIN inventory.tracked_units r ON r.id = u.root_id
            LEFT JOIN inventory.tracked_units p ON p.id = u.parent_id
            WHERE u.deleted_at IS NULL
          ) checked WHERE problem IS NOT NULL`,
    ),
    rows<{ problem: string }>(
      db,
      sql`WITH RECURSIVE bound AS (SELECT coalesce(max(depth), 0) + 1 AS steps FROM inventory.tracked_units),
          walk AS (
            SELECT u.id AS start, u.id, u.parent_id, 0 AS steps FROM inventory.tracked_units u WHERE u.deleted_at IS NULL
            UNION ALL
            SELECT w.start, t.id, t.parent_id, w.steps + 1
            FROM walk w JOIN inventory.tracked_units t ON t.id = w.parent_id
            WHERE t.id <> w.start AND w.steps < (SELECT steps FROM bound)
          )
          SELECT 'unit ' || u.id || ': walking up its parents does not reach its root ' || u.root_id || ' in ' || u.depth || ' step(s) (a cycle?)' AS problem
          FROM inventory.tracked_units u
          WHERE u.deleted_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM walk w WHERE w.start = u.id AND w.parent_id IS NULL AND w.id = u.root_id AND w.steps = u.depth)`,
    ),
    rows<{ problem: string }>(
      db,
      sql`WITH last AS (
            SELECT DISTINCT ON (child_unit_id) child_unit_id, parent_id FROM inventory.unit_assignments ORDER BY child_unit_id, sequence DESC
          )
          SELECT 'unit ' || u.id || ': its assignment history ends with parent ' || coalesce(l.parent_id::text, 'none') ||
                 ', but its parent is ' || coalesce(u.parent_id::text, 'none') AS problem
          FROM inventory.tracked_units u LEFT JOIN last l ON l.child_unit_id = u.id
          WHERE u.parent_id IS DISTINCT FROM l.parent_id`,
    ),
    rows<{ problem: string }>(
      db,
      sql`SELECT 'assignment ' || id || ': its previous parent is ' || coalesce(previous_parent_id::text, 'none') ||
                 ', but the record before it left the unit in ' || coalesce(before::text, 'none') AS problem
          FROM (
            SELECT id, previous_parent_id, lag(parent_id) OVER (PARTITION BY child_unit_id ORDER BY sequence) AS before
            FROM inventory.unit_assignments
          ) chained
          WHERE previous_parent_id IS DISTINCT FROM before`,
    ),
    rows<{ problem: string }>(
      db,
      sql`WITH last AS (
            SELECT DISTINCT ON (unit_id) unit_id, to_warehouse_id, to_location_id FROM inventory.unit_moves ORDER BY unit_id, sequence DESC
          )
          SELECT 'unit ' || u.id || ': its last move went to ' || l.to_warehouse_id || '/' || coalesce(l.to_location_id::text, '-') ||
                 ', but it is at ' || u.warehouse_id || '/' || coalesce(u.location_id::text, '-') AS problem
          FROM inventory.tracked_units u JOIN last l ON l.unit_id = u.id
          WHERE u.warehouse_id <> l.to_warehouse_id OR u.location_id IS DISTINCT FROM l.to_location_id`,
    ),
    rows<{ problem: string }>(
      db,
      sql`SELECT 'move ' || id || ': starts at ' || from_warehouse_id || '/' || coalesce(from_location_id::text, '-') ||
                 ', but the unit''s move before it ended at ' || prev_warehouse || '/' || coalesce(prev_location::text, '-') AS problem
          FROM (
            SELECT id, from_warehouse_id, from_location_id,
                   lag(id) OVER w AS prev, lag(to_warehouse_id) OVER w AS prev_warehouse, lag(to_location_id) OVER w AS prev_location
            FROM inventory.unit_moves
            WINDOW w AS (PARTITION BY unit_id ORDER BY sequence)
          ) chained
          WHERE prev IS NOT NULL AND (from_warehouse_id <> prev_warehouse OR from_location_id IS DISTINCT FROM prev_location)`,
    ),
    rows<{ problem: string }>(
      db,
      sql`SELECT 'move ' || m.id || ': carried by move ' || p.id || ' of another operation or destination' AS problem
          FROM inventory.unit_moves m JOIN inventory.unit_moves p ON p.id = m.parent_move_id
          WHERE p.origin_move_id <> m.origin_move_id OR p.to_warehouse_id <> m.to_warehouse_id
             OR p.to_location_id IS DISTINCT FROM m.to_location_id OR p.moved_at <> m.moved_at`,
    ),
  ]);
  return found.flat().map((r) => r.problem);
}

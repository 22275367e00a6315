import { rows, type Db } from "@inv/platform";
import { sql, type SQL } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import type { MovementRow, StockLevelRow } from "./schema.js";

/**
 * The one way stock changes: a conditional UPDATE (or an upsert, for writes that may create the
 * level) of one stock level and the INSERT of its ledger entry, in a single statement. The
 * condition is in the statement, so there is no read-then-write and no application lock: of
 * concurrent changes to one level, each sees the row as the previous one left it (Postgres
 * re-checks the WHERE clause on the newest version), and one whose condition no longer holds
 * changes nothing. The CHECK constraints and the deferred ledger trigger (migration 0001) back
 * this up: a change that would break 0 <= reserved <= on_hand, or that lacks its entry, cannot
 * commit.
 */

/** inventory.v1.MovementKind, as stored. */
export const Kind = {
  RECEIPT: 1,
  ADJUSTMENT: 2,
  TRANSFER_OUT: 3,
  TRANSFER_IN: 4,
  HOLD: 5,
  RELEASE: 6,
  COMMIT: 7,
  RESTOCK: 8,
} as const;
export type KindCode = (typeof Kind)[keyof typeof Kind];

/** Where a level is: item x warehouse x location (null: at the warehouse, at no location). */
export interface Place {
  itemId: string;
  warehouseId: string;
  locationId: string | null;
}

/** What a ledger entry says besides the quantities. */
export interface EntryFacts {
  actor: string;
  reason: string;
  reference: string;
  reservationId?: string;
  idempotencyKey: string;
  requestId: string;
}

export interface Change {
  kind: KindCode;
  /** Signed change of on_hand. */
  onHand: number;
  /** Signed change of reserved. */
  reserved: number;
  /** Compare-and-set: apply only while on_hand is this (a missing level counts as 0). */
  expectedOnHand?: number | undefined;
  entry: EntryFacts;
  /** The entry's id, when the caller needs to know it first (the two sides of a transfer). */
  movementId?: string;
  relatedMovementId?: string;
}

/** What a new level starts with, when the change may create it. */
export interface NewLevel {
  sku: string;
  reorderPoint: number;
  reorderQuantity: number;
}

export interface Applied {
  level: StockLevelRow;
  movement: MovementRow;
}

/**
 * Applies a change to the level at `place`, creating the level first when `create` is given and
 * the change only adds to on_hand. Returns undefined when the level does not exist or its
 * condition does not hold (the change would go below reserved, below zero, or on_hand is not
 * the expected one): nothing was changed, and `explainRefusal` says why.
 */
export async function applyAt(db: Db, place: Place, change: Change, create?: NewLevel): Promise<Applied | undefined> {
  const expected = change.expectedOnHand;
  const mayCreate = create && change.onHand > 0 && change.reserved === 0 && (expected === undefined || expected === 0);
  const level = mayCreate ? upsert(place, change, create) : update(sql`${placeMatch(place)}`, change);
  return one(db, level, change);
}

/**
 * A change of a level known by id (holds, which record the levels they took from), made by the
 * database function apply_to_level (migration 0002), which take_hold uses too. Undefined when
 * the level does not exist or cannot take the change.
 */
export async function applyToLevel(db: Db, levelId: string, change: LevelChange): Promise<Applied | undefined> {
  const e = change.entry;
  const [row] = await rows<{ level: LevelJson; movement: MovementJson }>(
    db,
    sql`SELECT level, movement FROM inventory.apply_to_level(${levelId}::uuid, ${change.kind}::smallint, ${change.onHand}::bigint,
      ${change.reserved}::bigint, ${uuidv7()}::uuid, ${e.actor}, ${e.reason}, ${e.reference}, ${e.reservationId ?? ""}, ${e.idempotencyKey}, ${e.requestId})`,
  );
  return row && { level: levelFromJson(row.level), movement: movementFromJson(row.movement) };
}

/** A change by level id: no compare-and-set, no related entry. */
export type LevelChange = Pick<Change, "kind" | "onHand" | "reserved" | "entry">;

const placeMatch = (p: Place) =>
  p.locationId === null
    ? sql`l.item_id = ${p.itemId} AND l.warehouse_id = ${p.warehouseId} AND l.location_id IS NULL`
    : sql`l.item_id = ${p.itemId} AND l.warehouse_id = ${p.warehouseId} AND l.location_id = ${p.locationId}`;

/** The conditions every change keeps, whatever the constraints would otherwise refuse. */
const conditions = (c: Change) => sql`
  l.reserved + ${c.reserved}::bigint >= 0
  AND l.on_hand + ${c.onHand}::bigint >= l.reserved + ${c.reserved}::bigint
  ${c.expectedOnHand === undefined ? sql`` : sql`AND l.on_hand = ${c.expectedOnHand}::bigint`}`;

function update(where: SQL, c: Change): SQL {
  return sql`
    UPDATE inventory.stock_levels l
    SET on_hand = l.on_hand + ${c.onHand}::bigint, reserved = l.reserved + ${c.reserved}::bigint,
        sequence = l.sequence + 1, updated_at = now()
    WHERE ${where} AND ${conditions(c)}
    RETURNING l.*`;
}

function upsert(p: Place, c: Change, n: NewLevel): SQL {
  return sql`
    INSERT INTO inventory.stock_levels AS l
      (id, item_id, sku, warehouse_id, location_id, on_hand, reserved, reorder_point, reorder_quantity, sequence)
    VALUES (${uuidv7()}, ${p.itemId}, ${n.sku}, ${p.warehouseId}, ${p.locationId}, ${c.onHand}::bigint, 0, ${n.reorderPoint}, ${n.reorderQuantity}, 1)
    ON CONFLICT (item_id, warehouse_id, location_id) DO UPDATE
    SET on_hand = l.on_hand + ${c.onHand}::bigint, sequence = l.sequence + 1, updated_at = now()
    WHERE ${conditions(c)}
    RETURNING l.*`;
}

/** The level statement, then its entry from what it returned, as one statement. */
async function one(db: Db, level: SQL, c: Change): Promise<Applied | undefined> {
  const e = c.entry;
  const [row] = await rows<{ level: LevelJson; movement: MovementJson }>(
    db,
    sql`
    WITH lvl AS (${level}),
    mv AS (
      INSERT INTO inventory.movements
        (id, kind, stock_level_id, level_sequence, item_id, sku, warehouse_id, location_id, delta, reserved_delta,
         on_hand_before, on_hand_after, reserved_before, reserved_after, actor, reason, reference, reservation_id,
         related_movement_id, idempotency_key, request_id)
      SELECT ${c.movementId ?? uuidv7()}, ${c.kind}, lvl.id, lvl.sequence, lvl.item_id, lvl.sku, lvl.warehouse_id, lvl.location_id,
        ${c.onHand}::bigint, ${c.reserved}::bigint, lvl.on_hand - ${c.onHand}::bigint, lvl.on_hand,
        lvl.reserved - ${c.reserved}::bigint, lvl.reserved, ${e.actor}, ${e.reason}, ${e.reference}, ${e.reservationId ?? ""},
        ${c.relatedMovementId ?? null}, ${e.idempotencyKey}, ${e.requestId}
      FROM lvl
      RETURNING *
    )
    SELECT row_to_json(lvl) AS level, row_to_json(mv) AS movement FROM lvl, mv`,
  );
  return row && { level: levelFromJson(row.level), movement: movementFromJson(row.movement) };
}

/** Why a change to the level at `place` was not applied, read after the fact. */
export type Refusal =
  | { kind: "missing" }
  | { kind: "stale"; onHand: number }
  | { kind: "insufficient"; level: StockLevelRow }
  /** The condition holds now: a concurrent change made room since; try again. */
  | { kind: "retry" };

export async function explainRefusal(db: Db, place: Place, change: Change): Promise<Refusal> {
  const [json] = await rows<{ level: LevelJson }>(db, sql`SELECT row_to_json(l) AS level FROM inventory.stock_levels l WHERE ${placeMatch(place)}`);
  const level = json && levelFromJson(json.level);
  const onHand = level?.onHand ?? 0;
  if (change.expectedOnHand !== undefined && onHand !== change.expectedOnHand) return { kind: "stale", onHand };
  if (!level) return { kind: "missing" };
  if (level.reserved + change.reserved < 0 || level.onHand + change.onHand < level.reserved + change.reserved) return { kind: "insufficient", level };
  return { kind: "retry" };
}

/** row_to_json of a stock level: snake_case, timestamps as text. */
interface LevelJson {
  id: string;
  item_id: string;
  sku: string;
  warehouse_id: string;
  location_id: string | null;
  on_hand: number;
  reserved: number;
  reorder_point: number;
  reorder_quantity: number;
  sequence: number;
  created_at: string;
  updated_at: string;
}

interface MovementJson {
  id: string;
  sequence: number;
  kind: number;
  stock_level_id: string;
  level_sequence: number;
  item_id: string;
  sku: string;
  warehouse_id: string;
  location_id: string | null;
  delta: number;
  reserved_delta: number;
  on_hand_before: number;
  on_hand_after: number;
  reserved_before: number;
  reserved_after: number;
  actor: string;
  reason: string;
  reference: string;
  reservation_id: string;
  related_movement_id: string | null;
  idempotency_key: string;
  request_id: string;
  created_at: string;
}

export const levelFromJson = (j: LevelJson): StockLevelRow => ({
  id: j.id,
  itemId: j.item_id,
  sku: j.sku,
  warehouseId: j.warehouse_id,
  locationId: j.location_id,
  onHand: Number(j.on_hand),
  reserved: Number(j.reserved),
  reorderPoint: Number(j.reorder_point),
  reorderQuantity: Number(j.reorder_quantity),
  sequence: Number(j.sequence),
  createdAt: new Date(j.created_at),
  updatedAt: new Date(j.updated_at),
});

const movementFromJson = (j: MovementJson): MovementRow => ({
  id: j.id,
  sequence: Number(j.sequence),
  kind: j.kind,
  stockLevelId: j.stock_level_id,
  levelSequence: Number(j.level_sequence),
  itemId: j.item_id,
  sku: j.sku,
  warehouseId: j.warehouse_id,
  locationId: j.location_id,
  delta: Number(j.delta),
  reservedDelta: Number(j.reserved_delta),
  onHandBefore: Number(j.on_hand_before),
  onHandAfter: Number(j.on_hand_after),
  reservedBefore: Number(j.reserved_before),
  reservedAfter: Number(j.reserved_after),
  actor: j.actor,
  reason: j.reason,
  reference: j.reference,
  reservationId: j.reservation_id,
  relatedMovementId: j.related_movement_id,
  idempotencyKey: j.idempotency_key,
  requestId: j.request_id,
  createdAt: new Date(j.created_at),
});

import { rows, type Db } from "@inv/platform";
import { sql, type SQL } from "drizzle-orm";

/**
 * The reports, computed in SQL. Each report is a `ReportQuery`: one SELECT over the service's
 * tables (its body, unordered) whose key columns give its order. The same body serves a page
 * (keyset after the last row's key), a count and an export (every row, through a cursor), so a
 * report on screen and its CSV cannot disagree.
 *
 * Codes and paths of places and the location types live in the warehouse service; the caller
 * looks up those in scope (placesInScope) and hands them in as `PlaceNames`, which the SQL joins
 * as a table (jsonb_to_recordset), so ordering and grouping by them happen in the database too.
 */

/** A key column of a report's order: its name in the body and its SQL type, for the keyset. */
interface KeyColumn {
  name: string;
  type: "text" | "uuid" | "bigint" | "integer";
}

export interface ReportQuery {
  body: SQL;
  key: readonly KeyColumn[];
}

/** A row's position in its report: the values of its key columns, as text. */
export type ReportCursor = string[];

const NIL = "00000000-0000-0000-0000-000000000000";

/** One page: the rows after `after` in key order, at most `limit`. */
export function pageOf<R>(db: Db, q: ReportQuery, after: ReportCursor | undefined, limit: number): Promise<R[]> {
  const keys = sql.join(
    q.key.map((k) => sql.identifier(k.name)),
    sql`, `,
  );
  const cursor = after
    ? sql`WHERE (${keys}) > (${sql.join(
        q.key.map((k, i) => sql`${after[i]}::${sql.raw(k.type)}`),
        sql`, `,
      )})`
    : sql``;
  return rows<R>(db, sql`SELECT * FROM (${q.body}) r ${cursor} ORDER BY ${keys} LIMIT ${limit}`);
}

/** Every row of the report in its order: the query an export reads through a cursor. */
export function allRowsOf(q: ReportQuery): SQL {
  const keys = sql.join(
    q.key.map((k) => sql.identifier(k.name)),
    sql`, `,
  );
  return sql`SELECT * FROM (${q.body}) r ORDER BY ${keys}`;
}

export async function countOf(db: Db, q: ReportQuery): Promise<number> {
  const [row] = await rows<{ n: string }>(db, sql`SELECT count(*)::text AS n FROM (${q.body}) r`);
  return Number(row?.n ?? 0);
}

/** The cursor of a row: its key columns as text. */
export const cursorOf = (q: ReportQuery, row: Record<string, unknown>): ReportCursor => q.key.map((k) => String(row[k.name]));

/** When the data was read: the start of the transaction that reads it (the snapshot's time, near enough). */
export async function readTime(db: Db): Promise<Date> {
  const [row] = await rows<{ at: string | Date }>(db, sql`SELECT now() AS at`);
  return new Date(row!.at);
}

// --- the places a report covers, and their names -------------------------------------------

/** Codes, paths and location types of places, as the warehouse service describes them. */
export interface PlaceNames {
  warehouses: { id: string; code: string }[];
  locations: { id: string; path: string; typeId: string | null; typeName: string }[];
}

/** The warehouses and locations that hold stock or live tracked units, within one warehouse when given. */
export async function placesInScope(db: Db, warehouseId: string | undefined): Promise<{ warehouseIds: string[]; locationIds: string[] }> {
  const found = await rows<{ warehouse_id: string; location_id: string | null }>(
    db,
    sql`SELECT DISTINCT warehouse_id, location_id FROM (
          SELECT warehouse_id, location_id FROM inventory.stock_levels
          UNION ALL
          SELECT warehouse_id, location_id FROM inventory.tracked_units WHERE deleted_at IS NULL
        ) p ${warehouseId ? sql`WHERE warehouse_id = ${warehouseId}::uuid` : sql``}`,
  );
  return {
    warehouseIds: [...new Set(found.map((f) => f.warehouse_id))],
    locationIds: [...new Set(found.flatMap((f) => (f.location_id ? [f.location_id] : [])))],
  };
}

/** The names as two tables the report bodies join: wn (warehouse names) and ln (location names). */
const namesCte = (names: PlaceNames) => sql`
  wn AS (SELECT * FROM jsonb_to_recordset(${JSON.stringify(names.warehouses)}::jsonb) AS w(id uuid, code text)),
  ln AS (SELECT * FROM jsonb_to_recordset(${JSON.stringify(names.locations)}::jsonb) AS l(id uuid, path text, "typeId" uuid, "typeName" text))`;

/** The stock status rules of stock-mapping.ts stockStatus, over an item's status, available and reorder point. */
const statusOf = (itemStatus: SQL, available: SQL, reorderPoint: SQL) =>
  sql`CASE WHEN ${itemStatus} = 3 THEN 4 WHEN ${available} <= 0 THEN 3 WHEN ${available} <= ${reorderPoint} THEN 2 ELSE 1 END`;

// --- inventory status ---------------------------------------------------------------------

export interface InventoryStatusFilter {
  warehouseId?: string | undefined;
  locationId?: string | undefined;
  itemTypeId?: string | undefined;
  statuses: number[];
  includeEmpty: boolean;
}

/** One row per live item per place with stock or live tracked units: the level's quantities and the units there. */
export interface InventoryStatusRow {
  warehouse_id: string;
  warehouse_code: string;
  location_id: string | null;
  location_path: string;
  item_id: string;
  sku: string;
  item_name: string;
  item_type_id: string;
  on_hand: string;
  reserved: string;
  available: string;
  status: number;
  reorder_point: string;
  tracked_unit_count: string;
}

/** The facts per item and place: levels, full-joined with the live tracked units counted there. */
function statusFacts(f: InventoryStatusFilter, names: PlaceNames): SQL {
  return sql`WITH ${namesCte(names)},
    units AS (
      SELECT item_id, warehouse_id, location_id, count(*) AS n FROM inventory.tracked_units
      WHERE deleted_at IS NULL GROUP BY item_id, warehouse_id, location_id
    ),
    facts AS (
      SELECT coalesce(l.item_id, u.item_id) AS item_id, coalesce(l.warehouse_id, u.warehouse_id) AS warehouse_id,
        CASE WHEN l.id IS NULL THEN u.location_id ELSE l.location_id END AS location_id,
        coalesce(l.on_hand, 0) AS on_hand, coalesce(l.reserved, 0) AS reserved,
        coalesce(l.reorder_point, 0) AS reorder_point, coalesce(u.n, 0) AS units
      FROM inventory.stock_levels l
      FULL JOIN units u ON u.item_id = l.item_id AND u.warehouse_id = l.warehouse_id
        AND coalesce(u.location_id, ${NIL}::uuid) = coalesce(l.location_id, ${NIL}::uuid)
    ),
    status_rows AS (
      SELECT f.warehouse_id, coalesce(wn.code, '') AS warehouse_code, f.location_id, coalesce(ln.path, '') AS location_path,
        f.item_id, i.sku, i.name AS item_name, i.item_type_id, f.on_hand, f.reserved, f.on_hand - f.reserved AS available,
        ${statusOf(sql`i.status`, sql`f.on_hand - f.reserved`, sql`f.reorder_point`)} AS status, f.reorder_point, f.units AS tracked_unit_count
      FROM facts f
      JOIN inventory.items i ON i.id = f.item_id AND i.deleted_at IS NULL
      LEFT JOIN wn ON wn.id = f.warehouse_id
      LEFT JOIN ln ON ln.id = f.location_id
      WHERE true
        ${f.warehouseId ? sql`AND f.warehouse_id = ${f.warehouseId}::uuid` : sql``}
        ${f.locationId ? sql`AND f.location_id = ${f.locationId}::uuid` : sql``}
        ${f.itemTypeId ? sql`AND i.item_type_id = ${f.itemTypeId}::uuid` : sql``}
        ${f.includeEmpty ? sql`` : sql`AND (f.on_hand > 0 OR f.reserved > 0 OR f.units > 0)`}
    )`;
}

const statusFilter = (f: InventoryStatusFilter) =>
  f.statuses.length > 0
    ? sql`WHERE status IN (${sql.join(
        f.statuses.map((s) => sql`${s}`),
        sql`, `,
      )})`
    : sql``;

/** Ordered by warehouse code, then location path (warehouse level first), then SKU; ids break ties. */
export function inventoryStatusQuery(f: InventoryStatusFilter, names: PlaceNames): ReportQuery {
  return {
    body: sql`${statusFacts(f, names)}
      SELECT r.warehouse_id, r.warehouse_code, r.location_id, r.location_path, r.item_id, r.sku, r.item_name, r.item_type_id,
        r.on_hand::text AS on_hand, r.reserved::text AS reserved, r.available::text AS available, r.status,
        r.reorder_point::text AS reorder_point, r.tracked_unit_count::text AS tracked_unit_count,
        (r.warehouse_code || ':' || r.warehouse_id) AS k_warehouse, (r.location_id IS NOT NULL)::int AS k_at_location,
        r.location_path AS k_path, coalesce(r.location_id, ${NIL}::uuid) AS k_location, r.sku AS k_sku, r.item_id AS k_item
      FROM status_rows r ${statusFilter(f)}`,
    key: [
      { name: "k_warehouse", type: "text" },
      { name: "k_at_location", type: "integer" },
      { name: "k_path", type: "text" },
      { name: "k_location", type: "uuid" },
      { name: "k_sku", type: "text" },
      { name: "k_item", type: "uuid" },
    ],
  };
}

/** Subtotals per warehouse and per location (locations only; warehouse-level stock counts in its warehouse's subtotal). */
export interface InventoryStatusTotalRow {
  warehouse_id: string;
  warehouse_code: string;
  location_id: string | null;
  location_path: string;
  item_count: string;
  on_hand: string;
  reserved: string;
  available: string;
  low_stock_count: string;
  out_of_stock_count: string;
  tracked_unit_count: string;
}

export function inventoryStatusTotals(db: Db, f: InventoryStatusFilter, names: PlaceNames): Promise<InventoryStatusTotalRow[]> {
  return rows<InventoryStatusTotalRow>(
    db,
    sql`${statusFacts(f, names)},
      filtered AS (SELECT * FROM status_rows ${statusFilter(f)})
      SELECT warehouse_id, warehouse_code, location_id, coalesce(max(location_path), '') AS location_path,
        count(DISTINCT item_id)::text AS item_count, sum(on_hand)::text AS on_hand, sum(reserved)::text AS reserved,
        sum(available)::text AS available, count(*) FILTER (WHERE status = 2)::text AS low_stock_count,
        count(*) FILTER (WHERE status = 3)::text AS out_of_stock_count, sum(tracked_unit_count)::text AS tracked_unit_count
      FROM filtered
      GROUP BY GROUPING SETS ((warehouse_id, warehouse_code), (warehouse_id, warehouse_code, location_id))
      HAVING GROUPING(location_id) = 1 OR location_id IS NOT NULL
      ORDER BY warehouse_code, warehouse_id, location_id IS NOT NULL, location_path, location_id`,
  );
}

// --- movements ----------------------------------------------------------------------------

export interface MovementReportFilter {
  /** The range [start, end) as RFC 3339 times to the microsecond, as Postgres keeps them. */
  start: string;
  end: string;
  /** inventory.v1.MovementSource values to include: 1 ledger, 2 unit moves. */
  sources: number[];
  warehouseId?: string | undefined;
  locationId?: string | undefined;
  itemId?: string | undefined;
  itemTypeId?: string | undefined;
  kinds: number[];
  actor?: string | undefined;
}

export interface MovementReportRow {
  time: string | Date;
  source: number;
  record_id: string;
  movement_kind: number;
  move_cause: number;
  item_id: string;
  sku: string;
  item_name: string;
  unit_id: string | null;
  from_warehouse_id: string | null;
  from_location_id: string | null;
  warehouse_id: string;
  location_id: string | null;
  delta: string;
  reserved_delta: string;
  on_hand_after: string;
  actor: string;
  reason: string;
  reference: string;
}

const inList = (column: SQL, values: number[]) =>
  sql`${column} IN (${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )})`;

/**
 * Ledger entries and unit moves with start <= time < end, as one list in chronological order:
 * time, then source (ledger first), then the order the records were written (their sequence).
 */
export function movementReportQuery(f: MovementReportFilter): ReportQuery {
  const wantLedger = f.sources.length === 0 || f.sources.includes(1);
  const wantUnits = f.sources.length === 0 || f.sources.includes(2);
  const ledger = sql`
    SELECT m.created_at AS time, 1 AS source, m.sequence AS seq, m.id AS record_id, m.kind::int AS movement_kind, 0 AS move_cause,
      m.item_id, m.sku, i.name AS item_name, NULL::uuid AS unit_id, NULL::uuid AS from_warehouse_id, NULL::uuid AS from_location_id,
      m.warehouse_id, m.location_id, m.delta::text AS delta, m.reserved_delta::text AS reserved_delta, m.on_hand_after::text AS on_hand_after,
      m.actor, m.reason, m.reference
    FROM inventory.movements m JOIN inventory.items i ON i.id = m.item_id
    WHERE m.created_at >= ${f.start}::timestamptz AND m.created_at < ${f.end}::timestamptz
      ${f.warehouseId ? sql`AND m.warehouse_id = ${f.warehouseId}::uuid` : sql``}
      ${f.locationId ? sql`AND m.location_id = ${f.locationId}::uuid` : sql``}
      ${f.itemId ? sql`AND m.item_id = ${f.itemId}::uuid` : sql``}
      ${f.itemTypeId ? sql`AND i.item_type_id = ${f.itemTypeId}::uuid` : sql``}
      ${f.kinds.length > 0 ? sql`AND ${inList(sql`m.kind`, f.kinds)}` : sql``}
      ${f.actor ? sql`AND m.actor = ${f.actor}` : sql``}`;
  const units = sql`
    SELECT u.moved_at AS time, 2 AS source, u.sequence AS seq, u.id AS record_id, 0 AS movement_kind, u.cause::int AS move_cause,
      u.item_id, i.sku, i.name AS item_name, u.unit_id, u.from_warehouse_id, u.from_location_id,
      u.to_warehouse_id AS warehouse_id, u.to_location_id AS location_id, '0' AS delta, '0' AS reserved_delta, '0' AS on_hand_after,
      u.moved_by AS actor, u.notes AS reason, '' AS reference
    FROM inventory.unit_moves u JOIN inventory.items i ON i.id = u.item_id
    WHERE u.moved_at >= ${f.start}::timestamptz AND u.moved_at < ${f.end}::timestamptz
      ${f.warehouseId ? sql`AND (u.to_warehouse_id = ${f.warehouseId}::uuid OR u.from_warehouse_id = ${f.warehouseId}::uuid)` : sql``}
      ${f.locationId ? sql`AND (u.to_location_id = ${f.locationId}::uuid OR u.from_location_id = ${f.locationId}::uuid)` : sql``}
      ${f.itemId ? sql`AND u.item_id = ${f.itemId}::uuid` : sql``}
      ${f.itemTypeId ? sql`AND i.item_type_id = ${f.itemTypeId}::uuid` : sql``}
      ${f.actor ? sql`AND u.moved_by = ${f.actor}` : sql``}`;
  const parts = [...(wantLedger ? [ledger] : []), ...(wantUnits ? [units] : [])];
  return {
    body: sql`SELECT x.*, ((extract(epoch from x.time) * 1000000)::bigint) AS k_time, x.source AS k_source, x.seq AS k_seq
      FROM (${sql.join(parts, sql` UNION ALL `)}) x`,
    key: [
      { name: "k_time", type: "bigint" },
      { name: "k_source", type: "integer" },
      { name: "k_seq", type: "bigint" },
    ],
  };
}

export interface MovementTotalRow {
  source: number;
  movement_kind: number;
  move_cause: number;
  count: string;
  delta_sum: string;
}

/** The number of records (and the sum of delta) per source and kind, over the whole range. */
export function movementTotals(db: Db, f: MovementReportFilter): Promise<MovementTotalRow[]> {
  return rows<MovementTotalRow>(
    db,
    sql`SELECT source, movement_kind, move_cause, count(*)::text AS count, sum(delta::bigint)::text AS delta_sum
      FROM (${movementReportQuery(f).body}) r
      GROUP BY source, movement_kind, move_cause ORDER BY source, movement_kind, move_cause`,
  );
}

// --- item counts --------------------------------------------------------------------------

export interface ItemCountFilter {
  /** inventory.v1.ItemCountGrouping, never UNSPECIFIED: 1 item type, 2 location type, 3 both. */
  grouping: number;
  warehouseId?: string | undefined;
  itemTypeId?: string | undefined;
  locationTypeId?: string | undefined;
}

export interface ItemCountRow {
  item_type_id: string | null;
  item_type_name: string;
  location_type_id: string | null;
  location_type_name: string;
  item_count: string;
  on_hand: string;
  reserved: string;
  tracked_unit_count: string;
}

/**
 * Stock and live tracked units of live items, grouped by item type, location type or both.
 * A level or unit at warehouse level (no location) has no location type. item_count counts the
 * distinct items with on_hand > 0 or a live unit in the group; a group with nothing is left out.
 */
function itemCountGroups(f: ItemCountFilter, names: PlaceNames, grouped: boolean): SQL {
  // The total is the same sums over one group of everything: no type columns.
  const byItemType = grouped && f.grouping !== 2;
  const byLocationType = grouped && f.grouping !== 1;
  const groupColumns = [...(byItemType ? [sql`it.id`, sql`it.name`] : []), ...(byLocationType ? [sql`ln."typeId"`, sql`ln."typeName"`] : [])];
  return sql`WITH ${namesCte(names)},
    facts AS (
      SELECT l.item_id, l.warehouse_id, l.location_id, l.on_hand, l.reserved, 0 AS units FROM inventory.stock_levels l
      UNION ALL
      SELECT u.item_id, u.warehouse_id, u.location_id, 0, 0, 1 FROM inventory.tracked_units u WHERE u.deleted_at IS NULL
    )
    SELECT ${byItemType ? sql`it.id` : sql`NULL::uuid`} AS item_type_id, ${byItemType ? sql`it.name` : sql`''`} AS item_type_name,
      ${byLocationType ? sql`ln."typeId"` : sql`NULL::uuid`} AS location_type_id,
      ${byLocationType ? sql`coalesce(ln."typeName", '')` : sql`''`} AS location_type_name,
      count(DISTINCT f.item_id) FILTER (WHERE f.on_hand > 0 OR f.units > 0)::text AS item_count,
      coalesce(sum(f.on_hand), 0)::text AS on_hand, coalesce(sum(f.reserved), 0)::text AS reserved, coalesce(sum(f.units), 0)::text AS tracked_unit_count
    FROM facts f
    JOIN inventory.items i ON i.id = f.item_id AND i.deleted_at IS NULL
    JOIN inventory.item_types it ON it.id = i.item_type_id
    LEFT JOIN ln ON ln.id = f.location_id
    WHERE true
      ${f.warehouseId ? sql`AND f.warehouse_id = ${f.warehouseId}::uuid` : sql``}
      ${f.itemTypeId ? sql`AND i.item_type_id = ${f.itemTypeId}::uuid` : sql``}
      ${f.locationTypeId ? sql`AND ln."typeId" = ${f.locationTypeId}::uuid` : sql``}
    ${groupColumns.length > 0 ? sql`GROUP BY ${sql.join(groupColumns, sql`, `)}` : sql``}
    HAVING sum(f.on_hand) > 0 OR sum(f.reserved) > 0 OR sum(f.units) > 0`;
}

/** Ordered by item type name, then location type name (none first); ids break ties. */
export function itemCountQuery(f: ItemCountFilter, names: PlaceNames): ReportQuery {
  return {
    body: sql`SELECT g.*, g.item_type_name AS k_item_type_name, coalesce(g.item_type_id, ${NIL}::uuid) AS k_item_type,
        (g.location_type_id IS NOT NULL)::int AS k_has_location_type, g.location_type_name AS k_location_type_name,
        coalesce(g.location_type_id, ${NIL}::uuid) AS k_location_type
      FROM (${itemCountGroups(f, names, true)}) g`,
    key: [
      { name: "k_item_type_name", type: "text" },
      { name: "k_item_type", type: "uuid" },
      { name: "k_has_location_type", type: "integer" },
      { name: "k_location_type_name", type: "text" },
      { name: "k_location_type", type: "uuid" },
    ],
  };
}

/** The totals over every group: the same sums without grouping. */
export async function itemCountTotal(db: Db, f: ItemCountFilter, names: PlaceNames): Promise<ItemCountRow | undefined> {
  const [row] = await rows<ItemCountRow>(db, itemCountGroups(f, names, false));
  return row;
}

// --- low stock ----------------------------------------------------------------------------

export interface LowStockFilter {
  warehouseId?: string | undefined;
  itemTypeId?: string | undefined;
  excludeOutOfStock: boolean;
}

export interface LowStockRow {
  id: string;
  item_id: string;
  sku: string;
  warehouse_id: string;
  location_id: string | null;
  on_hand: string;
  reserved: string;
  available: string;
  reorder_point: string;
  reorder_quantity: string;
  sequence: string;
  created_at: string | Date;
  updated_at: string | Date;
  item_status: number;
  item_name: string;
  item_type_id: string;
  warehouse_code: string;
  location_path: string;
  shortfall: string;
  suggested_order_quantity: string;
}

/**
 * Levels of live, not discontinued items whose available stock is at or below the reorder point
 * (LOW_STOCK) or nothing (OUT_OF_STOCK): most urgent first (out before low, then the least
 * available), then SKU. shortfall = reorder_point - available + 1 (what brings it above the
 * point); the suggested order is the level's reorder quantity, or the shortfall if larger.
 */
export function lowStockQuery(f: LowStockFilter, names: PlaceNames): ReportQuery {
  return {
    body: sql`WITH ${namesCte(names)}
      SELECT l.id, l.item_id, l.sku, l.warehouse_id, l.location_id, l.on_hand::text AS on_hand, l.reserved::text AS reserved,
        (l.on_hand - l.reserved)::text AS available, l.reorder_point::text AS reorder_point, l.reorder_quantity::text AS reorder_quantity,
        l.sequence::text AS sequence, l.created_at, l.updated_at, i.status::int AS item_status, i.name AS item_name, i.item_type_id,
        coalesce(wn.code, '') AS warehouse_code, coalesce(ln.path, '') AS location_path,
        greatest(l.reorder_point - (l.on_hand - l.reserved) + 1, 1)::text AS shortfall,
        greatest(l.reorder_quantity, l.reorder_point - (l.on_hand - l.reserved) + 1, 1)::text AS suggested_order_quantity,
        ((l.on_hand - l.reserved) > 0)::int AS k_low, (l.on_hand - l.reserved) AS k_available, l.sku AS k_sku, l.id AS k_level
      FROM inventory.stock_levels l
      JOIN inventory.items i ON i.id = l.item_id AND i.deleted_at IS NULL AND i.status <> 3
      LEFT JOIN wn ON wn.id = l.warehouse_id
      LEFT JOIN ln ON ln.id = l.location_id
      WHERE l.on_hand - l.reserved <= l.reorder_point
        ${f.excludeOutOfStock ? sql`AND l.on_hand - l.reserved > 0` : sql``}
        ${f.warehouseId ? sql`AND l.warehouse_id = ${f.warehouseId}::uuid` : sql``}
        ${f.itemTypeId ? sql`AND i.item_type_id = ${f.itemTypeId}::uuid` : sql``}`,
    key: [
      { name: "k_low", type: "integer" },
      { name: "k_available", type: "bigint" },
      { name: "k_sku", type: "text" },
      { name: "k_level", type: "uuid" },
    ],
  };
}

import { createHash } from "node:crypto";
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  CACHE_TTL,
  FailedPrecondition,
  checkFields,
  csvColumns,
  csvDownload,
  csvRecord,
  cursorRows,
  decodePageToken,
  exportFilename,
  invalid,
  messageCodec,
  readSnapshot,
  registration,
  type Cache,
  type Db,
  type FieldChecker,
  type ServiceImpl,
  pageFrom,
} from "@inv/platform";
import {
  GetInventoryStatusReportResponseSchema,
  GetItemCountReportResponseSchema,
  GetLowStockReportResponseSchema,
  GetMovementReportResponseSchema,
  InventoryStatusRowSchema,
  ItemCountGrouping,
  ItemCountRowSchema,
  LowStockRowSchema,
  MovementReportRowSchema,
  MovementSourceSchema,
  ReportService,
  type ExportReportRequest,
  type GetInventoryStatusReportRequest,
  type GetItemCountReportRequest,
  type GetLowStockReportRequest,
  type GetMovementReportRequest,
} from "@inv/gen/inventory/v1/report_pb";
import { MovementKindSchema, StockStatusSchema } from "@inv/gen/inventory/v1/stock_pb";
import { sql } from "drizzle-orm";
import { toInventoryStatusRow, toInventoryStatusTotal, toItemCountRow, toLowStockRow, toMovementKindTotal, toMovementReportRow } from "../report-mapping.js";
import {
  allRowsOf,
  countOf,
  cursorOf,
  inventoryStatusQuery,
  inventoryStatusTotals,
  itemCountQuery,
  itemCountTotal,
  lowStockQuery,
  movementReportQuery,
  movementTotals,
  pageOf,
  placesInScope,
  readTime,
  type InventoryStatusFilter,
  type ItemCountFilter,
  type LowStockFilter,
  type MovementReportFilter,
  type PlaceNames,
  type ReportCursor,
  type ReportQuery,
} from "../store/reports.js";
import type { WarehouseDirectory } from "../warehouses.js";
import type { InventoryDeps } from "./deps.js";

type Impl = ServiceImpl<typeof ReportService>;

/** Report pages: 1 to 1000 rows; 0 means 100. */
const DEFAULT_REPORT_PAGE = 100;
const MAX_REPORT_PAGE = 1000;
/** The most rows one export may hold, and what max_rows 0 means. */
export const MAX_EXPORT_ROWS = 1_000_000;
/** The longest movement report: a year and a day. */
const MAX_RANGE_DAYS = 366;
/** Directory lookups in flight at once while a report names its places. */
const NAME_LOOKUPS_IN_FLIGHT = 16;

function reportPageSize(v: FieldChecker, requested: number): number {
  if (requested === 0) return DEFAULT_REPORT_PAGE;
  if (requested < 0 || requested > MAX_REPORT_PAGE) v.fail("page_size", "range", `page_size must be between 0 and ${MAX_REPORT_PAGE}`, requested);
  return requested;
}

const optionalId = (v: FieldChecker, field: string, value: string) => (value ? v.id(field, value) : undefined);

// --- the requests, checked ----------------------------------------------------------------

const statusFilterOf = (v: FieldChecker, r: GetInventoryStatusReportRequest): InventoryStatusFilter => ({
  warehouseId: optionalId(v, "warehouse_id", r.warehouseId),
  locationId: optionalId(v, "location_id", r.locationId),
  itemTypeId: optionalId(v, "item_type_id", r.itemTypeId),
  statuses: v.enumFilter("statuses", r.statuses, StockStatusSchema),
  includeEmpty: r.includeEmpty,
});

function movementFilterOf(v: FieldChecker, r: GetMovementReportRequest): MovementReportFilter {
  const { start, end } = v.timeRange({ start: "start_time", end: "end_time" }, r.startTime, r.endTime, { required: true, maxDays: MAX_RANGE_DAYS });
  return {
    start: start && r.startTime ? toMicros(r.startTime) : "",
    end: end && r.endTime ? toMicros(r.endTime) : "",
    sources: v.enumFilter("sources", r.sources, MovementSourceSchema),
    warehouseId: optionalId(v, "warehouse_id", r.warehouseId),
    locationId: optionalId(v, "location_id", r.locationId),
    itemId: optionalId(v, "item_id", r.itemId),
    itemTypeId: optionalId(v, "item_type_id", r.itemTypeId),
    kinds: v.enumFilter("movement_kinds", r.movementKinds, MovementKindSchema),
    actor: r.actor ? v.text("actor", r.actor, { max: 200 }) : undefined,
  };
}

/** A timestamp as RFC 3339 UTC to the microsecond (Postgres's precision), where a Date would stop at the millisecond. */
function toMicros(t: Timestamp): string {
  const micros = String(Math.floor(t.nanos / 1000)).padStart(6, "0");
  return new Date(Number(t.seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, `.${micros}Z`);
}

function itemCountFilterOf(v: FieldChecker, r: GetItemCountReportRequest): ItemCountFilter {
  const grouping = r.grouping === ItemCountGrouping.UNSPECIFIED ? ItemCountGrouping.ITEM_TYPE_AND_LOCATION_TYPE : r.grouping;
  if (ItemCountGrouping[grouping] === undefined) v.fail("grouping", "enum", `grouping ${grouping} is not one of its values`, grouping);
  return {
    grouping,
    warehouseId: optionalId(v, "warehouse_id", r.warehouseId),
    itemTypeId: optionalId(v, "item_type_id", r.itemTypeId),
    locationTypeId: optionalId(v, "location_type_id", r.locationTypeId),
  };
}

const lowStockFilterOf = (v: FieldChecker, r: GetLowStockReportRequest): LowStockFilter => ({
  warehouseId: optionalId(v, "warehouse_id", r.warehouseId),
  itemTypeId: optionalId(v, "item_type_id", r.itemTypeId),
  excludeOutOfStock: r.excludeOutOfStock,
});

/** A page token's cursor: as many text values as the report has key columns. */
function reportCursor(token: string, filter: unknown, q: ReportQuery): ReportCursor | undefined {
  const cursor = decodePageToken(token, filter);
  if (cursor && (cursor.length !== q.key.length || cursor.some((c) => typeof c !== "string"))) {
    throw invalid("page_token", "page_token", "page_token is malformed or was made for different filters", token);
  }
  return cursor as ReportCursor | undefined;
}

// --- reading in one snapshot ----------------------------------------------------------------

/** Runs fn in one read-only REPEATABLE READ transaction, so a page, its totals and its read time agree. */
const inSnapshot = <T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> =>
  db.transaction(async (t) => {
    const tx = t as unknown as Db;
    await tx.execute(sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
    return fn(tx);
  });

/** Runs fn over items, at most `limit` at a time. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * The codes, paths and location types of the places holding stock or units (within one
 * warehouse when given), from the warehouse service's directory, which caches them. When it
 * cannot be reached the report fails with UNAVAILABLE rather than show places without names.
 */
async function placeNames(db: Db, directory: WarehouseDirectory, warehouseId: string | undefined): Promise<PlaceNames> {
  const scope = await placesInScope(db, warehouseId);
  const [warehouses, locations] = await Promise.all([
    mapLimited(scope.warehouseIds, NAME_LOOKUPS_IN_FLIGHT, (id) => directory.warehouse(id)),
    mapLimited(scope.locationIds, NAME_LOOKUPS_IN_FLIGHT, (id) => directory.location(id)),
  ]);
  const typeIds = [...new Set(locations.flatMap((l) => (l?.locationTypeId ? [l.locationTypeId] : [])))];
  const types = new Map((await mapLimited(typeIds, NAME_LOOKUPS_IN_FLIGHT, (id) => directory.locationType(id))).flatMap((t) => (t ? [[t.id, t.name]] : [])));
  return {
    warehouses: warehouses.flatMap((w) => (w ? [{ id: w.id, code: w.code }] : [])),
    locations: locations.flatMap((l) =>
      l ? [{ id: l.id, path: l.path || l.code, typeId: l.locationTypeId || null, typeName: types.get(l.locationTypeId) ?? "" }] : [],
    ),
  };
}

// --- the cache ----------------------------------------------------------------------------

/**
 * Serves a report page from the cache when it is there (cached = true), else reads it and keeps
 * it for CACHE_TTL.report seconds (60, as the contract says). The key is the method and the request without `fresh`; a fresh
 * read replaces what is cached.
 */
async function throughCache<S extends DescMessage>(
  cache: Cache,
  schema: S,
  method: string,
  request: { fresh: boolean },
  read: () => Promise<MessageShape<S>>,
): Promise<MessageShape<S>> {
  const key = `inventory:report:${method}:${createHash("sha256")
    .update(JSON.stringify({ ...request, fresh: false }, (_k, v) => (typeof v === "bigint" ? v.toString() : v)))
    .digest("base64url")}`;
  const codec = messageCodec(schema);
  if (!request.fresh) {
    const hit = await cache.getDecoded(key, codec.decode);
    if (hit) return { ...hit, cached: true };
  }
  const stamp = await cache.stamp(key);
  const response = await read();
  await cache.setIfUnchanged(key, codec.encode(response), CACHE_TTL.report, stamp);
  return response;
}

// --- the handlers -------------------------------------------------------------------------

/**
 * One page of a report: the rows after the page token's cursor (one more than asked, to know
 * whether another page follows), as messages, the next page's token (bound to the filter), and
 * when the data was read. Called inside the report's snapshot.
 */
async function pageIn<R>(tx: Db, q: ReportQuery, page: { token: string; filter: unknown; size: number }, toRow: (row: never) => R) {
  const found = await pageOf<Record<string, unknown>>(tx, q, reportCursor(page.token, page.filter, q), page.size + 1);
  const { page: rows, nextPageToken } = pageFrom(found, page.size, (r) => cursorOf(q, r), page.filter);
  return {
    rows: rows.map((r) => toRow(r as never)),
    nextPageToken,
    generateTime: timestampFromDate(await readTime(tx)),
  };
}

export function reportService({ db, cache, warehouses }: InventoryDeps) {
  const getInventoryStatusReport: Impl["getInventoryStatusReport"] = async (req) => {
    const { filter, size } = checkFields((v) => ({ filter: statusFilterOf(v, req), size: reportPageSize(v, req.pageSize) }));
    return throughCache(cache, GetInventoryStatusReportResponseSchema, "status", req, () =>
      inSnapshot(db, async (tx) => {
        const names = await placeNames(tx, warehouses, filter.warehouseId);
        return create(GetInventoryStatusReportResponseSchema, {
          ...(await pageIn(tx, inventoryStatusQuery(filter, names), { token: req.pageToken, filter, size }, toInventoryStatusRow)),
          totals: (await inventoryStatusTotals(tx, filter, names)).map(toInventoryStatusTotal),
        });
      }),
    );
  };

  const getMovementReport: Impl["getMovementReport"] = async (req) => {
    const { filter, size } = checkFields((v) => ({ filter: movementFilterOf(v, req), size: reportPageSize(v, req.pageSize) }));
    return throughCache(cache, GetMovementReportResponseSchema, "movements", req, () =>
      inSnapshot(db, async (tx) =>
        create(GetMovementReportResponseSchema, {
          ...(await pageIn(tx, movementReportQuery(filter), { token: req.pageToken, filter, size }, toMovementReportRow)),
          totals: (await movementTotals(tx, filter)).map(toMovementKindTotal),
        }),
      ),
    );
  };

  const getItemCountReport: Impl["getItemCountReport"] = async (req) => {
    const { filter, size } = checkFields((v) => ({ filter: itemCountFilterOf(v, req), size: reportPageSize(v, req.pageSize) }));
    return throughCache(cache, GetItemCountReportResponseSchema, "item-counts", req, () =>
      inSnapshot(db, async (tx) => {
        const names = await placeNames(tx, warehouses, filter.warehouseId);
        return create(GetItemCountReportResponseSchema, {
          ...(await pageIn(tx, itemCountQuery(filter, names), { token: req.pageToken, filter, size }, toItemCountRow)),
          total: toItemCountRow(await itemCountTotal(tx, filter, names)),
        });
      }),
    );
  };

  const getLowStockReport: Impl["getLowStockReport"] = async (req) => {
    const { filter, size } = checkFields((v) => ({ filter: lowStockFilterOf(v, req), size: reportPageSize(v, req.pageSize) }));
    return throughCache(cache, GetLowStockReportResponseSchema, "low-stock", req, () =>
      inSnapshot(db, async (tx) => {
        const q = lowStockQuery(filter, await placeNames(tx, warehouses, filter.warehouseId));
        return create(GetLowStockReportResponseSchema, {
          ...(await pageIn(tx, q, { token: req.pageToken, filter, size }, toLowStockRow)),
          totalCount: BigInt(await countOf(tx, q)),
        });
      }),
    );
  };

  /** What one export reads: its query, the row message its CSV columns come from, and the file's name. */
  interface ExportPlan {
    name: string;
    schema: DescMessage;
    /** Needs place names from the warehouse service, within this warehouse when given. */
    names?: { warehouseId?: string | undefined };
    query(names: PlaceNames): ReportQuery;
    toMessage(row: never): MessageShape<DescMessage>;
  }

  function exportPlanOf(v: FieldChecker, r: ExportReportRequest["report"]): ExportPlan | undefined {
    switch (r.case) {
      case "inventoryStatus": {
        const f = statusFilterOf(v, r.value);
        return {
          name: "inventory-status",
          schema: InventoryStatusRowSchema,
          names: f,
          query: (n) => inventoryStatusQuery(f, n),
          toMessage: toInventoryStatusRow,
        };
      }
      case "movements": {
        const f = movementFilterOf(v, r.value);
        return { name: "movements", schema: MovementReportRowSchema, query: () => movementReportQuery(f), toMessage: toMovementReportRow };
      }
      case "itemCounts": {
        const f = itemCountFilterOf(v, r.value);
        return { name: "item-counts", schema: ItemCountRowSchema, names: f, query: (n) => itemCountQuery(f, n), toMessage: toItemCountRow };
      }
      case "lowStock": {
        const f = lowStockFilterOf(v, r.value);
        return { name: "low-stock", schema: LowStockRowSchema, names: f, query: (n) => lowStockQuery(f, n), toMessage: toLowStockRow };
      }
      default:
        v.fail("report", "required", "report is required: name one of inventory_status, movements, item_counts, low_stock");
        return undefined;
    }
  }

  /**
   * Counts the report's rows first (refusing one larger than max_rows before anything is sent),
   * then streams every row through a cursor as CSV, all in one snapshot.
   */
  const exportReport: Impl["exportReport"] = (req, ctx) => {
    const { plan, maxRows } = checkFields((v) => ({
      plan: exportPlanOf(v, req.report),
      maxRows: req.maxRows === 0 ? MAX_EXPORT_ROWS : v.integer("max_rows", req.maxRows, { min: 1, max: MAX_EXPORT_ROWS }),
    }));
    const p = plan!;
    return readSnapshot(
      db,
      async function* (tx) {
        const names = p.names ? await placeNames(tx, warehouses, p.names.warehouseId) : { warehouses: [], locations: [] };
        const q = p.query(names);
        const total = await countOf(tx, q);
        if (total > maxRows) {
          throw new FailedPrecondition(
            `the report has ${total.toLocaleString("en")} rows, more than max_rows (${maxRows.toLocaleString("en")}): narrow the filters or raise max_rows (at most ${MAX_EXPORT_ROWS.toLocaleString("en")})`,
            { field: "max_rows", value: String(maxRows), constraint: "max_rows" },
            "EXPORT_TOO_LARGE",
          );
        }
        const generateTime = await readTime(tx);
        const batches = async function* () {
          for await (const batch of cursorRows<Record<string, unknown>>(tx, allRowsOf(q))) {
            yield batch.map((row) => csvRecord(p.schema, p.toMessage(row as never)));
          }
        };
        yield* csvDownload({ filename: exportFilename(p.name, generateTime), totalRows: total, generateTime, columns: csvColumns(p.schema), rows: batches() });
        // A caller that goes away ends the snapshot (and frees its connection) at once.
      },
      { signal: ctx.signal },
    );
  };

  return registration(ReportService, {
    getInventoryStatusReport,
    getMovementReport,
    getItemCountReport,
    getLowStockReport,
    exportReport,
  });
}

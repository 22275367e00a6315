/**
 * The reports against a model the test computes itself (property 6), the movement report's
 * range and order (property 7), the cache, and the refusals. Every run works in warehouses,
 * location types and item types of its own, so filtering by them isolates it from the others.
 */
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { failure, propertyRuns } from "@inv/platform/testing";
import { ItemCountGrouping, MovementSource, ReportService } from "@inv/gen/inventory/v1/report_pb";
import { MovementKind, StockStatus } from "@inv/gen/inventory/v1/stock_pb";
import { TrackedUnitService, UnitMoveCause } from "@inv/gen/inventory/v1/tracked_unit_pb";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestInventory, type TestInventory } from "./testing.js";

let inv: TestInventory;
let reports: ReturnType<typeof reportClient>;
let units: ReturnType<typeof unitClient>;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
const reportClient = (i: TestInventory) => i.svc.client(ReportService);
const unitClient = (i: TestInventory) => i.svc.client(TrackedUnitService);

beforeAll(async () => {
  inv = await startTestInventory();
  reports = reportClient(inv);
  units = unitClient(inv);
});
afterAll(() => inv?.stop());

/** A warehouse of its own with a warehouse level and two locations of two location types of their own. */
function newSite() {
  const w = inv.directory.addWarehouse({ code: unique("W") });
  const shelf = inv.directory.addLocationType(unique("Shelf"));
  const bin = inv.directory.addLocationType(unique("Bin"));
  const a = inv.directory.addLocation(w.id, { code: "A", path: "Z1/A", locationTypeId: shelf.id });
  const b = inv.directory.addLocation(w.id, { code: "B", path: "Z1/B", locationTypeId: bin.id });
  return { w, types: [shelf, bin], places: [null, a.id, b.id] as (string | null)[], locationType: [null, shelf, bin] };
}

async function newItems(n: number) {
  const type = (await inv.items.createItemType({ itemType: { name: unique("Type") } })).itemType!;
  const made = [];
  for (let i = 0; i < n; i++) {
    const sku = unique(`S${i}`);
    made.push((await inv.items.createItem({ item: { sku, name: `Item ${i}, "quoted"`, itemTypeId: type.id } })).item!);
  }
  return { type, items: made };
}

/** What a run did at one item × place. */
interface Cell {
  onHand: number;
  reserved: number;
  reorderPoint: number;
  reorderQuantity: number;
  units: number;
}

const op = fc.oneof(
  fc.record({ kind: fc.constant("receive" as const), item: fc.nat(2), place: fc.nat(2), quantity: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ kind: fc.constant("issue" as const), item: fc.nat(2), place: fc.nat(2), quantity: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ kind: fc.constant("reorder" as const), item: fc.nat(2), place: fc.nat(2), point: fc.nat(8), quantity: fc.nat(20) }),
  fc.record({ kind: fc.constant("unit" as const), item: fc.nat(2), place: fc.nat(2) }),
);

describe("reports against a model (property 6)", () => {
  it("inventory status, item counts and low stock agree with what was done", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 8 }), async (ops) => {
        const site = newSite();
        const { type, items } = await newItems(3);
        const cells = new Map<string, Cell>();
        const cellOf = (item: number, place: number) => {
          const k = `${item}:${place}`;
          if (!cells.has(k)) cells.set(k, { onHand: 0, reserved: 0, reorderPoint: 0, reorderQuantity: 0, units: 0 });
          return cells.get(k)!;
        };
        const levelIds = new Map<string, string>();
        for (const o of ops) {
          const at = { itemId: items[o.item]!.id, warehouseId: site.w.id, locationId: site.places[o.place] ?? "" };
          const cell = cellOf(o.item, o.place);
          if (o.kind === "receive") {
            const r = await inv.stock.receiveStock({ ...at, quantity: BigInt(o.quantity), idempotencyKey: unique("k") });
            levelIds.set(`${o.item}:${o.place}`, r.stockLevel!.id);
            cell.onHand += o.quantity;
          } else if (o.kind === "issue") {
            if (cell.onHand < o.quantity) continue;
            await inv.stock.adjustStock({ ...at, delta: BigInt(-o.quantity), reason: "issue", idempotencyKey: unique("k") });
            cell.onHand -= o.quantity;
          } else if (o.kind === "reorder") {
            const id = levelIds.get(`${o.item}:${o.place}`);
            if (!id) continue;
            await inv.stock.updateStockLevel({
              stockLevel: { id, reorderPoint: BigInt(o.point), reorderQuantity: BigInt(o.quantity) },
              updateMask: { paths: ["reorder_point", "reorder_quantity"] },
            });
            cell.reorderPoint = o.point;
            cell.reorderQuantity = o.quantity;
          } else {
            await units.createTrackedUnit({ trackedUnit: { itemId: at.itemId, warehouseId: at.warehouseId, locationId: at.locationId } });
            cell.units += 1;
          }
        }
        const placeOf = (k: string) => Number(k.split(":")[1]);
        const itemOf = (k: string) => Number(k.split(":")[0]);

        // Inventory status: one row per item × place with stock or units, in code/path/SKU order.
        const status = await reports.getInventoryStatusReport({ warehouseId: site.w.id, fresh: true });
        const expectedRows = [...cells.entries()]
          .filter(([, c]) => c.onHand > 0 || c.units > 0)
          .sort(([a], [b]) => placeOf(a) - placeOf(b) || items[itemOf(a)]!.sku.localeCompare(items[itemOf(b)]!.sku, "en"))
          .map(([k, c]) => ({
            itemId: items[itemOf(k)]!.id,
            locationId: site.places[placeOf(k)] ?? "",
            locationPath: ["", "Z1/A", "Z1/B"][placeOf(k)],
            warehouseCode: site.w.code,
            onHand: BigInt(c.onHand),
            available: BigInt(c.onHand),
            trackedUnitCount: BigInt(c.units),
            status: c.onHand <= 0 ? StockStatus.OUT_OF_STOCK : c.onHand <= c.reorderPoint ? StockStatus.LOW_STOCK : StockStatus.IN_STOCK,
          }));
        expect(status.rows.map((r) => ({ ...pick(r, expectedRows[0] ?? {}) }))).toEqual(expectedRows);
        const whole = status.totals.find((t) => t.locationId === "");
        const onHand = [...cells.values()].reduce((s, c) => s + c.onHand, 0);
        if (expectedRows.length > 0)
          expect(whole).toMatchObject({ onHand: BigInt(onHand), trackedUnitCount: BigInt([...cells.values()].reduce((s, c) => s + c.units, 0)) });

        // Item counts by location type: warehouse level has none; each location its own type.
        const counts = await reports.getItemCountReport({
          warehouseId: site.w.id,
          itemTypeId: type.id,
          grouping: ItemCountGrouping.LOCATION_TYPE,
          fresh: true,
        });
        const byPlace = [0, 1, 2].map((p) => {
          const here = [...cells.entries()].filter(([k]) => placeOf(k) === p);
          return {
            locationTypeId: site.locationType[p]?.id ?? "",
            itemCount: BigInt(new Set(here.filter(([, c]) => c.onHand > 0 || c.units > 0).map(([k]) => itemOf(k))).size),
            onHand: BigInt(here.reduce((s, [, c]) => s + c.onHand, 0)),
            trackedUnitCount: BigInt(here.reduce((s, [, c]) => s + c.units, 0)),
          };
        });
        const expectedCounts = byPlace.filter((g) => g.onHand > 0n || g.trackedUnitCount > 0n);
        expect(
          counts.rows
            .map((r) => ({ locationTypeId: r.locationTypeId, itemCount: r.itemCount, onHand: r.onHand, trackedUnitCount: r.trackedUnitCount }))
            .sort(byType),
        ).toEqual(expectedCounts.sort(byType));
        expect(counts.total?.onHand).toBe(BigInt(onHand));
        expect(counts.total?.itemCount).toBe(BigInt(new Set([...cells.entries()].filter(([, c]) => c.onHand > 0 || c.units > 0).map(([k]) => itemOf(k))).size));

        // Low stock: levels (they exist once received) at or below their reorder point.
        const low = await reports.getLowStockReport({ warehouseId: site.w.id, fresh: true });
        const expectedLow = [...cells.entries()]
          .filter(([k, c]) => levelIds.has(k) && c.onHand <= c.reorderPoint)
          .map(([k, c]) => ({
            levelId: levelIds.get(k)!,
            sku: items[itemOf(k)]!.sku,
            shortfall: BigInt(c.reorderPoint - c.onHand + 1),
            suggested: BigInt(Math.max(c.reorderQuantity, c.reorderPoint - c.onHand + 1)),
            available: c.onHand,
          }))
          .sort((a, b) => Number(a.available > 0) - Number(b.available > 0) || a.available - b.available || a.sku.localeCompare(b.sku, "en"));
        expect(low.totalCount).toBe(BigInt(expectedLow.length));
        expect(low.rows.map((r) => ({ available: Number(r.stockLevel!.available), shortfall: r.shortfall, suggested: r.suggestedOrderQuantity }))).toEqual(
          expectedLow.map((e) => ({ available: e.available, shortfall: e.shortfall, suggested: e.suggested })),
        );
        expect(new Set(low.rows.map((r) => r.stockLevel!.id))).toEqual(new Set(expectedLow.map((e) => e.levelId)));
      }),
      { numRuns: propertyRuns() },
    );
  });
});

const byType = (a: { locationTypeId: string }, b: { locationTypeId: string }) => a.locationTypeId.localeCompare(b.locationTypeId);
const pick = (from: object, like: object) => Object.fromEntries(Object.keys(like).map((k) => [k, (from as Record<string, unknown>)[k]]));

describe("the movement report (property 7)", () => {
  it("lists ledger entries and unit moves in [start, end), in the order they happened, with totals", async () => {
    const site = newSite();
    const { items } = await newItems(1);
    const item = items[0]!;
    const start = new Date();
    await inv.stock.receiveStock({ itemId: item.id, warehouseId: site.w.id, quantity: 10n, idempotencyKey: unique("k") });
    const other = inv.directory.addWarehouse({ code: unique("W") });
    const unit = (await units.createTrackedUnit({ trackedUnit: { itemId: item.id, warehouseId: site.w.id } })).trackedUnit!;
    await units.moveTrackedUnit({ id: unit.id, toWarehouseId: other.id, notes: "to the other site" });
    await inv.stock.adjustStock({ itemId: item.id, warehouseId: site.w.id, delta: -3n, reason: "damaged", idempotencyKey: unique("k") });
    const end = new Date(Date.now() + 1000);

    const all = await reports.getMovementReport({ startTime: timestampFromDate(start), endTime: timestampFromDate(end), itemId: item.id, fresh: true });
    expect(all.rows.map((r) => [r.source, r.movementKind, r.moveCause, r.delta])).toEqual([
      [MovementSource.STOCK_LEDGER, MovementKind.RECEIPT, UnitMoveCause.UNSPECIFIED, 10n],
      [MovementSource.UNIT_MOVES, MovementKind.UNSPECIFIED, UnitMoveCause.DIRECT, 0n],
      [MovementSource.STOCK_LEDGER, MovementKind.ADJUSTMENT, UnitMoveCause.UNSPECIFIED, -3n],
    ]);
    expect(all.rows[1]).toMatchObject({ unitId: unit.id, fromWarehouseId: site.w.id, warehouseId: other.id, reason: "to the other site" });
    const times = all.rows.map((r) => timestampDate(r.time!).getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(all.totals.map((t) => [t.source, t.movementKind, t.moveCause, t.count, t.deltaSum])).toEqual(
      [
        [MovementSource.STOCK_LEDGER, MovementKind.RECEIPT, 0, 1n, 10n],
        [MovementSource.STOCK_LEDGER, MovementKind.ADJUSTMENT, 0, 1n, -3n],
        [MovementSource.UNIT_MOVES, 0, UnitMoveCause.DIRECT, 1n, 0n],
      ].sort((a, b) => Number(a[0]) - Number(b[0]) || Number(a[1]) - Number(b[1])),
    );

    // Pages of one row walk the same order; the range is half-open.
    const paged = [];
    let pageToken = "";
    do {
      const page = await reports.getMovementReport({
        startTime: timestampFromDate(start),
        endTime: timestampFromDate(end),
        itemId: item.id,
        pageSize: 1,
        pageToken,
      });
      paged.push(...page.rows.map((r) => r.recordId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(paged).toEqual(all.rows.map((r) => r.recordId));
    const firstTime = all.rows[0]!.time!;
    const fromSecond = await reports.getMovementReport({ startTime: all.rows[1]!.time, endTime: timestampFromDate(end), itemId: item.id, fresh: true });
    expect(fromSecond.rows.map((r) => r.recordId)).toEqual(all.rows.slice(1).map((r) => r.recordId));
    const beforeSecond = await reports.getMovementReport({ startTime: firstTime, endTime: all.rows[1]!.time, itemId: item.id, fresh: true });
    expect(beforeSecond.rows.map((r) => r.recordId)).toEqual([all.rows[0]!.recordId]);

    // Sources and kinds narrow it.
    const onlyUnits = await reports.getMovementReport({
      startTime: timestampFromDate(start),
      endTime: timestampFromDate(end),
      itemId: item.id,
      sources: [MovementSource.UNIT_MOVES],
    });
    expect(onlyUnits.rows.map((r) => r.unitId)).toEqual([unit.id]);
    const receipts = await reports.getMovementReport({
      startTime: timestampFromDate(start),
      endTime: timestampFromDate(end),
      itemId: item.id,
      sources: [MovementSource.STOCK_LEDGER],
      movementKinds: [MovementKind.RECEIPT],
    });
    expect(receipts.rows.map((r) => r.delta)).toEqual([10n]);
  });
});

describe("the cache", () => {
  it("serves a page again from the cache and says so, and reads fresh data when asked", async () => {
    const site = newSite();
    const { items } = await newItems(1);
    await inv.stock.receiveStock({ itemId: items[0]!.id, warehouseId: site.w.id, quantity: 4n, idempotencyKey: unique("k") });
    const first = await reports.getInventoryStatusReport({ warehouseId: site.w.id });
    expect(first.cached).toBe(false);
    await inv.stock.receiveStock({ itemId: items[0]!.id, warehouseId: site.w.id, quantity: 1n, idempotencyKey: unique("k") });
    const again = await reports.getInventoryStatusReport({ warehouseId: site.w.id });
    expect(again).toMatchObject({ cached: true, generateTime: first.generateTime });
    expect(again.rows[0]?.onHand).toBe(4n);
    const fresh = await reports.getInventoryStatusReport({ warehouseId: site.w.id, fresh: true });
    expect(fresh.cached).toBe(false);
    expect(fresh.rows[0]?.onHand).toBe(5n);
    expect(timestampDate(fresh.generateTime!).getTime()).toBeGreaterThanOrEqual(timestampDate(first.generateTime!).getTime());
    // The fresh read replaced the cached page.
    expect((await reports.getInventoryStatusReport({ warehouseId: site.w.id })).rows[0]?.onHand).toBe(5n);
  });
});

describe("bad input changes nothing and gets a specific error", () => {
  const day = 86_400_000;
  it.each([
    ["an end before the start", { startTime: timestampFromDate(new Date(Date.now())), endTime: timestampFromDate(new Date(Date.now() - day)) }, "end_time"],
    ["no start", { endTime: timestampFromDate(new Date()) }, "start_time"],
    ["more than 366 days", { startTime: timestampFromDate(new Date(Date.now() - 400 * day)), endTime: timestampFromDate(new Date()) }, "end_time"],
  ])("movement report with %s: INVALID_ARGUMENT naming the field", async (_name, range, field) => {
    const err = await failure(reports.getMovementReport(range));
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.fields).toContain(field);
  });

  it("a malformed id, an unknown enum value, a page size too large", async () => {
    expect((await failure(reports.getInventoryStatusReport({ warehouseId: "nope" }))).code).toBe("INVALID_ARGUMENT");
    expect((await failure(reports.getInventoryStatusReport({ statuses: [42 as StockStatus] }))).code).toBe("INVALID_ARGUMENT");
    expect((await failure(reports.getLowStockReport({ pageSize: 1001 }))).code).toBe("INVALID_ARGUMENT");
    expect((await failure(reports.getItemCountReport({ grouping: 9 as ItemCountGrouping }))).code).toBe("INVALID_ARGUMENT");
  });

  it("a page token from other filters", async () => {
    const site = newSite();
    const { items } = await newItems(2);
    for (const it of items) await inv.stock.receiveStock({ itemId: it.id, warehouseId: site.w.id, quantity: 1n, idempotencyKey: unique("k") });
    const page = await reports.getInventoryStatusReport({ warehouseId: site.w.id, pageSize: 1 });
    expect(page.nextPageToken).not.toBe("");
    const err = await failure(reports.getInventoryStatusReport({ pageSize: 1, pageToken: page.nextPageToken }));
    expect(err.code).toBe("INVALID_ARGUMENT");
  });
});

describe("inventory status totals", () => {
  it("sums per warehouse and per location, over every page", async () => {
    const site = newSite();
    const { items } = await newItems(2);
    const [, a, b] = site.places;
    await inv.stock.receiveStock({ itemId: items[0]!.id, warehouseId: site.w.id, locationId: a!, quantity: 5n, idempotencyKey: unique("k") });
    await inv.stock.receiveStock({ itemId: items[1]!.id, warehouseId: site.w.id, locationId: a!, quantity: 2n, idempotencyKey: unique("k") });
    await inv.stock.receiveStock({ itemId: items[1]!.id, warehouseId: site.w.id, locationId: b!, quantity: 1n, idempotencyKey: unique("k") });
    await inv.stock.receiveStock({ itemId: items[0]!.id, warehouseId: site.w.id, quantity: 7n, idempotencyKey: unique("k") });
    const r = await reports.getInventoryStatusReport({ warehouseId: site.w.id, pageSize: 1 });
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({ locationId: "", onHand: 7n });
    expect(r.totals.map((t) => [t.locationPath, t.itemCount, t.onHand])).toEqual([
      ["", 2n, 15n],
      ["Z1/A", 2n, 7n],
      ["Z1/B", 1n, 1n],
    ]);
  });
});

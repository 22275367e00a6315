/**
 * ExportReport: every report streamed as CSV (google.api.HttpBody chunks), read back through a
 * real CSV parser and compared with the report's own pages and with the ledger; names with
 * commas, quotes and non-ASCII survive the round trip (names cannot hold newlines: the CSV writer's
 * handling of those is proved in packages/platform/src/download/csv.test.ts); a report larger than max_rows is
 * refused before anything is sent.
 */
import { anyUnpack, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { failure } from "@inv/platform/testing";
import { DownloadProgressSchema, DownloadStartSchema } from "@inv/gen/common/v1/download_pb";
import type { HttpBody } from "@inv/gen/google/api/httpbody_pb";
import { ReportService } from "@inv/gen/inventory/v1/report_pb";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestInventory, type TestInventory } from "./testing.js";

let inv: TestInventory;
let reports: ReturnType<typeof client>;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
const client = (i: TestInventory) => i.svc.client(ReportService);

beforeAll(async () => {
  inv = await startTestInventory();
  reports = client(inv);
});
afterAll(() => inv?.stop());

async function collect(stream: AsyncIterable<HttpBody>) {
  const chunks: HttpBody[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const text = Buffer.concat(chunks.map((c) => c.data)).toString("utf8");
  const start = anyUnpack(chunks[0]!.extensions[0]!, DownloadStartSchema);
  const progress = chunks.slice(1).map((c) => anyUnpack(c.extensions[0]!, DownloadProgressSchema)?.rowsSent);
  return { chunks, text, start, progress, records: parse(text, { columns: true }) as Record<string, string>[] };
}

const awkward = ['Bolt, M8 "hex"', "semi;colon 'single' <tag>", "Ärger ✓ 日本 🚚", "plain"];

describe("ExportReport", () => {
  it("streams the movement report as CSV that a parser reads back exactly, names and all", async () => {
    const w = inv.directory.addWarehouse({ code: unique("W") });
    const type = (await inv.items.createItemType({ itemType: { name: unique("Type") } })).itemType!;
    const made = [];
    for (const name of awkward) made.push((await inv.items.createItem({ item: { sku: unique("S"), name, itemTypeId: type.id } })).item!);
    const start = new Date();
    for (const [i, item] of made.entries()) {
      await inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: BigInt(i + 1), reason: awkward[i]!, idempotencyKey: unique("k") });
    }
    const range = { startTime: timestampFromDate(start), endTime: timestampFromDate(new Date(Date.now() + 1000)), itemTypeId: type.id };

    const got = await collect(reports.exportReport({ report: { case: "movements", value: range } }));
    expect(got.chunks[0]!.contentType).toBe("text/csv; charset=utf-8");
    expect(got.start).toMatchObject({ totalRows: 4n });
    expect(got.start?.filename).toMatch(/^movements-\d{8}T\d{6}Z\.csv$/);
    expect(got.progress.at(-1)).toBe(4n);
    expect(Object.keys(got.records[0]!)).toEqual([
      "time",
      "source",
      "record_id",
      "movement_kind",
      "move_cause",
      "item_id",
      "sku",
      "item_name",
      "unit_id",
      "from_warehouse_id",
      "from_location_id",
      "warehouse_id",
      "location_id",
      "delta",
      "reserved_delta",
      "on_hand_after",
      "actor",
      "reason",
      "reference",
    ]);
    // The same rows as the report's pages and as the ledger, in the same order.
    const page = await reports.getMovementReport({ ...range, fresh: true });
    const ledger = await inv.stock.listMovements({ warehouseId: w.id });
    expect(got.records.map((r) => r.record_id)).toEqual(page.rows.map((r) => r.recordId));
    expect(got.records.map((r) => r.record_id)).toEqual(ledger.movements.map((m) => m.id));
    expect(got.records.map((r) => [r.item_name, r.reason, r.delta, r.source, r.movement_kind])).toEqual(
      awkward.map((name, i) => [name, name, String(i + 1), "STOCK_LEDGER", "RECEIPT"]),
    );
    expect(got.records.every((r) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(r.time!))).toBe(true);
  });

  it("writes a negative quantity as a number and a name a spreadsheet would run as text", async () => {
    const w = inv.directory.addWarehouse({ code: unique("W") });
    const type = (await inv.items.createItemType({ itemType: { name: unique("Type") } })).itemType!;
    const item = (await inv.items.createItem({ item: { sku: unique("S"), name: '=HYPERLINK("http://x.example","open")', itemTypeId: type.id } })).item!;
    const start = new Date();
    await inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: 5n, reason: "@SUM(A1:A9)", idempotencyKey: unique("k") });
    await inv.stock.adjustStock({ itemId: item.id, warehouseId: w.id, delta: -3n, reason: "-2+3", idempotencyKey: unique("k") });
    const range = { startTime: timestampFromDate(start), endTime: timestampFromDate(new Date(Date.now() + 1000)), itemTypeId: type.id };
    const got = await collect(reports.exportReport({ report: { case: "movements", value: range } }));
    expect(got.records.map((r) => [r.item_name, r.reason, r.delta, r.on_hand_after])).toEqual([
      ['\'=HYPERLINK("http://x.example","open")', "'@SUM(A1:A9)", "5", "5"],
      ['\'=HYPERLINK("http://x.example","open")', "'-2+3", "-3", "2"],
    ]);
  });

  it("exports each report with the columns of its row message", async () => {
    const w = inv.directory.addWarehouse({ code: unique("W") });
    const item = (
      await inv.items.createItem({
        item: { sku: unique("S"), name: "Widget", itemTypeId: (await inv.items.createItemType({ itemType: { name: unique("T") } })).itemType!.id },
      })
    ).item!;
    await inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: 2n, idempotencyKey: unique("k") });
    const status = await collect(reports.exportReport({ report: { case: "inventoryStatus", value: { warehouseId: w.id } } }));
    expect(status.records).toEqual([expect.objectContaining({ warehouse_code: w.code, sku: item.sku, on_hand: "2", status: "IN_STOCK", location_id: "" })]);
    const counts = await collect(reports.exportReport({ report: { case: "itemCounts", value: { warehouseId: w.id } } }));
    expect(counts.records).toEqual([expect.objectContaining({ on_hand: "2", item_count: "1" })]);
    const low = await collect(reports.exportReport({ report: { case: "lowStock", value: { warehouseId: w.id } } }));
    expect(low.records).toEqual([]);
    expect(low.text.split("\r\n")[0]).toContain("stock_level_on_hand");
    expect(low.start?.totalRows).toBe(0n);
  });

  it("refuses a report larger than max_rows before sending anything, and max_rows beyond the limit", async () => {
    const w = inv.directory.addWarehouse({ code: unique("W") });
    const type = (await inv.items.createItemType({ itemType: { name: unique("T") } })).itemType!;
    for (let i = 0; i < 3; i++) {
      const item = (await inv.items.createItem({ item: { sku: unique("S"), name: `I${i}`, itemTypeId: type.id } })).item!;
      await inv.stock.receiveStock({ itemId: item.id, warehouseId: w.id, quantity: 1n, idempotencyKey: unique("k") });
    }
    const received: HttpBody[] = [];
    const tooLarge = await failure(
      (async () => {
        for await (const chunk of reports.exportReport({ report: { case: "inventoryStatus", value: { warehouseId: w.id } }, maxRows: 2 })) received.push(chunk);
      })(),
    );
    expect(tooLarge).toMatchObject({ code: "FAILED_PRECONDITION", reason: "EXPORT_TOO_LARGE", field: "max_rows" });
    expect(tooLarge.message).toContain("3 rows");
    expect(received).toEqual([]);

    const beyond = await failure(drain(reports.exportReport({ report: { case: "inventoryStatus", value: {} }, maxRows: 1_000_001 })));
    expect(beyond).toMatchObject({ code: "INVALID_ARGUMENT", field: "max_rows" });
    const none = await failure(drain(reports.exportReport({})));
    expect(none).toMatchObject({ code: "INVALID_ARGUMENT", field: "report" });
    const badRange = await failure(
      drain(
        reports.exportReport({
          report: { case: "movements", value: { startTime: timestampFromDate(new Date()), endTime: timestampFromDate(new Date(Date.now() - 1000)) } },
        }),
      ),
    );
    expect(badRange).toMatchObject({ code: "INVALID_ARGUMENT", field: "end_time" });
  });

  it("streams a large export in chunks with progress that climbs to the total", async () => {
    const w = inv.directory.addWarehouse({ code: unique("W") });
    const type = (await inv.items.createItemType({ itemType: { name: unique("T") } })).itemType!;
    const item = (await inv.items.createItem({ item: { sku: unique("S"), name: "x".repeat(200), itemTypeId: type.id } })).item!;
    const start = new Date();
    await inv.stock.bulkAdjustStock({
      idempotencyKey: unique("k"),
      lines: Array.from({ length: 600 }, () => ({ itemId: item.id, warehouseId: w.id, delta: 1n, reason: "r".repeat(300) })),
    });
    const got = await collect(
      reports.exportReport({
        report: { case: "movements", value: { startTime: timestampFromDate(start), endTime: timestampFromDate(new Date(Date.now() + 1000)), itemId: item.id } },
      }),
    );
    expect(got.records).toHaveLength(600);
    expect(got.chunks.length).toBeGreaterThan(3);
    expect(got.chunks.every((c) => c.data.length <= 64 * 1024 + 2048)).toBe(true);
    const sent = got.progress.map(Number);
    expect([...sent].sort((a, b) => a - b)).toEqual(sent);
    expect(sent.at(-1)).toBe(600);
  });
});

describe("a caller that goes away", () => {
  it("ends the export's snapshot at once: the next call is answered, not held behind it", async () => {
    const w = inv.directory.addWarehouse({ code: unique("W") });
    const type = (await inv.items.createItemType({ itemType: { name: unique("T") } })).itemType!;
    const item = (await inv.items.createItem({ item: { sku: unique("S"), name: "y".repeat(200), itemTypeId: type.id } })).item!;
    const start = new Date();
    await inv.stock.bulkAdjustStock({
      idempotencyKey: unique("k"),
      lines: Array.from({ length: 800 }, () => ({ itemId: item.id, warehouseId: w.id, delta: 1n, reason: "z".repeat(400) })),
    });
    const range = { startTime: timestampFromDate(start), endTime: timestampFromDate(new Date(Date.now() + 1000)), itemId: item.id };
    let read = 0;
    for await (const _ of reports.exportReport({ report: { case: "movements", value: range } })) {
      if (++read === 2) break; // cancels the call, while the service still has most of the file to send
    }
    // On the embedded default (one connection) a snapshot left open would hold this call for
    // the snapshot's idle timeout (60 s); it must be answered at once.
    const answered = await Promise.race([
      inv.stock.listMovements({ itemId: item.id, pageSize: 1 }).then(() => "answered"),
      new Promise((resolve) => setTimeout(() => resolve("held"), 10_000)),
    ]);
    expect(answered).toBe("answered");
  });
});

async function drain(stream: AsyncIterable<unknown>) {
  for await (const _ of stream) {
    // read to the end
  }
}

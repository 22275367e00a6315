/**
 * The export bench (BENCH_ONLY=export): does a CSV export hold its memory flat however many rows
 * it streams? It calls the real inventory.v1.ReportService/ExportReport (the movement report of
 * one item, over gRPC, the service running in this process) on a ledger of BENCH_EXPORT_ROWS
 * entries (1,000,000) and, in the same run, on one of 10,000 as the baseline (after a 100,000-row
 * warm-up), consuming the file's bytes as a client would and checking it holds the rows it
 * announced. It prints, per run, the process's peak RSS, its RSS growth and its peak heapUsed
 * growth over the start of the run, and the export's figures against the baseline's: bounded
 * memory gives ~1x for peak RSS and heapUsed growth and an RSS growth far below the size of the
 * file; memory that grows with the rows gives ~100x. Timings are printed too, for reading, not
 * asserted. On Postgres when DATABASE_URL is set (a scratch database, dropped at the end), on
 * PGlite otherwise. The ledgers are written by one SQL statement each, not 1,000,000 calls.
 */
import { randomUUID } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type Any, anyUnpack, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DownloadStartSchema } from "@inv/gen/common/v1/download_pb";
import { ReportService } from "@inv/gen/inventory/v1/report_pb";
import { startTestInventory, type TestInventory } from "@inv/inventory-service/testing";
import type { HttpBodyInit } from "@inv/platform";
import { sql } from "drizzle-orm";
import { formatRows } from "./report.js";

/** A file being downloaded: the rows it announced, and its bytes as they arrive. */
export interface Download {
  totalRows: number;
  chunks: AsyncIterable<Uint8Array>;
}

/** Where the bench's file comes from: a number of rows in, a download out. */
export type ExportSource = (rows: number) => Promise<Download>;

const ROWS = Number(process.env["BENCH_EXPORT_ROWS"] ?? 1_000_000);
const BASELINE_ROWS = 10_000;
const WARMUP_ROWS = 100_000;
/**
 * A full garbage collection every this many chunks (of 64 KiB: every 4 MiB of CSV), in the baseline
 * and the export alike. V8 collects lazily: left alone, it lets dead rows pile up in a heap it
 * grows with the allocation rate (80+ MiB of heapUsed, and RSS with it, on a run whose live set
 * stays under 10 MiB), so the peaks would measure V8's heuristics rather than what the pipeline
 * keeps. Memory is sampled at every chunk.
 */
const GC_EVERY = 64;

/**
 * The real export: the movement report of an item whose ledger holds `n` entries (one item per
 * size, seeded first by seedLedger), streamed by ExportReport.
 */
async function reportExport(inv: TestInventory, sizes: readonly number[]): Promise<ExportSource> {
  const reports = inv.svc.client(ReportService);
  const start = new Date(Date.now() - 60_000);
  // Written before any run is measured: the memory a database takes to hold the rows is not the export's.
  const seeded = new Map<number, string>();
  for (const n of new Set(sizes)) seeded.set(n, await seedLedger(inv, n));
  return async (n) => {
    const itemId = seeded.get(n);
    if (itemId === undefined) throw new Error(`no ledger of ${n} rows was seeded`);
    const range = { startTime: timestampFromDate(start), endTime: timestampFromDate(new Date(Date.now() + 60_000)), itemId };
    return download(reports.exportReport({ report: { case: "movements", value: range } }));
  };
}

/**
 * A new item with one stock level whose ledger holds `n` receipts of one unit each, written as
 * the service would (a gapless chain of level sequences, before/after quantities that add up) by
 * one statement, so the deferred ledger check passes at commit.
 */
async function seedLedger(inv: TestInventory, n: number): Promise<string> {
  const item = await inv.newItem();
  const warehouse = inv.directory.addWarehouse();
  await inv.db.transaction(async (tx) => {
    const level = randomUUID();
    await tx.execute(sql`INSERT INTO inventory.stock_levels (id, item_id, sku, warehouse_id, on_hand, sequence)
      VALUES (${level}::uuid, ${item.id}::uuid, ${item.sku}, ${warehouse.id}::uuid, ${n}, ${n})`);
    await tx.execute(sql`INSERT INTO inventory.movements (id, kind, stock_level_id, level_sequence, item_id, sku, warehouse_id,
        delta, reserved_delta, on_hand_before, on_hand_after, reserved_before, reserved_after, actor, reason, reference)
      SELECT gen_random_uuid(), 1, ${level}::uuid, g, ${item.id}::uuid, ${item.sku}, ${warehouse.id}::uuid,
        1, 0, g - 1, g, 0, 0, 'bench', 'receipt, "bench" ' || g, 'PO-' || g
      FROM generate_series(1, ${n}::int) g`);
  });
  return item.id;
}

/** A stream of HttpBody messages as a Download: the first one's DownloadStart gives the row count. */
async function download(messages: AsyncIterable<HttpBodyInit>): Promise<Download> {
  const iterator = messages[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) throw new Error("the export sent no message");
  const start = first.value.extensions?.map((any) => anyUnpack(any as Any, DownloadStartSchema)).find((m) => m !== undefined);
  if (start === undefined) throw new Error("the export's first message has no DownloadStart");
  async function* chunks() {
    if (first.value.data) yield first.value.data;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) if (next.value.data) yield next.value.data;
  }
  return { totalRows: Number(start.totalRows), chunks: chunks() };
}

interface Measured {
  rows: number;
  records: number;
  bytes: number;
  chunks: number;
  seconds: number;
  /** The process's largest RSS during the run. */
  peakRss: number;
  rssGrowth: number;
  heapGrowth: number;
}

/** Downloads one file, counting its bytes and records and sampling memory; growth is over the start. */
async function measure(source: ExportSource, rows: number): Promise<Measured> {
  collectGarbage();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  const started = performance.now();
  const file = await source(rows);
  let bytes = 0;
  let chunks = 0;
  let crlf = 0;
  let lastByte = 0;
  for await (const chunk of file.chunks) {
    bytes += chunk.length;
    // Records end with CRLF; no value here holds a line break.
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) if ((i === 0 ? lastByte : chunk[i - 1]) === 13) crlf++;
    lastByte = chunk[chunk.length - 1] ?? lastByte;
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed);
    if (++chunks % GC_EVERY === 0) collectGarbage();
  }
  const seconds = (performance.now() - started) / 1000;
  const after = process.memoryUsage();
  peakRss = Math.max(peakRss, after.rss);
  peakHeap = Math.max(peakHeap, after.heapUsed);
  const records = crlf - 1; // the header row
  if (records !== file.totalRows) throw new Error(`the file announced ${file.totalRows} rows and holds ${records}`);
  return { rows: file.totalRows, records, bytes, chunks, seconds, peakRss, rssGrowth: peakRss - before.rss, heapGrowth: peakHeap - before.heapUsed };
}

let gc: (() => void) | undefined;
/** A full garbage collection before each run, so runs start alike (node was not started with --expose-gc). */
function collectGarbage() {
  if (gc === undefined) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}

/** The export bench, as run.ts runs it: prints its table, asserts nothing. */
export async function exportBench(): Promise<void> {
  // The inventory service on a scratch database of its own: DATABASE_URL's server, or PGlite.
  if (process.env["DATABASE_URL"]) process.env["TEST_DATABASE_URL"] ??= process.env["DATABASE_URL"];
  process.env["TEST_LOG_LEVEL"] ??= "silent";
  const label = process.env["TEST_DATABASE_URL"] ? "Postgres (DATABASE_URL)" : "embedded PGlite";
  const inv = await startTestInventory();
  try {
    const source = await reportExport(inv, [WARMUP_ROWS, BASELINE_ROWS, ROWS]);
    // Warm-up: JIT, prepared statements, the database's caches, and V8's young generation grown to
    // its working size, which 10,000 rows alone do not reach.
    await measure(source, WARMUP_ROWS);
    const baseline = await measure(source, BASELINE_ROWS);
    const big = await measure(source, ROWS);
    console.log(`\nCSV export (ReportService/ExportReport of the movement report over gRPC, 64 KiB chunks), ${label}, service and client in the bench process`);
    console.log(`  19 columns per ledger entry (reasons and references need quoting); baseline ${int(BASELINE_ROWS)} rows, same run`);
    console.log(`  memory sampled at every chunk, a full GC every ${GC_EVERY} chunks (see GC_EVERY); growth is over the process before each run\n`);
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    const row = (name: string, m: Measured) => [
      name,
      int(m.rows),
      mib(m.bytes),
      int(m.chunks),
      m.seconds.toFixed(2),
      int(m.rows / m.seconds),
      mib(m.peakRss),
      mib(m.rssGrowth),
      mib(m.heapGrowth),
    ];
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    console.log(
      formatRows([
        ["", "rows", "MiB", "chunks", "seconds", "rows/s", "peak RSS MiB", "RSS growth MiB", "peak heapUsed growth MiB"],
        row("baseline", baseline),
        row("export", big),
        [
          "export / baseline",
          ratio(big.rows, baseline.rows),
          ratio(big.bytes, baseline.bytes),
          "",
          ratio(big.seconds, baseline.seconds),
          "",
          ratio(big.peakRss, baseline.peakRss),
          `+${mib(big.rssGrowth - baseline.rssGrowth)}`,
          ratio(big.heapGrowth, baseline.heapGrowth),
        ],
        ["bounded memory", "", "", "", "", "", "~1x", "<< MiB of CSV", "~1x, not ~rows"],
      ]),
    );
    // The RSS growth of a 10,000-row run after the warm-up is ~0, so a ratio to it says nothing.
    console.log();
  } finally {
    await inv.stop();
  }
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");

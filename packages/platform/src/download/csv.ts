import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { anyPack, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DownloadProgressSchema, DownloadStartSchema } from "@inv/gen/common/v1/download_pb";
import type { HttpBodySchema } from "@inv/gen/google/api/httpbody_pb";
import { stringify } from "csv-stringify/sync";

/** The content type of every CSV download: RFC 4180 text in UTF-8 (no byte order mark). */
export const CSV_CONTENT_TYPE = "text/csv; charset=utf-8";

/** Bytes of CSV per message after the first, by default: well under gRPC's 4 MiB message limit. */
export const DEFAULT_CHUNK_BYTES = 64 * 1024;

/** One message of a streamed download, as a server-streaming handler yields it. */
export type HttpBodyInit = MessageInitShape<typeof HttpBodySchema>;

export interface CsvDownloadOptions {
  /** Suggested file name (see exportFilename), sent in the first message's DownloadStart. */
  filename: string;
  /** Data rows `rows` will yield (counted in the same snapshot); the header row is not counted. */
  totalRows: number;
  /** When the data was read, sent in the first message's DownloadStart. */
  generateTime: Date;
  /** The header row: the column names, in the order of every row's cells. */
  columns: readonly string[];
  /** The data rows, in batches (e.g. one per cursor FETCH); every row has one cell per column. */
  rows: AsyncIterable<readonly (readonly unknown[])[]>;
  /** Most bytes of CSV in one message after the first (a single larger row travels alone); 64 KiB by default. */
  chunkBytes?: number | undefined;
}

/**
 * A CSV file as a stream of google.api.HttpBody messages, as `rpc … returns (stream
 * google.api.HttpBody)` sends it (inventory.v1.ReportService.ExportReport says how):
 *
 * - the first message has `content_type` "text/csv; charset=utf-8", the header row alone as its
 *   data, and a common.v1.DownloadStart (file name, total rows, generate time) in its
 *   extensions. It is sent before any row is read, so a client learns at once that the export
 *   started and how large it will be;
 * - every later message carries whole rows, at most `chunkBytes` of them (a row larger than that
 *   alone), and a common.v1.DownloadProgress: rows sent so far, this message's included, out of
 *   `totalRows`. The last one has `rows_sent == total_rows`.
 *
 * The CSV is RFC 4180, written by csv-stringify: fields separated by commas, every record
 * (header included) ended by CRLF, a field quoted when it holds a comma, a quote (doubled), CR
 * or LF; UTF-8 without a byte order mark. Cells: strings as they are, except that an empty
 * string is written `""` so it stays apart from a missing value, and a string a spreadsheet would
 * run as a formula gets a leading apostrophe (see `neutralizeFormula`); null and undefined as an empty
 * unquoted field; numbers and bigints in decimal (integers never in exponent form); booleans as
 * `true`/`false`; Dates as RFC 3339 UTC (`toISOString()`); other objects as JSON.
 *
 * Only the chunk being filled is buffered, and the next batch of rows is pulled only when it is
 * needed. A row count that differs from `totalRows` throws once it shows (the file would
 * contradict its DownloadStart), as does a row whose length differs from `columns`.
 */
export async function* csvDownload(opts: CsvDownloadOptions): AsyncGenerator<HttpBodyInit, void, undefined> {
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes must be a positive integer, not ${chunkBytes}`);
  const total = opts.totalRows;
  if (!Number.isSafeInteger(total) || total < 0) throw new RangeError(`totalRows must be a non-negative integer, not ${total}`);
  const width = opts.columns.length;
  const start = create(DownloadStartSchema, {
    filename: opts.filename,
    totalRows: BigInt(total),
    generateTime: timestampFromDate(opts.generateTime),
  });
  yield { contentType: CSV_CONTENT_TYPE, data: Buffer.from(csvLine(opts.columns)), extensions: [anyPack(DownloadStartSchema, start)] };

  let rowsSent = 0;
  const progress = (data: Uint8Array): HttpBodyInit => ({
    data,
    extensions: [anyPack(DownloadProgressSchema, create(DownloadProgressSchema, { rowsSent: BigInt(rowsSent), totalRows: BigInt(total) }))],
  });
  let chunk = Buffer.allocUnsafeSlow(chunkBytes);
  let filled = 0;
  for await (const batch of opts.rows) {
    for (const row of batch) {
      if (row.length !== width) throw new RangeError(`row ${rowsSent + 1} has ${row.length} cells for ${width} columns`);
      if (rowsSent === total) throw new Error(`the export has more rows than the ${total} it counted`);
      const line = csvLine(row.map(cellOf));
      const size = Buffer.byteLength(line);
      if (filled > 0 && filled + size > chunkBytes) {
        yield progress(chunk.subarray(0, filled));
        chunk = Buffer.allocUnsafeSlow(chunkBytes);
        filled = 0;
      }
      rowsSent++;
      if (size > chunkBytes) yield progress(Buffer.from(line));
      else filled += chunk.write(line, filled);
    }
  }
  if (filled > 0) yield progress(chunk.subarray(0, filled));
  if (rowsSent !== total) throw new Error(`the export has ${rowsSent} rows, not the ${total} it counted`);
}

/** "" written as `""`: csv-stringify's `quoted_empty` would quote missing values too. */
const QUOTED_EMPTY = { value: "", quoted_empty: true };
const RECORD = { eof: true, record_delimiter: "\r\n", cast: { string: (value: string) => (value === "" ? QUOTED_EMPTY : value) } };

/**
 * One record as CSV, for byte-exact chunks of whole rows. csv-stringify's synchronous API, one
 * call per record: its stream would do the same work a little faster, but schedules a
 * process.nextTick per record, which piles up (~150 bytes a row) for as long as the consumer
 * runs on promises alone, without an I/O turn of the event loop (PGlite, a benchmark). Cells
 * reach it as strings or null only, so it cannot fail.
 */
const csvLine = (cells: readonly (string | null)[]): string => stringify([cells], RECORD);

/** What a spreadsheet takes for the start of a formula (or, tab and CR, for a cell's start). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * Text that a spreadsheet would evaluate (CSV injection: `=HYPERLINK(…)`, `@SUM(…)`, `-2+3`) with a
 * leading apostrophe, which spreadsheets show as text; any other text as it is. Only for text
 * cells: a number is written as a number, sign and all.
 */
const neutralizeFormula = (text: string): string => (FORMULA_START.test(text) ? `'${text}` : text);

/** One value as CSV text, or null for an empty field (see csvDownload). */
function cellOf(value: unknown): string | null {
  switch (typeof value) {
    case "string":
      return neutralizeFormula(value);
    case "number":
      if (!Number.isFinite(value)) throw new RangeError(`a CSV cell cannot hold ${value}`);
      return Number.isInteger(value) && Math.abs(value) >= 1e21 ? BigInt(value).toString() : String(value);
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
      return null;
    case "object":
      if (value === null) return null;
      if (value instanceof Date) return value.toISOString();
      return JSON.stringify(value);
    default:
      throw new TypeError(`a CSV cell cannot hold a ${typeof value}`);
  }
}

/**
 * A download's file name: `base`, the time in compact ISO 8601 UTC, ".csv", e.g.
 * `exportFilename("inventory-status", at)` → "inventory-status-20261126T103000Z.csv". Anything
 * in `base` but letters, digits, ".", "_" and "-" becomes "-".
 */
export function exportFilename(base: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/[-:]/g, "");
  return `${base.replace(/[^\w.-]+/g, "-")}-${stamp}.csv`;
}

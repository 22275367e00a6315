/** csvDownload: RFC 4180 through csv-stringify, read back with csv-parse; chunks of whole rows; progress. */
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { DownloadProgressSchema, DownloadStartSchema } from "@inv/gen/common/v1/download_pb";
import { parse } from "csv-parse/sync";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CSV_CONTENT_TYPE, csvDownload, type CsvDownloadOptions, exportFilename, type HttpBodyInit } from "./csv.js";

const at = new Date("2026-11-26T10:30:00.123Z");

async function collect(opts: Partial<CsvDownloadOptions> & Pick<CsvDownloadOptions, "columns" | "rows" | "totalRows">): Promise<HttpBodyInit[]> {
  const out: HttpBodyInit[] = [];
  for await (const m of csvDownload({ filename: "f.csv", generateTime: at, ...opts })) out.push(m);
  return out;
}

async function* batches<T>(all: readonly T[], size: number): AsyncGenerator<T[]> {
  for (let i = 0; i < all.length; i += size) yield all.slice(i, i + size);
}

const bytesOf = (messages: HttpBodyInit[]) => Buffer.concat(messages.map((m) => m.data ?? new Uint8Array()));
const extensionOf = (m: HttpBodyInit) => m.extensions?.[0] as Parameters<typeof anyUnpack>[0];
const progressOf = (m: HttpBodyInit) => anyUnpack(extensionOf(m), DownloadProgressSchema)!;

/** csv-parse, telling a quoted empty field ("") from an unquoted one (null). */
const parseCsv = (data: Uint8Array | string) =>
  parse(Buffer.from(data), { cast: (value, ctx) => (value === "" && !ctx.quoting ? null : value) }) as (string | null)[][];

describe("csvDownload", () => {
  it("round-trips awkward values through csv-parse: commas, quotes, CR/LF, non-ASCII, empty vs missing", async () => {
    const columns = ["id", "name", "quantity", "big", "time", "flag", "note"];
    const rows: unknown[][] = [
      ["a,1", 'say "hi"', 0, 9007199254740993n, at, true, ""],
      ["b", "line one\r\nline two\nthree\rfour", -42, -1n, new Date(0), false, null],
      ["c", "Ärger ✓ 日本 😀👍🏽", 1e21, 0n, at, true, undefined],
      ["d", " leading and trailing spaces ", 3, 12345678901234567890n, at, false, { a: [1, "x"] }],
      ["e", '"', 12, 5n, at, true, ","],
    ];
    const messages = await collect({ columns, rows: batches(rows, 2), totalRows: rows.length, chunkBytes: 64 });
    const data = bytesOf(messages);
    expect(data.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false); // no byte order mark
    expect(data.toString("utf8").startsWith("id,name,quantity,big,time,flag,note\r\n")).toBe(true);
    expect(data.toString("utf8").endsWith("\r\n")).toBe(true);
    expect(parseCsv(data)).toEqual([
      columns,
      ["a,1", 'say "hi"', "0", "9007199254740993", "2026-11-26T10:30:00.123Z", "true", ""],
      ["b", "line one\r\nline two\nthree\rfour", "-42", "-1", "1970-01-01T00:00:00.000Z", "false", null],
      ["c", "Ärger ✓ 日本 😀👍🏽", "1000000000000000000000", "0", "2026-11-26T10:30:00.123Z", "true", null],
      ["d", " leading and trailing spaces ", "3", "12345678901234567890", "2026-11-26T10:30:00.123Z", "false", '{"a":[1,"x"]}'],
      ["e", '"', "12", "5", "2026-11-26T10:30:00.123Z", "true", ","],
    ]);
    // Quoting only where needed.
    expect(data.toString("utf8")).toContain('\r\n"a,1","say ""hi""",0,9007199254740993,');
    expect(data.toString("utf8")).toContain("\r\nc,Ärger ✓ 日本 😀👍🏽,1000000000000000000000,0,");
  });

  it("writes text a spreadsheet would run as a formula with a leading apostrophe, and numbers as they are", async () => {
    const columns = ["name", "reason", "quantity", "delta"];
    const rows: unknown[][] = [
      ['=HYPERLINK("http://evil.example","x")', "@SUM(A1:A9)", -5, -3n],
      ["+1+2", "-2+3", 0, 7n],
      ["\tcmd", "\r=1", 4, 0n],
      ["a=b", "x-1", 1, 1n],
    ];
    const data = bytesOf(await collect({ columns, rows: batches(rows, 3), totalRows: rows.length }));
    expect(parseCsv(data)).toEqual([
      columns,
      ['\'=HYPERLINK("http://evil.example","x")', "'@SUM(A1:A9)", "-5", "-3"],
      ["'+1+2", "'-2+3", "0", "7"],
      ["'\tcmd", "'\r=1", "4", "0"],
      ["a=b", "x-1", "1", "1"],
    ]);
  });

  it("reads any text back as written, with an apostrophe before a formula's start, and never leaves a cell that starts one", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: "binary" }), { minLength: 1, maxLength: 20 }), async (texts) => {
        const data = bytesOf(
          await collect({
            columns: ["text"],
            rows: batches(
              texts.map((t) => [t]),
              7,
            ),
            totalRows: texts.length,
          }),
        );
        const cells = parseCsv(data)
          .slice(1)
          .map(([cell]) => cell);
        expect(cells).toEqual(texts.map((t) => (/^[=+\-@\t\r]/.test(t) ? `'${t}` : t)));
        for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      }),
      { numRuns: 200 },
    );
  });

  it("sends the content type, the header row alone and a DownloadStart first", async () => {
    const [first, ...rest] = await collect({
      columns: ["a", "b"],
      rows: batches([[1, 2]], 1),
      totalRows: 1,
      filename: "inventory-status-20261126T103000Z.csv",
    });
    expect(first!.contentType).toBe(CSV_CONTENT_TYPE);
    expect(Buffer.from(first!.data!).toString()).toBe("a,b\r\n");
    const start = anyUnpack(extensionOf(first!), DownloadStartSchema)!;
    expect(start.filename).toBe("inventory-status-20261126T103000Z.csv");
    expect(start.totalRows).toBe(1n);
    expect(timestampDate(start.generateTime!).toISOString()).toBe(at.toISOString());
    expect(rest).toHaveLength(1);
    expect(rest[0]!.contentType).toBeUndefined();
    expect(progressOf(rest[0]!)).toMatchObject({ rowsSent: 1n, totalRows: 1n });
  });

  it("cuts chunks of whole rows, at most chunkBytes each, with monotone progress ending at the total", async () => {
    const rows = Array.from({ length: 500 }, (_, i) => [i, "x".repeat(i % 37), i % 5 === 0 ? "a,b" : "ü"]);
    const lineOf = (i: number) => `${i},${i % 37 === 0 ? '""' : "x".repeat(i % 37)},${i % 5 === 0 ? '"a,b"' : "ü"}\r\n`;
    const chunkBytes = 200;
    const messages = await collect({ columns: ["n", "pad", "s"], rows: batches(rows, 7), totalRows: rows.length, chunkBytes });
    const later = messages.slice(1);
    let sent = 0;
    let previous = 0n;
    for (const [i, m] of later.entries()) {
      const data = Buffer.from(m.data!);
      expect(data.length).toBeLessThanOrEqual(chunkBytes);
      const { rowsSent, totalRows } = progressOf(m);
      expect(totalRows).toBe(500n);
      expect(rowsSent).toBeGreaterThan(previous);
      // Whole rows: each message parses alone, and holds exactly the rows its progress adds.
      const parsed = parseCsv(data);
      expect(BigInt(parsed.length)).toBe(rowsSent - previous);
      expect(parsed.map((r) => Number(r[0]))).toEqual(Array.from({ length: parsed.length }, (_, k) => sent + k));
      // Full: the next row would not have fitted.
      if (i < later.length - 1) expect(data.length + Buffer.byteLength(lineOf(sent + parsed.length))).toBeGreaterThan(chunkBytes);
      sent += parsed.length;
      previous = rowsSent;
    }
    expect(previous).toBe(500n);
    expect(parseCsv(bytesOf(messages)).length).toBe(501);
  });

  it("sends a row larger than a chunk alone", async () => {
    const rows = [["small"], ["y".repeat(300)], ["small again"]];
    const messages = await collect({ columns: ["v"], rows: batches(rows, 3), totalRows: 3, chunkBytes: 100 });
    expect(messages.slice(1).map((m) => [m.data!.length, progressOf(m).rowsSent])).toEqual([
      [7, 1n],
      [302, 2n],
      [13, 3n],
    ]);
  });

  it("sends only the header for no rows", async () => {
    const messages = await collect({ columns: ["a"], rows: batches([], 1), totalRows: 0 });
    expect(messages).toHaveLength(1);
    expect(Buffer.from(messages[0]!.data!).toString()).toBe("a\r\n");
  });

  it("reads rows only as chunks are needed, and sends the header before reading any", async () => {
    let pulled = 0;
    async function* counted() {
      for (let b = 0; b < 100; b++) {
        pulled++;
        yield Array.from({ length: 10 }, (_, i) => [b * 10 + i, "z".repeat(90)]);
      }
    }
    const iterator = csvDownload({ filename: "f", generateTime: at, columns: ["n", "z"], rows: counted(), totalRows: 1000, chunkBytes: 4096 })[
      Symbol.asyncIterator
    ]();
    await iterator.next();
    expect(pulled).toBe(0);
    await iterator.next(); // ~4 KiB: the first five batches of ~1 KiB
    expect(pulled).toBeLessThanOrEqual(5);
    await iterator.return(undefined);
    expect(pulled).toBeLessThanOrEqual(5);
  });

  it("throws when the rows disagree with the count or the columns", async () => {
    await expect(collect({ columns: ["a"], rows: batches([[1], [2]], 1), totalRows: 3 })).rejects.toThrow(/2 rows, not the 3/);
    await expect(collect({ columns: ["a"], rows: batches([[1], [2]], 1), totalRows: 1 })).rejects.toThrow(/more rows than the 1/);
    await expect(collect({ columns: ["a", "b"], rows: batches([[1]], 1), totalRows: 1 })).rejects.toThrow(/1 cells for 2 columns/);
    await expect(collect({ columns: ["a"], rows: batches([[Number.NaN]], 1), totalRows: 1 })).rejects.toThrow(/NaN/);
    await expect(collect({ columns: ["a"], rows: batches([[1]], 1), totalRows: 1, chunkBytes: 0 })).rejects.toThrow(/chunkBytes/);
  });

  it("passes an error of the rows on after the messages before it", async () => {
    async function* failing() {
      yield [["ok"]];
      throw new Error("cursor broke");
    }
    const got: HttpBodyInit[] = [];
    await expect(
      (async () => {
        for await (const m of csvDownload({ filename: "f", generateTime: at, columns: ["a"], rows: failing(), totalRows: 2, chunkBytes: 1 })) got.push(m);
      })(),
    ).rejects.toThrow("cursor broke");
    expect(got.map((m) => Buffer.from(m.data!).toString())).toEqual(["a\r\n", "ok\r\n"]);
  });
});

describe("exportFilename", () => {
  it("is the base, the UTC time in compact ISO 8601 and .csv", () => {
    expect(exportFilename("inventory-status", new Date("2026-11-26T10:30:00.999Z"))).toBe("inventory-status-20261126T103000Z.csv");
    expect(exportFilename("low stock/../x", new Date("2026-01-02T03:04:05Z"))).toBe("low-stock-..-x-20260102T030405Z.csv");
  });
});

/**
 * Methods answering google.api.HttpBody over REST are downloads: the bytes as they are, headers
 * from the first message's DownloadStart, backpressure from the client down to the service, a
 * cancelled upstream call when the client leaves, and a cut-off response (never a clean end)
 * when the service fails mid-stream. Connect and gRPC-Web pass the same messages through.
 *
 * The upstream is a bare grpc-js server (raw bytes in and out) serving the real
 * inventory.v1.ReportService/ExportReport (POST /v1/reports:export) and a test FileService with a
 * GET-bound stream and a unary HttpBody.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { type IncomingMessage, request } from "node:http";
import { create, createFileRegistry, type DescService, fromBinary, setExtension, toBinary } from "@bufbuild/protobuf";
import { anyPack, anyUnpack, FileDescriptorProtoSchema, MethodOptionsSchema, timestampDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Server, ServerCredentials, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, type StatusObject, status } from "@grpc/grpc-js";
import { DownloadStartSchema } from "@inv/gen/common/v1/download_pb";
import { http } from "@inv/gen/google/api/annotations_pb";
import { HttpRuleSchema } from "@inv/gen/google/api/http_pb";
import { file_google_api_httpbody, HttpBodySchema } from "@inv/gen/google/api/httpbody_pb";
import { ExportReportRequestSchema, ReportService } from "@inv/gen/inventory/v1/report_pb";
import { createLogger, csvDownload, FailedPrecondition, type HttpBodyInit, toStatus } from "@inv/platform";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type RunningEdge, startEdge } from "./index.js";
import { contentDisposition } from "./rest.js";

const log = createLogger("edge", "silent");
const CREDENTIALS = { authorization: "Bearer opaque-to-this-edge" };

// A test service: a GET-bound HttpBody stream and a unary HttpBody, neither with a DownloadStart.
function fileService(): DescService {
  const rule = (path: string) => {
    const options = create(MethodOptionsSchema);
    setExtension(options, http, create(HttpRuleSchema, { pattern: { case: "get", value: path } }));
    return options;
  };
  const file = create(FileDescriptorProtoSchema, {
    name: "test/v1/files.proto",
    package: "test.v1",
    syntax: "proto3",
    dependency: ["google/api/httpbody.proto"],
    messageType: [{ name: "GetFileRequest", field: [{ name: "name", number: 1, type: 9, label: 1, jsonName: "name" }] }],
    service: [
      {
        name: "FileService",
        method: [
          {
            name: "DownloadFile",
            inputType: ".test.v1.GetFileRequest",
            outputType: ".google.api.HttpBody",
            options: rule("/v1/files/{name}"),
            serverStreaming: true,
          },
          { name: "GetFile", inputType: ".test.v1.GetFileRequest", outputType: ".google.api.HttpBody", options: rule("/v1/files/{name}:raw") },
        ],
      },
    ],
  });
  const registry = createFileRegistry(file, (name) => (name === file_google_api_httpbody.proto.name ? file_google_api_httpbody : undefined));
  return registry.getService("test.v1.FileService")!;
}
const FileService = fileService();

type StreamCall = ServerWritableStream<Buffer, Buffer>;
/** What the upstream does with the next streaming call; set by each test. */
let serveStream: (call: StreamCall) => Promise<void>;
let serveUnary: (call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>) => void;
const seen: { path: string; request: Buffer; sent: number; cancelled: boolean }[] = [];

let upstream: Server;
let edge: RunningEdge;

beforeAll(async () => {
  upstream = new Server();
  const raw = (b: Buffer) => b;
  const def = (path: string, responseStream: boolean) => ({
    path,
    requestStream: false,
    responseStream,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  });
  const streaming = (path: string) => (call: StreamCall) => {
    const record = { path, request: call.request, sent: 0, cancelled: false };
    seen.push(record);
    call.on("cancelled", () => {
      record.cancelled = true;
    });
    const write = call.write.bind(call);
    call.write = ((chunk: Buffer, ...rest: never[]) => {
      record.sent += chunk.length;
      return write(chunk, ...rest);
    }) as typeof call.write;
    serveStream(call).catch((err: unknown) => call.destroy(err as Error));
  };
  upstream.addService({ exportReport: def(`/${ReportService.typeName}/ExportReport`, true) }, { exportReport: streaming("ExportReport") });
  upstream.addService(
    { downloadFile: def(`/${FileService.typeName}/DownloadFile`, true), getFile: def(`/${FileService.typeName}/GetFile`, false) },
    { downloadFile: streaming("DownloadFile"), getFile: (call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>) => serveUnary(call, done) },
  );
  const port = await new Promise<number>((resolve, reject) =>
    upstream.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  edge = await startEdge({
    port: 0,
    host: "127.0.0.1",
    services: [ReportService, FileService],
    targetOf: () => `dns:///127.0.0.1:${port}`,
    log,
    corsOrigins: ["*"],
    upstreamDeadlineMs: 5_000,
    processOf: () => "inventory",
    processNames: ["inventory"],
    serviceSecret: "a secret the upstream never checks, 32+ characters",
  });
});

afterAll(async () => {
  await edge?.stop();
  upstream?.forceShutdown();
});

beforeEach(() => {
  seen.length = 0;
  vi.restoreAllMocks();
});

const encode = (init: HttpBodyInit) => Buffer.from(toBinary(HttpBodySchema, create(HttpBodySchema, init)));

/** Writes each message, waiting for 'drain' when grpc-js says its buffer is full, then ends the call (unless told not to). */
async function send(call: StreamCall, messages: AsyncIterable<HttpBodyInit> | Iterable<HttpBodyInit>, end = true) {
  for await (const m of messages) {
    if (call.cancelled) return;
    if (!call.write(encode(m))) await writable(call);
  }
  if (end && !call.cancelled) call.end();
}

function writable(call: StreamCall): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off("drain", done);
      call.off("cancelled", done);
      resolve();
    };
    call.on("drain", done);
    call.on("cancelled", done);
  });
}

const at = new Date("2026-11-26T10:30:00.123Z");
const CSV_ROWS = [
  ["w1", "Z1/A-03", 12n, at],
  ["w1", 'shelf "B", top\nrow', 0n, at],
  ["w2", "Ärger ✓ 日本", -3n, null],
];
const exportMessages = (chunkBytes = 24) =>
  csvDownload({
    filename: "inventory-status-20261126T103000Z.csv",
    totalRows: CSV_ROWS.length,
    generateTime: at,
    columns: ["warehouse_id", "location_path", "on_hand", "time"],
    rows: (async function* () {
      yield CSV_ROWS;
    })(),
    chunkBytes,
  });
const EXPECTED_CSV =
  "warehouse_id,location_path,on_hand,time\r\n" +
  "w1,Z1/A-03,12,2026-11-26T10:30:00.123Z\r\n" +
  'w1,"shelf ""B"", top\nrow",0,2026-11-26T10:30:00.123Z\r\n' +
  "w2,Ärger ✓ 日本,-3,\r\n";

/** A raw HTTP/1.1 request whose response the test reads (or does not) at its own pace. */
function open(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const url = new URL(path, edge.url);
  const req = request(url, {
    method,
    headers: { ...CREDENTIALS, ...headers, ...(body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }) },
  });
  const response = once(req, "response").then(([res]) => res as IncomingMessage);
  req.end(body);
  return { req, response };
}

/** Reads a response to its end, or to its failure: the bytes and whether it ended cleanly. */
async function readAll(res: IncomingMessage): Promise<{ bytes: Buffer; complete: boolean; failed: boolean }> {
  const chunks: Buffer[] = [];
  let failed = false;
  try {
    for await (const chunk of res) chunks.push(chunk as Buffer);
  } catch {
    failed = true;
  }
  return { bytes: Buffer.concat(chunks), complete: res.complete, failed };
}

async function waitFor(condition: () => boolean, ms = 5_000) {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("a server stream of google.api.HttpBody over REST", () => {
  it("is the raw file with Content-Type, Content-Disposition, X-Total-Rows and X-Generate-Time (POST)", async () => {
    serveStream = (call) => send(call, exportMessages());
    const res = await fetch(`${edge.url}/v1/reports:export`, {
      method: "POST",
      headers: { ...CREDENTIALS, "content-type": "application/json", origin: "https://app.example" },
      body: JSON.stringify({ inventoryStatus: { warehouseId: "w1" }, maxRows: 10 }),
    });
    expect(res.status).toBe(200);
    expect(Object.fromEntries(["content-type", "content-disposition", "x-total-rows", "x-generate-time"].map((h) => [h, res.headers.get(h)]))).toEqual({
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": 'attachment; filename="inventory-status-20261126T103000Z.csv"',
      "x-total-rows": "3",
      "x-generate-time": "2026-11-26T10:30:00.123Z",
    });
    expect(res.headers.get("access-control-expose-headers")).toMatch(/content-disposition, x-total-rows, x-generate-time/);
    expect(res.headers.get("content-length")).toBeNull();
    expect(await res.text()).toBe(EXPECTED_CSV);
    const request = fromBinary(ExportReportRequestSchema, seen[0]!.request);
    expect(request.report).toMatchObject({ case: "inventoryStatus", value: { warehouseId: "w1" } });
    expect(request.maxRows).toBe(10);
  });

  it("is the raw bytes of a GET-bound stream, with the first message's content type and no disposition without a DownloadStart", async () => {
    const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]), Buffer.alloc(0), Buffer.from([0xfe, 0x01])];
    serveStream = (call) => send(call, [{ contentType: "image/png", data: parts[0] }, { data: parts[1] }, { data: parts[2] }]);
    const res = await fetch(`${edge.url}/v1/files/logo.png`, { headers: CREDENTIALS });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("content-disposition")).toBeNull();
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.concat(parts));
  });

  it("is application/octet-stream and empty for a stream without messages", async () => {
    serveStream = async (call) => void call.end();
    const res = await fetch(`${edge.url}/v1/files/none`, { headers: CREDENTIALS });
    expect([res.status, res.headers.get("content-type"), await res.text()]).toEqual([200, "application/octet-stream", ""]);
  });

  it("names a file that is not plain ASCII in the RFC 5987 form as well", async () => {
    const start = create(DownloadStartSchema, { filename: 'Bestand "Ärger" ✓.csv', totalRows: 0n });
    serveStream = (call) => send(call, [{ contentType: "text/csv", data: Buffer.from("a\r\n"), extensions: [anyPack(DownloadStartSchema, start)] }]);
    const res = await fetch(`${edge.url}/v1/files/x`, { headers: CREDENTIALS });
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="Bestand __rger_ _.csv"; filename*=UTF-8''Bestand%20%22%C3%84rger%22%20%E2%9C%93.csv`,
    );
    expect(res.headers.get("x-total-rows")).toBe("0");
    expect(res.headers.get("x-generate-time")).toBeNull();
  });

  it("keeps the status and error body of an error before the first message", async () => {
    serveStream = async (call) => {
      call.emit("error", toStatus(new FailedPrecondition("the export has 1500000 rows, more than max_rows 1000000", [], "EXPORT_TOO_LARGE")));
    };
    const res = await fetch(`${edge.url}/v1/reports:export`, {
      method: "POST",
      headers: { ...CREDENTIALS, "content-type": "application/json" },
      body: JSON.stringify({ inventoryStatus: {} }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBeNull();
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: "FAILED_PRECONDITION", message: "the export has 1500000 rows, more than max_rows 1000000" });
  });

  it("is cut off, not ended cleanly, by an error after the first message, and the error is logged", async () => {
    const info = vi.spyOn(log, "info");
    serveStream = async (call) => {
      await send(call, [{ contentType: "text/csv", data: Buffer.from("a,b\r\n") }, { data: Buffer.from("1,2\r\n") }], false);
      await new Promise((resolve) => setTimeout(resolve, 50)); // the edge has written both
      call.emit("error", { code: status.INTERNAL, details: "the database went away" } satisfies Partial<StatusObject>);
    };
    const { response } = open("GET", "/v1/files/broken");
    const res = await response;
    expect(res.statusCode).toBe(200);
    const got = await readAll(res);
    expect(["a,b\r\n", "a,b\r\n1,2\r\n"]).toContain(got.bytes.toString()); // what arrived before the error, never more
    expect(got.complete).toBe(false); // no terminating chunk: the client knows the file is incomplete
    expect(got.failed).toBe(true);
    await expect(fetch(`${edge.url}/v1/files/broken`, { headers: CREDENTIALS }).then((r) => r.text())).rejects.toThrow(/terminated/);
    expect(
      info.mock.calls.some(([fields, message]) => message === "http request failed mid-answer" && JSON.stringify(fields).includes("database went away")),
    ).toBe(true);
  });

  it("reads no further ahead of a slow client than the buffers on the way hold, and delivers everything once it reads", async () => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    const total = 1024; // 64 MiB
    serveStream = (call) =>
      send(
        call,
        (function* () {
          yield { contentType: "application/octet-stream", data: chunk };
          for (let i = 1; i < total; i++) yield { data: chunk };
        })(),
      );
    const { response } = open("GET", "/v1/files/big");
    const res = await response; // not read yet: paused
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const sentWhilePaused = seen[0]!.sent;
    expect(sentWhilePaused).toBeLessThan(16 * 1024 * 1024); // socket buffers and gRPC windows (~5 MiB here), not all 64 MiB
    const hash = createHash("sha256");
    let bytes = 0;
    for await (const piece of res) {
      bytes += (piece as Buffer).length;
      hash.update(piece as Buffer);
    }
    expect(bytes).toBe(total * chunk.length);
    expect(res.complete).toBe(true);
    expect(hash.digest("hex")).toBe(
      createHash("sha256")
        .update(Buffer.concat(Array.from({ length: total }, () => chunk)))
        .digest("hex"),
    );
  });

  it("cancels the upstream call when the client goes away", async () => {
    serveStream = async (call) => {
      await send(
        call,
        (function* () {
          yield { contentType: "application/octet-stream", data: Buffer.alloc(1024) };
          while (!call.cancelled) yield { data: Buffer.alloc(64 * 1024) }; // endless
        })(),
      );
    };
    const { req, response } = open("GET", "/v1/files/endless");
    const res = await response;
    await once(res, "data");
    req.destroy();
    await waitFor(() => seen[0]?.cancelled === true);
  });
});

describe("a unary google.api.HttpBody over REST", () => {
  it("is the raw bytes with their content type and length", async () => {
    serveUnary = (_call, done) => done(null, encode({ contentType: "text/plain; charset=utf-8", data: Buffer.from("héllo") }));
    const res = await fetch(`${edge.url}/v1/files/greeting:raw`, { headers: CREDENTIALS });
    expect([res.status, res.headers.get("content-type"), res.headers.get("content-length"), await res.text()]).toEqual([
      200,
      "text/plain; charset=utf-8",
      "6",
      "héllo",
    ]);
  });
});

describe("HttpBody streams over Connect and gRPC-Web", () => {
  for (const [name, transport] of [
    ["Connect", () => createConnectTransport({ baseUrl: edge.url, httpVersion: "1.1" })],
    ["gRPC-Web", () => createGrpcWebTransport({ baseUrl: edge.url, httpVersion: "1.1" })],
  ] as const) {
    it(`passes every message through as it is (${name})`, async () => {
      serveStream = (call) => send(call, exportMessages());
      const client = createClient(ReportService, transport());
      const messages = [];
      for await (const m of client.exportReport({ report: { case: "inventoryStatus", value: {} } }, { headers: CREDENTIALS })) messages.push(m);
      const expected = [];
      for await (const m of exportMessages()) expected.push(create(HttpBodySchema, m));
      expect(messages.length).toBe(expected.length);
      expect(messages.map((m) => Buffer.from(m.data).toString()).join("")).toBe(EXPECTED_CSV);
      expect(messages[0]!.contentType).toBe("text/csv; charset=utf-8");
      const start = anyUnpack(messages[0]!.extensions[0]!, DownloadStartSchema)!;
      expect([start.filename, start.totalRows, timestampDate(start.generateTime!).toISOString()]).toEqual([
        "inventory-status-20261126T103000Z.csv",
        3n,
        at.toISOString(),
      ]);
      expect(messages.map((m) => toBinary(HttpBodySchema, m))).toEqual(expected.map((m) => toBinary(HttpBodySchema, m)));
    });
  }
});

describe("contentDisposition", () => {
  it("quotes a plain name, and adds filename* for anything else", () => {
    expect(contentDisposition("report-20261126T103000Z.csv")).toBe('attachment; filename="report-20261126T103000Z.csv"');
    expect(contentDisposition("日本.csv")).toBe(`attachment; filename="__.csv"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.csv`);
    expect(contentDisposition("a\\b'(1)*😀.csv")).toBe(`attachment; filename="a_b'(1)*_.csv"; filename*=UTF-8''a%5Cb%27%281%29%2A%F0%9F%98%80.csv`);
    expect(contentDisposition("line\r\nbreak")).toBe(`attachment; filename="line__break"; filename*=UTF-8''line%0D%0Abreak`);
    expect(contentDisposition("")).toBe("attachment");
  });
});

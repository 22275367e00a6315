import type { IncomingMessage, ServerResponse } from "node:http";
import type { DescMessage, DescMethod, Message } from "@bufbuild/protobuf";
import { anyUnpack, timestampDate } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import { DownloadStartSchema } from "@inv/gen/common/v1/download_pb";
import type { HttpBody } from "@inv/gen/google/api/httpbody_pb";
import { EdgeError } from "./http-errors.js";
import { assertJsonMediaType } from "./media-type.js";
import { TranscodeError, buildRequest, parseJsonBody, renderResponse, type HttpBinding } from "./transcode/index.js";
import type { ForwardContext, Upstreams } from "./upstream.js";

export const MAX_BODY_BYTES = 1024 * 1024;

/** What a matched REST request needs: the method, its rule and the path variables. */
export interface RestCall {
  method: DescMethod;
  rule: HttpBinding;
  pathVars: Record<string, string>;
  query: URLSearchParams;
}

/**
 * Serves one REST call: JSON body → input message (per the google.api.http rule) → upstream
 * gRPC call → output message → JSON. Server-streaming methods answer newline-delimited JSON;
 * methods answering google.api.HttpBody answer its bytes as they are (see sendDownload).
 * Errors are thrown as DomainErrors for the caller to render.
 */
export async function serveRest(req: IncomingMessage, res: ServerResponse, call: RestCall, upstreams: Upstreams, ctx: ForwardContext) {
  // HTTP/1.1 framing: with neither header there is no body. Iterating the empty stream anyway
  // (an async iterator, its listeners and promises) was a measurable part of every GET, and so
  // is awaiting a function that has nothing to read.
  const body = hasBody(req) ? await readJsonBody(req, call.rule.body) : undefined;
  let request: Message;
  try {
    request = buildRequest(call.method, call.rule, call.pathVars, call.query, body);
  } catch (err) {
    throw asEdgeError(err);
  }
  if (call.method.methodKind === "server_streaming") {
    const stream = upstreams.serverStream(call.method, request, ctx)[Symbol.asyncIterator]();
    const first = await stream.next(); // errors before the first message still get a proper status
    if (isHttpBody(call.method.output)) return sendDownload(res, stream, first);
    res.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8" });
    for (let next = first; !next.done; next = await stream.next()) {
      res.write(`${JSON.stringify(renderResponse(call.method, call.rule, next.value))}\n`);
    }
    res.end();
    return;
  }
  const response = await upstreams.unary(call.method, request, ctx);
  if (isHttpBody(call.method.output)) {
    const { data } = response as HttpBody;
    res.writeHead(200, { ...downloadHeaders(response as HttpBody), "content-length": data.length });
    res.end(data);
    return;
  }
  const json = JSON.stringify(renderResponse(call.method, call.rule, response));
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json) });
  res.end(json);
}

/** google.api.HttpBody: a method that answers it is a download over REST, its bytes sent as they are. */
export const isHttpBody = (message: DescMessage) => message.typeName === "google.api.HttpBody";

/** The response headers of a download besides Content-Type, from the DownloadStart of its first message (CORS exposes them). */
export const DOWNLOAD_HEADERS = ["content-disposition", "x-total-rows", "x-generate-time"] as const;

/**
 * A server stream of google.api.HttpBody as one HTTP response: 200 with the first message's
 * content type (and, from a common.v1.DownloadStart in its extensions, Content-Disposition,
 * X-Total-Rows and X-Generate-Time), then each message's data as it arrives, no faster than the
 * client reads: a write the socket cannot take yet waits for 'drain' before the next message is
 * pulled from the upstream stream, which gRPC's flow control then slows down in turn. A client
 * that goes away stops the upstream call. An upstream error after the status line cannot change
 * it: the response is cut off (socket destroyed, no final chunk) so the client sees a truncated
 * download, never a complete-looking file, and the error is thrown on for the caller to log.
 */
async function sendDownload(res: ServerResponse, stream: AsyncIterator<unknown>, first: IteratorResult<unknown>) {
  res.writeHead(200, first.done ? { "content-type": OCTET_STREAM } : downloadHeaders(first.value as HttpBody));
  const gone = () => res.destroyed || (res.closed && !res.writableFinished);
  let next = first;
  try {
    while (!next.done) {
      const { data } = next.value as HttpBody;
      if (data.length > 0 && !res.write(data)) await drained(res);
      if (gone()) break;
      next = await stream.next();
    }
  } catch (err) {
    if (gone()) return; // the client left first: its cancel is what failed the upstream call
    res.destroy();
    throw err;
  }
  if (gone()) {
    await stream.return?.(); // cancels the upstream call
    return;
  }
  res.end();
}

const OCTET_STREAM = "application/octet-stream";

/** Resolves once the response takes writes again, or is closed. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** Content-Type and, when the message carries a DownloadStart, the DOWNLOAD_HEADERS. */
function downloadHeaders(body: HttpBody): Record<string, string> {
  const headers: Record<string, string> = { "content-type": HEADER_VALUE.test(body.contentType) ? body.contentType : OCTET_STREAM };
  const start = body.extensions.map((any) => anyUnpack(any, DownloadStartSchema)).find((m) => m !== undefined);
  if (start === undefined) return headers;
  headers["content-disposition"] = contentDisposition(start.filename);
  headers["x-total-rows"] = String(start.totalRows);
  if (start.generateTime) headers["x-generate-time"] = timestampDate(start.generateTime).toISOString();
  return headers;
}

/** Printable ASCII only: what a header value may hold without Node refusing it. */
const HEADER_VALUE = /^[\x20-\x7e]+$/;

/**
 * `attachment; filename="…"` (RFC 6266) with the name in printable ASCII, `"` and `\\` replaced
 * by "_", and, when that changed the name (non-ASCII, quotes), the exact name in the RFC 5987
 * form as well: `filename*=UTF-8''<percent-encoded>`, which browsers prefer.
 */
export function contentDisposition(filename: string): string {
  if (filename === "") return "attachment";
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/gu, "_");
  const plain = `attachment; filename="${ascii}"`;
  if (ascii === filename) return plain;
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${plain}; filename*=UTF-8''${encoded}`;
}

const hasBody = (req: IncomingMessage) => req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;

/** The request body as parsed JSON, or undefined when it is empty. */
async function readJsonBody(req: IncomingMessage, bodyField: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new EdgeError(status.INVALID_ARGUMENT, `request body is larger than ${MAX_BODY_BYTES} bytes`, { field: "body", constraint: "max_size" }, 413);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  assertJsonMediaType(req.headers["content-type"]);
  try {
    return parseJsonBody(Buffer.concat(chunks), bodyField);
  } catch (err) {
    throw asEdgeError(err);
  }
}

function asEdgeError(err: unknown): unknown {
  if (!(err instanceof TranscodeError)) return err;
  const violations = err.faults.map((f) => ({
    field: f.field ?? "body",
    ...(f.value === undefined ? {} : { value: f.value }),
    constraint: f.constraint,
    description: f.message,
  }));
  return new EdgeError(status.INVALID_ARGUMENT, err.message, violations);
}

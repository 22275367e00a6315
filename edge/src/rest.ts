import type { IncomingMessage, ServerResponse } from "node:http";
import type { DescMethod, Message } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
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
 * gRPC call → output message → JSON. Server-streaming methods answer newline-delimited JSON.
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
    res.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8" });
    for (let next = first; !next.done; next = await stream.next()) {
      res.write(`${JSON.stringify(renderResponse(call.method, call.rule, next.value))}\n`);
    }
    res.end();
    return;
  }
  const response = await upstreams.unary(call.method, request, ctx);
  const json = JSON.stringify(renderResponse(call.method, call.rule, response));
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json) });
  res.end(json);
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

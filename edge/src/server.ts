import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { DescService } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { status } from "@grpc/grpc-js";
import type { DomainError, Logger } from "@inv/platform";
import { connectRoutes } from "./connect-routes.js";
import { serveDocs } from "./docs.js";
import { applyCors, type CorsPolicy } from "./cors.js";
import { EdgeError, asDomainError, errorBody, httpStatusOf } from "./http-errors.js";
import { serveRest } from "./rest.js";
import { buildRouteTable } from "./transcode/index.js";
import type { Upstreams } from "./upstream.js";

export interface EdgeHandlerOptions {
  services: readonly DescService[];
  upstreams: Upstreams;
  log: Logger;
  cors: CorsPolicy;
  /** The OpenAPI document served at /openapi.json. */
  openapi: unknown;
  /** Readiness of the upstream services, for /readyz. */
  readiness: () => Promise<Record<string, string>>;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const RPC_PATH = /^\/[a-z][\w.]*\.[A-Z]\w*\/[A-Z]\w*$/;

/**
 * The edge's one request handler: request id and CORS for everything, then health and the
 * OpenAPI document, REST routes transcoded from the protos, and Connect / gRPC-Web on the
 * RPC paths. It holds no business logic: every call is forwarded to a gRPC service.
 */
export function createEdgeHandler(opts: EdgeHandlerOptions) {
  const routes = buildRouteTable(opts.services);
  const openapiJson = JSON.stringify(opts.openapi);
  const notFound = (req: IncomingMessage, res: ServerResponse) =>
    sendError(res, req.headers["x-request-id"] as string, new EdgeError(status.NOT_FOUND, `no route for ${req.method} ${pathOf(req)}`));
  const connect = connectNodeAdapter({
    routes: connectRoutes(opts.services, opts.upstreams),
    fallback: (req, res) => notFound(req as IncomingMessage, res as ServerResponse),
  });

  return async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const given = req.headers["x-request-id"];
    const requestId = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    req.headers["x-request-id"] = requestId;
    res.setHeader("x-request-id", requestId);
    res.on("finish", () =>
      opts.log.info({ requestId, method: req.method, path: pathOf(req), status: res.statusCode, durationMs: Math.round(performance.now() - started) }, "http request"),
    );
    if (applyCors(req, res, opts.cors) === "preflight-answered") return;

    const url = new URL(req.url ?? "/", "http://edge");
    try {
      if (req.method === "GET" && url.pathname === "/healthz") return sendJson(res, 200, { status: "ok" });
      if (req.method === "GET" && url.pathname === "/readyz") {
        const services = await opts.readiness();
        const ready = Object.values(services).every((s) => s === "SERVING");
        return sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready", services });
      }
      if (req.method === "GET" && url.pathname === "/openapi.json") {
        res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
        return void res.end(openapiJson);
      }
      if (req.method === "GET" && url.pathname.startsWith("/docs") && (await serveDocs(url.pathname, res))) return;
      const match = routes.match(req.method ?? "GET", url.pathname);
      if (match.kind === "match") {
        const controller = new AbortController();
        res.on("close", () => res.writableFinished || controller.abort());
        return await serveRest(req, res, { ...match, query: url.searchParams }, opts.upstreams, {
          requestId,
          headers: headersOf(req),
          signal: controller.signal,
        });
      }
      if (match.kind === "methodNotAllowed") {
        res.setHeader("allow", match.allow.join(", "));
        const message = `${req.method} is not allowed on ${url.pathname}; use ${match.allow.join(", ")}`;
        return sendError(res, requestId, new EdgeError(status.INVALID_ARGUMENT, message, undefined, 405));
      }
      if (RPC_PATH.test(url.pathname)) return connect(req, res);
      return notFound(req, res);
    } catch (err) {
      const { error, unexpected } = asDomainError(err, requestId);
      if (unexpected) opts.log.error({ err, requestId }, "unexpected error at the edge");
      if (res.headersSent) return void res.end(`${JSON.stringify(errorBody(error.code, error.message, error.violation, requestId))}\n`);
      // A request refused before its body was read (413, 415) leaves the rest of it on the socket.
      if (!req.complete) res.setHeader("connection", "close");
      sendError(res, requestId, error);
    }
  };
}

export function startHttpServer(handler: ReturnType<typeof createEdgeHandler>, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => void handler(req, res));
  server.keepAliveTimeout = 65_000; // longer than a load balancer's idle timeout
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

function sendError(res: ServerResponse, requestId: string, error: DomainError) {
  sendJson(res, httpStatusOf(error), errorBody(error.code, error.message, error.violation, requestId));
}

function sendJson(res: ServerResponse, httpStatus: number, body: unknown) {
  const json = JSON.stringify(body);
  res.writeHead(httpStatus, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json) });
  res.end(json);
}

const pathOf = (req: IncomingMessage) => (req.url ?? "/").split("?")[0];

function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers.set(name, value);
  }
  return headers;
}

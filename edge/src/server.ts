import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { createContextKey, createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { status } from "@grpc/grpc-js";
import { PUBLIC, requiredPermission, type DomainError, type Logger } from "@inv/platform";
import { connectRoutes, toConnectError } from "./connect-routes.js";
import { serveDocs } from "./docs.js";
import { clientAddress, forwardedUserAgent } from "./client.js";
import { applyCors, type CorsPolicy } from "./cors.js";
import { EdgeError, asDomainError, errorBody, httpStatusOf, setErrorHeaders } from "./http-errors.js";
import { apiKeyIdentity, NO_IDENTITY, type Identify, type Identity, type RateLimits } from "./rate-limit.js";
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
  /** The rate limits every request but health checks passes; none when undefined. */
  rateLimits?: RateLimits | undefined;
  /** Names the caller for the per-user and per-API-key limits; apiKeyIdentity() when undefined. */
  identify?: Identify | undefined;
  /** How many proxies in front of the edge append to X-Forwarded-For (see clientAddress); 0 when undefined. */
  trustProxyHops?: number | undefined;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * The level of a request's access line. A line for every successful call, at the default
 * level, took about 10% of the edge's CPU under load (bench/README.md): those are debug, and
 * failures, which someone will look for, stay visible at info and above.
 */
const accessLogLevel = (httpStatus: number) => (httpStatus >= 500 ? "warn" : httpStatus >= 400 ? "info" : "debug");
const MOST_SEVERE_ACCESS_LEVEL = "warn";
const REFUSAL = createContextKey<DomainError | undefined>(undefined, { description: "the edge's own refusal of the call" });
const RPC_PATH = /^\/[a-z][\w.]*\.[A-Z]\w*\/[A-Z]\w*$/;

/**
 * The edge's one request handler: request id and CORS for everything, then health and the
 * OpenAPI document, REST routes transcoded from the protos, and Connect / gRPC-Web on the
 * RPC paths. It holds no business logic: every call is forwarded to a gRPC service.
 */
export function createEdgeHandler(opts: EdgeHandlerOptions) {
  const routes = buildRouteTable(opts.services);
  const rpcMethods = new Map<string, DescMethod>(
    opts.services.flatMap((service) => service.methods.map((m) => [`/${service.typeName}/${m.name}`, m] as const)),
  );
  const { rateLimits } = opts;
  const identify = opts.identify ?? apiKeyIdentity();
  const trustProxyHops = opts.trustProxyHops ?? 0;
  const openapiJson = JSON.stringify(opts.openapi);
  const notFound = (req: IncomingMessage, res: ServerResponse) =>
    sendError(res, req.headers["x-request-id"] as string, new EdgeError(status.NOT_FOUND, `no route for ${req.method} ${pathOf(req)}`));
  // A Connect or gRPC-Web call the edge refuses itself (rate limit, no credentials) is answered
  // in that protocol, by connect-es, from inside its router: the refusal rides in on the call's
  // context values and an interceptor throws it before the call is forwarded.
  const refusals = new WeakMap<IncomingMessage, DomainError>();
  const connect = connectNodeAdapter({
    routes: connectRoutes(opts.services, opts.upstreams, opts.log),
    fallback: (req, res) => notFound(req as IncomingMessage, res as ServerResponse),
    contextValues: (req) => {
      const values = createContextValues();
      const refusal = refusals.get(req as IncomingMessage);
      if (refusal) values.set(REFUSAL, refusal);
      return values;
    },
    interceptors: [
      (next) => (call) => {
        const refusal = call.contextValues.get(REFUSAL);
        if (refusal) throw toConnectError(refusal, call.header.get("x-request-id") ?? "", opts.log);
        return next(call);
      },
    ],
  });
  /** Refuses a request in its own protocol: Connect and gRPC-Web on RPC paths, the error body elsewhere. */
  const refuse = (req: IncomingMessage, res: ServerResponse, requestId: string, refusal: DomainError) => {
    if (!RPC_PATH.test(pathOf(req) ?? "")) return sendError(res, requestId, refusal);
    setErrorHeaders(res, refusal, httpStatusOf(refusal));
    refusals.set(req, refusal);
    return connect(req, res);
  };

  return async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const given = req.headers["x-request-id"];
    const requestId = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    req.headers["x-request-id"] = requestId;
    res.setHeader("x-request-id", requestId);
    // The access line: for every request at debug; otherwise only for what may fail, registered
    // on the way to an error answer or to Connect (which answers its errors itself). A REST call
    // that succeeds at the default level pays for no listener.
    // (Module-level helpers, not closures: a closure made per request costs even when unused.)
    const logsEverything = opts.log.isLevelEnabled("debug");
    if (logsEverything) logWhenDone(opts.log, req, res, requestId, started);
    if (applyCors(req, res, opts.cors) === "preflight-answered") return;

    try {
      const url = splitTarget(req.url ?? "/");
      if (req.method === "GET" && url.pathname === "/healthz") return sendJson(res, 200, { status: "ok" });
      if (req.method === "GET" && url.pathname === "/readyz") {
        const services = await opts.readiness();
        const ready = Object.values(services).every((s) => s === "SERVING");
        return sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready", services });
      }
      // Who the client is, for the services and the rate limits; never what the client claims.
      const address = clientAddress(req, trustProxyHops);
      req.headers["x-client-ip"] = address;
      req.headers["x-client-user-agent"] = forwardedUserAgent(req.headers["user-agent"]);
      const found = callerOf(req, identify);
      // Awaited only when it is a promise: a cached or absent identity costs no microtask.
      const caller = found instanceof Promise ? await found : found;
      if (rateLimits !== undefined) {
        const refused = await rateLimits.admit(address, caller, res);
        if (refused !== undefined) {
          if (!logsEverything) logWhenDone(opts.log, req, res, requestId, started);
          return refuse(req, res, requestId, refused);
        }
      }
      if (req.method === "GET" && url.pathname === "/openapi.json") {
        res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
        return void res.end(openapiJson);
      }
      if (req.method === "GET" && url.pathname.startsWith("/docs") && (await serveDocs(url.pathname, res))) return;
      const match = routes.match(req.method ?? "GET", url.pathname);
      if (match.kind === "match") {
        const unauthenticated = refuseUnauthenticated(req, match.method, caller);
        if (unauthenticated) return fail(opts.log, req, res, requestId, started, logsEverything, unauthenticated);
        return await serveRest(req, res, { ...match, query: url.searchParams() }, opts.upstreams, {
          requestId,
          headers: new RequestHeaders(req),
          // A client that goes away before its answer cancels the upstream call.
          cancelWith: (cancel) => res.once("close", () => res.writableFinished || cancel()),
        });
      }
      if (match.kind === "methodNotAllowed") {
        res.setHeader("allow", match.allow.join(", "));
        const message = `${req.method} is not allowed on ${url.pathname}; use ${match.allow.join(", ")}`;
        return fail(opts.log, req, res, requestId, started, logsEverything, new EdgeError(status.INVALID_ARGUMENT, message, undefined, 405));
      }
      if (RPC_PATH.test(url.pathname)) {
        if (!logsEverything) logWhenDone(opts.log, req, res, requestId, started);
        const method = rpcMethods.get(url.pathname);
        const unauthenticated = method && refuseUnauthenticated(req, method, caller);
        if (unauthenticated) return refuse(req, res, requestId, unauthenticated);
        return connect(req, res);
      }
      return fail(opts.log, req, res, requestId, started, logsEverything, new EdgeError(status.NOT_FOUND, `no route for ${req.method} ${url.pathname}`));
    } catch (err) {
      const { error, unexpected } = asDomainError(err, requestId);
      if (unexpected) opts.log.error({ err, requestId }, "unexpected error at the edge");
      if (res.headersSent) {
        // A stream that failed after its first answer: the status line already said 200.
        if (!logsEverything) opts.log.info({ requestId, method: req.method, path: pathOf(req), error: error.message }, "http request failed mid-answer");
        return void res.end(`${JSON.stringify(errorBody(error, requestId))}\n`);
      }
      // A request refused before its body was read (413, 415) leaves the rest of it on the socket.
      if (!req.complete) res.setHeader("connection", "close");
      fail(opts.log, req, res, requestId, started, logsEverything, error);
    }
  };
}

export function startHttpServer(handler: ReturnType<typeof createEdgeHandler>, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    // The handler answers every error itself; this only keeps a fault in that path from
    // becoming an unhandled rejection that would take the whole edge down.
    handler(req, res).catch(() => res.destroy());
  });
  server.on("clientError", answerMalformedRequest);
  server.keepAliveTimeout = 65_000; // longer than a load balancer's idle timeout
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * Requests Node's HTTP parser refuses (bad framing, oversized headers) never reach the handler;
 * they still get the error body, then the connection closes.
 */
function answerMalformedRequest(err: NodeJS.ErrnoException, socket: Duplex) {
  if (!socket.writable) return void socket.destroy();
  const tooLarge = err.code === "HPE_HEADER_OVERFLOW";
  const error = new EdgeError(
    status.INVALID_ARGUMENT,
    tooLarge ? "the request headers are too large" : "the request is not valid HTTP/1.1",
    undefined,
    tooLarge ? 431 : 400,
  );
  const json = JSON.stringify(errorBody(error, randomUUID()));
  const head = `HTTP/1.1 ${tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request"}`;
  socket.end(`${head}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(json)}\r\nconnection: close\r\n\r\n${json}`);
}

/** The access line of this request, once it is answered. */
function logWhenDone(log: Logger, req: IncomingMessage, res: ServerResponse, requestId: string, started: number) {
  if (log.isLevelEnabled(MOST_SEVERE_ACCESS_LEVEL)) res.once("finish", () => logAccess(log, req, res, requestId, started));
}

/** Answers with the error body, and logs the request (unless every request is logged anyway). */
function fail(log: Logger, req: IncomingMessage, res: ServerResponse, requestId: string, started: number, logsEverything: boolean, error: DomainError) {
  if (!logsEverything) logWhenDone(log, req, res, requestId, started);
  sendError(res, requestId, error);
}

/** One line per answered request, at a level that follows its status (see accessLogLevel). */
function logAccess(log: Logger, req: IncomingMessage, res: ServerResponse, requestId: string, started: number) {
  const level = accessLogLevel(res.statusCode);
  if (!log.isLevelEnabled(level)) return;
  log[level]({ requestId, method: req.method, path: pathOf(req), status: res.statusCode, durationMs: Math.round(performance.now() - started) }, "http request");
}

function sendError(res: ServerResponse, requestId: string, error: DomainError) {
  const httpStatus = httpStatusOf(error);
  setErrorHeaders(res, error, httpStatus);
  sendJson(res, httpStatus, errorBody(error, requestId));
}

/**
 * Credentials are checked before the request is: a call that needs them and brings none, or
 * brings an access token whose signature or expiry is wrong, is 401 before its body is read (the
 * services would refuse it the same way; they still decide everything else, revocation and
 * rights included). API keys are opaque here, so only the services judge them.
 */
function refuseUnauthenticated(req: IncomingMessage, method: DescMethod, caller: Identity): EdgeError | undefined {
  if (requiredPermission(method) === PUBLIC) return undefined;
  if (caller.invalid)
    return new EdgeError(status.UNAUTHENTICATED, "the access token is not valid: expired, revoked or malformed", undefined, 401, "INVALID_CREDENTIALS");
  if (req.headers.authorization === undefined && req.headers["x-api-key"] === undefined)
    return new EdgeError(
      status.UNAUTHENTICATED,
      `/${method.parent.typeName}/${method.name} needs credentials: an access token or an API key`,
      undefined,
      401,
      "CREDENTIALS_REQUIRED",
    );
  return undefined;
}

/** The caller a request's credentials name; identify is not asked when it carries none. */
function callerOf(req: IncomingMessage, identify: Identify): Identity | Promise<Identity> {
  const authorization = headerOf(req, "authorization");
  const apiKey = headerOf(req, "x-api-key");
  return authorization === undefined && apiKey === undefined ? NO_IDENTITY : identify({ authorization, apiKey });
}

function sendJson(res: ServerResponse, httpStatus: number, body: unknown) {
  const json = JSON.stringify(body);
  res.writeHead(httpStatus, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json) });
  res.end(json);
}

const pathOf = (req: IncomingMessage) => (req.url ?? "/").split("?")[0];

/**
 * The path and query of a request target. Origin-form ("/v1/x?y=1"), which is what clients
 * send, is split by hand: a WHATWG URL per request is measurable at the edge's request rates.
 */
function splitTarget(target: string): { pathname: string; searchParams: () => URLSearchParams } {
  if (!target.startsWith("/")) {
    // Absolute-form ("http://host/x"); "//x" stays a path above, where a URL would read a host.
    const url = URL.canParse(target) ? new URL(target) : undefined;
    if (url === undefined) throw new EdgeError(status.INVALID_ARGUMENT, "the request target is neither a path nor a URL");
    return { pathname: url.pathname, searchParams: () => url.searchParams };
  }
  const q = target.indexOf("?");
  const pathname = q < 0 ? target : target.slice(0, q);
  // Most requests have no query: they share one empty URLSearchParams, which nothing changes.
  return { pathname, searchParams: () => (q < 0 || q === target.length - 1 ? NO_QUERY : queryOf(target.slice(q + 1))) };
}

const NO_QUERY = new URLSearchParams();

/**
 * URLSearchParams turns broken percent-encoding ("%ff%fe") into U+FFFD without a word, so a
 * query that is not UTF-8 is refused here instead of reaching a service as something else.
 */
function queryOf(raw: string): URLSearchParams {
  if (raw.includes("%")) {
    try {
      decodeURIComponent(raw.replaceAll("+", " "));
    } catch {
      throw new EdgeError(status.INVALID_ARGUMENT, "the query string is not valid percent-encoded UTF-8", {
        field: "query",
        constraint: "encoding",
      });
    }
  }
  return new URLSearchParams(raw);
}

/** One request header as forwarded upstream: node joins repeated ones, and a list is not forwarded. */
/** The request's headers as the upstream reads them (a class, not a closure made per request). */
class RequestHeaders {
  constructor(private readonly req: IncomingMessage) {}
  get(name: string): string | undefined {
    return headerOf(this.req, name);
  }
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value : undefined;
}

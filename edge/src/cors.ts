import type { IncomingMessage, ServerResponse } from "node:http";
import { DOWNLOAD_HEADERS } from "./rest.js";

export interface CorsPolicy {
  /** Allowed origins; "*" allows any. */
  origins: readonly string[];
}

const ALLOW_HEADERS = [
  "authorization",
  "content-type",
  "x-api-key",
  "x-request-id",
  "connect-protocol-version",
  "connect-timeout-ms",
  "grpc-timeout",
  "x-grpc-web",
  "x-user-agent",
].join(", ");
const EXPOSE_HEADERS = ["x-request-id", "retry-after", "grpc-status", "grpc-message", "grpc-status-details-bin", ...DOWNLOAD_HEADERS].join(", ");

/**
 * Sets CORS headers for browser clients (REST, Connect and gRPC-Web alike) and answers
 * preflight requests itself.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, policy: CorsPolicy): "preflight-answered" | "continue" {
  const origin = req.headers.origin;
  if (!origin) return "continue";
  const anyOrigin = policy.origins.includes("*");
  if (!anyOrigin && !policy.origins.includes(origin)) return "continue";
  res.setHeader("access-control-allow-origin", anyOrigin ? "*" : origin);
  if (!anyOrigin) res.setHeader("vary", "Origin");
  res.setHeader("access-control-expose-headers", EXPOSE_HEADERS);
  if (req.method !== "OPTIONS" || !req.headers["access-control-request-method"]) return "continue";
  res.writeHead(204, {
    "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "access-control-allow-headers": ALLOW_HEADERS,
    "access-control-max-age": "7200",
  });
  res.end();
  return "preflight-answered";
}

import { existsSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import { fileURLToPath } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import { Health, HealthCheckResponse_ServingStatus } from "@inv/gen/grpc/health/v1/health_pb";
import { UserService } from "@inv/gen/user/v1/user_pb";
import { AccessTokenVerifier, ServiceIdentity, createGrpcClient, remoteJwks, type Logger } from "@inv/platform";
import { verifiedIdentity } from "./identity.js";
import { buildOpenApi, commentsFromDescriptorSet } from "./openapi/openapi.js";
import { DEFAULT_RATE_LIMITS, RateLimits, apiKeyIdentity, type Identify, type RateLimitSettings } from "./rate-limit.js";
import { createEdgeHandler, startHttpServer } from "./server.js";
import { Upstreams } from "./upstream.js";

export { verifiedIdentity } from "./identity.js";
export { createEdgeHandler, startHttpServer } from "./server.js";
export type { Upstreams } from "./upstream.js";
export {
  apiKeyIdentity,
  DEFAULT_RATE_LIMITS,
  RateLimits,
  type Credentials,
  type Identify,
  type Identity,
  type Limit,
  type RateLimitSettings,
} from "./rate-limit.js";

export interface EdgeSettings {
  port: number;
  host: string;
  services: readonly DescService[];
  /** gRPC target of the process serving a service, e.g. "dns:///warehouse:50051". */
  targetOf: (service: DescService) => string;
  /** Name of the process serving a service, e.g. "warehouse": the audience of the edge's service tokens. */
  processOf: (service: DescService) => string;
  /** Every process name, so the edge has a service token for each. */
  processNames: readonly string[];
  /** SERVICE_SECRET: signs the edge's service identity. */
  serviceSecret: string;
  log: Logger;
  corsOrigins: readonly string[];
  upstreamDeadlineMs: number;
  /** Requests per address, user and API key, in Redis when it names one; DEFAULT_RATE_LIMITS in process when undefined. */
  rateLimits?: RateLimitSettings | undefined;
  /** Names the caller for the per-user and per-API-key limits; verified access tokens and API keys when undefined. */
  identify?: Identify | undefined;
  /** Proxies in front of the edge that append to X-Forwarded-For; 0 (none) when undefined. */
  trustProxyHops?: number | undefined;
}

export interface RunningEdge {
  readonly url: string;
  readonly server: Server;
  stop(): Promise<void>;
}

// buf build writes the descriptors with their comments here at generate time (see gen/package.json).
const DESCRIPTOR_SET = fileURLToPath(import.meta.resolve("@inv/gen/descriptors.binpb"));

export function openApiDocument(services: readonly DescService[]) {
  const comments = existsSync(DESCRIPTOR_SET) ? commentsFromDescriptorSet(readFileSync(DESCRIPTOR_SET)) : undefined;
  return buildOpenApi(
    services,
    {
      title: "Inventory Platform API",
      version: "v1",
      description:
        "Warehouses, stock, reservations and users. Errors share one body (the Error schema): {error: {code, message, details, violations, timestamp, request_id}}.",
    },
    comments,
  );
}

/** Starts the HTTP edge in front of the given gRPC services. */
export async function startEdge(settings: EdgeSettings): Promise<RunningEdge> {
  const identity = await ServiceIdentity.start("edge", settings.serviceSecret, settings.processNames);
  const upstreams = new Upstreams(settings.services, settings.targetOf, settings.upstreamDeadlineMs, {
    token: (service) => identity.tokenFor(settings.processOf(service)),
  });
  // Access tokens are verified against the user service's keys, when the edge routes to it.
  const routesUsers = settings.services.some((service) => service.typeName === UserService.typeName);
  const tokens = routesUsers ? new AccessTokenVerifier({ jwks: remoteJwks(upstreams.channel(UserService)) }) : undefined;
  const readiness = async () => {
    const checks = settings.services.map(async (service) => {
      try {
        const res = await createGrpcClient(Health, upstreams.channel(service)).check({ service: service.typeName }, { deadlineMs: 1_000 });
        return [service.typeName, HealthCheckResponse_ServingStatus[res.status]] as const;
      } catch {
        return [service.typeName, "UNAVAILABLE"] as const;
      }
    });
    return Object.fromEntries(await Promise.all(checks)) as Record<string, string>;
  };
  const rateLimits = RateLimits.create(settings.rateLimits ?? DEFAULT_RATE_LIMITS, settings.log);
  const handler = createEdgeHandler({
    services: settings.services,
    upstreams,
    log: settings.log,
    cors: { origins: settings.corsOrigins },
    openapi: openApiDocument(settings.services),
    readiness,
    rateLimits,
    identify: settings.identify ?? (tokens ? verifiedIdentity(tokens) : apiKeyIdentity()),
    trustProxyHops: settings.trustProxyHops,
  });
  const server = await startHttpServer(handler, settings.port, settings.host);
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : settings.port;
  const url = `http://${settings.host === "0.0.0.0" ? "127.0.0.1" : settings.host}:${port}`;
  settings.log.info({ url }, "edge listening");
  return {
    url,
    server,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
      upstreams.close();
      identity.close();
      await rateLimits?.close();
    },
  };
}

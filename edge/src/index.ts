import { existsSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import { fileURLToPath } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import { Health, HealthCheckResponse_ServingStatus } from "@inv/gen/grpc/health/v1/health_pb";
import { createGrpcClient, type Logger } from "@inv/platform";
import { buildOpenApi, commentsFromDescriptorSet } from "./openapi/openapi.js";
import { createEdgeHandler, startHttpServer } from "./server.js";
import { Upstreams } from "./upstream.js";

export interface EdgeSettings {
  port: number;
  host: string;
  services: readonly DescService[];
  /** gRPC target of the process serving a service, e.g. "dns:///warehouse:50051". */
  targetOf: (service: DescService) => string;
  log: Logger;
  corsOrigins: readonly string[];
  upstreamDeadlineMs: number;
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
  const upstreams = new Upstreams(settings.services, settings.targetOf, settings.upstreamDeadlineMs);
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
  const handler = createEdgeHandler({
    services: settings.services,
    upstreams,
    log: settings.log,
    cors: { origins: settings.corsOrigins },
    openapi: openApiDocument(settings.services),
    readiness,
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
    },
  };
}
